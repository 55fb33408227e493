import type pg from 'pg';
import type { Logger } from 'pino';
import type { Clock } from './engine.js';
import { PermanentEffectError, RetryableEffectError } from './errors.js';

export interface OutboxItem {
  id: bigint;
  kind: string;
  payload: Record<string, unknown>;
  idempotencyKey: string;
  attempts: number;
}

// The error shape every handler uses lives in errors.ts; re-exported here, where handlers used to find it.
export { PermanentEffectError, RetryableEffectError, RetryLaterError } from './errors.js';

export interface OutboxOptions {
  /** Plain SQL on the pool: the worker's statements run once per effect, next to the requests on the event loop. */
  pool: pg.Pool;
  handle: (item: OutboxItem) => Promise<void>;
  log: Logger;
  clock: Clock;
  /** How long a claimed item stays invisible to other workers; a crashed worker's items come back after it. */
  leaseMs?: number;
  batchSize?: number;
  pollMs?: number;
  maxBackoffMs?: number;
}

/**
 * Delivers outbox rows after their transaction committed. Items are claimed
 * with FOR UPDATE SKIP LOCKED and a lease, so several processes share the work
 * and a killed process loses nothing: its leased items are delivered again
 * (with the same idempotency key) once the lease runs out.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = true;
  private idle: Promise<void> = Promise.resolve();
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly opts: OutboxOptions) {
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.batchSize = opts.batchSize ?? 20;
    this.pollMs = opts.pollMs ?? 1_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5 * 60_000;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.idle;
  }

  /** Something was written: deliver now rather than at the next poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.loop(), ms);
  }

  private async loop(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let release!: () => void;
    this.idle = new Promise((r) => (release = r));
    try {
      let n: number;
      do {
        this.again = false;
        n = await this.drainOnce();
      } while (!this.stopped && (n > 0 || this.again));
    } catch (err) {
      this.opts.log.error({ err }, 'outbox loop failed');
    } finally {
      this.running = false;
      release();
      this.schedule(this.pollMs);
    }
  }

  /** Claims one batch and delivers it; returns how many items were claimed. */
  async drainOnce(): Promise<number> {
    const now = this.opts.clock();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    const { rows } = await this.opts.pool.query<{ id: string; kind: string; payload: Record<string, unknown>; idempotency_key: string; attempts: number }>(
      `UPDATE outbox_item SET lease_until = $1, attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM outbox_item
         WHERE done_at IS NULL AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
         ORDER BY id LIMIT $3
         FOR UPDATE SKIP LOCKED)
       RETURNING id, kind, payload, idempotency_key, attempts`,
      [leaseUntil, now, this.batchSize],
    );
    const items = rows.map((r) => ({ ...r, id: BigInt(r.id) }));
    items.sort((a, b) => (a.id < b.id ? -1 : 1));
    // Items of one batch are delivered in order: a card is posted before it is updated.
    for (const row of items) {
      const item: OutboxItem = { id: row.id, kind: row.kind, payload: row.payload, idempotencyKey: row.idempotency_key, attempts: row.attempts };
      await this.deliver(item, leaseUntil);
    }
    return items.length;
  }

  private async deliver(item: OutboxItem, leaseUntil: Date): Promise<void> {
    const log = this.opts.log.child({ outbox: item.id.toString(), kind: item.kind, line: item.payload.line });
    try {
      await this.opts.handle(item);
      // Done only while this claim still holds the item (the lease it took, the attempt it counted): a worker
      // slower than its lease may have lost the item to another, which is delivering it now and will mark it.
      const marked = await this.opts.pool.query(
        'UPDATE outbox_item SET done_at = $1, lease_until = NULL, last_error = NULL WHERE id = $2 AND attempts = $3 AND lease_until = $4 AND done_at IS NULL',
        [this.opts.clock(), item.id.toString(), item.attempts, leaseUntil],
      );
      if (marked.rowCount === 0) log.warn({ attempts: item.attempts }, 'effect delivered after its lease was lost; not marked done here');
      else log.debug('effect delivered');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Only while this claim still holds the item: if our lease ran out and another
      // worker claimed it (attempts moved on), clearing its lease would let a third
      // worker deliver it at the same time.
      const ours = 'WHERE id = $1 AND attempts = $2 AND done_at IS NULL';
      if (err instanceof PermanentEffectError) {
        log.error({ err }, 'effect cannot be delivered; giving up');
        await this.opts.pool.query(`UPDATE outbox_item SET done_at = $3, lease_until = NULL, last_error = $4 ${ours}`, [
          item.id.toString(),
          item.attempts,
          this.opts.clock(),
          `gave up: ${message}`,
        ]);
        return;
      }
      const delay = err instanceof RetryableEffectError && err.retryAfterMs !== undefined ? err.retryAfterMs : this.backoff(item.attempts);
      log.warn({ err, attempts: item.attempts, retryInMs: delay }, 'effect delivery failed; will retry');
      await this.opts.pool.query(`UPDATE outbox_item SET last_error = $3, lease_until = NULL, next_attempt_at = $4 ${ours}`, [
        item.id.toString(),
        item.attempts,
        message.slice(0, 2000),
        new Date(this.opts.clock().getTime() + delay),
      ]);
    }
  }

  /** Exponential backoff with jitter: 1 s, 2 s, 4 s … capped. */
  private backoff(attempts: number): number {
    const base = Math.min(this.maxBackoffMs, 1000 * 2 ** Math.max(0, attempts - 1));
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  /** For the status page: effects waiting and the oldest error. */
  async pending(): Promise<{ count: number; oldestError: string | null }> {
    const { rows } = await this.opts.pool.query<{ count: number; oldest_error: string | null }>(
      `SELECT count(*)::int AS count,
              (SELECT last_error FROM outbox_item WHERE done_at IS NULL AND last_error IS NOT NULL ORDER BY id LIMIT 1) AS oldest_error
       FROM outbox_item WHERE done_at IS NULL`,
    );
    return { count: rows[0]?.count ?? 0, oldestError: rows[0]?.oldest_error ?? null };
  }
}
