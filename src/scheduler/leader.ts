import pg from 'pg';
import type { Logger } from 'pino';

/** Key of the advisory lock that elects the one process running the scheduler. */
export const SCHEDULER_LOCK_KEY = 72707370;

/**
 * Leadership by a session-level PostgreSQL advisory lock on a dedicated
 * connection: if the process dies, its connection closes and the lock moves
 * to whichever process asks next.
 */
export class Leader {
  private client: pg.Client | null = null;
  private leader = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
    private readonly key = SCHEDULER_LOCK_KEY,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.leader) return true;
    try {
      if (!this.client) {
        const client = new pg.Client({ connectionString: this.databaseUrl });
        client.on('error', (err) => {
          this.log.warn({ err }, 'scheduler lock connection lost');
          this.leader = false;
          this.client = null;
        });
        await client.connect();
        this.client = client;
      }
      const res = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [this.key]);
      this.leader = res.rows[0]?.ok === true;
      if (this.leader) this.log.info('this process runs the scheduler');
    } catch (err) {
      this.log.warn({ err }, 'could not try the scheduler lock');
      this.leader = false;
      await this.client?.end().catch(() => {});
      this.client = null;
    }
    return this.leader;
  }

  async release(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.leader = false;
    await c?.end().catch(() => {});
  }
}
