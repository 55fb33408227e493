/**
 * Listens to `conductor_change` (src/engine/notify.ts) on a dedicated
 * connection: a pooled one cannot LISTEN, since it is handed to others between
 * queries. When the connection is lost, notifications sent meanwhile are lost
 * too: after reconnecting (with backoff) it reports a `*` event, "anything may
 * have changed", so every page fetches itself again.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { CHANGE_CHANNEL, type ChangeEvent } from '../../engine/notify.js';

export interface ListenerOptions {
  databaseUrl: string;
  log: Logger;
  onChange(e: ChangeEvent): void;
  /** First and longest wait before reconnecting (default 100 ms, doubling up to 5 s). */
  backoffMs?: { first: number; max: number };
}

export class ChangeListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wait: number;

  constructor(private readonly o: ListenerOptions) {
    this.wait = o.backoffMs?.first ?? 100;
  }

  /** Connects and listens; when the database is unreachable now, keeps trying in the background. */
  async start(): Promise<void> {
    if (!(await this.connect())) this.retry(false);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.o.databaseUrl, application_name: 'conductor live updates' });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      if (this.stopped) return;
      this.o.log.warn({ err }, 'live updates: the listening connection was lost; reconnecting');
      void client.end().catch(() => undefined);
      this.retry(true);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (n) => {
      if (n.channel !== CHANGE_CHANNEL || !n.payload) return;
      const e = parseChange(n.payload);
      if (e) this.o.onChange(e);
      else this.o.log.warn({ payload: n.payload.slice(0, 200) }, 'live updates: a notification that is not a change event');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      lost = true;
      await client.end().catch(() => undefined);
      this.o.log.warn({ err }, 'live updates: could not listen to the database');
      return false;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return false;
    }
    this.client = client;
    this.wait = this.o.backoffMs?.first ?? 100;
    return true;
  }

  /** Reconnects after a wait that doubles on each failure; `missed`: tell the pages once back. */
  private retry(missed: boolean): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (!(await this.connect())) {
        this.wait = Math.min(this.wait * 2, this.o.backoffMs?.max ?? 5_000);
        return this.retry(missed);
      }
      this.o.log.info('live updates: listening again');
      if (missed) await this.everything();
    }, this.wait);
    this.timer.unref();
  }

  /** A `*` event with a fresh id from the shared sequence, so ids stay increasing. */
  private async everything(): Promise<void> {
    try {
      const res = await this.client?.query<{ id: string }>(`SELECT nextval('change_event_id_seq') AS id`);
      const id = Number(res?.rows[0]?.id);
      if (Number.isSafeInteger(id)) this.o.onChange({ id, line: '*', train: null });
    } catch (err) {
      this.o.log.warn({ err }, 'live updates: could not take an id for the "everything changed" event');
    }
  }
}

/** A notification's payload, checked: it crosses a process boundary. */
export function parseChange(payload: string): ChangeEvent | null {
  try {
    const v = JSON.parse(payload) as Record<string, unknown>;
    const id = typeof v.id === 'string' ? Number(v.id) : v.id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || typeof v.line !== 'string') return null;
    const train = typeof v.train === 'number' && Number.isInteger(v.train) ? v.train : null;
    return { id, line: v.line, train };
  } catch {
    return null;
  }
}
