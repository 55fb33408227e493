// The benchmark run's PostgreSQL: DATABASE_URL when set, else an embedded
// server in its own temporary data directory (removed at the end). Each
// benchmark gets a scratch database, migrated, and dropped afterwards.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { type Database, openDatabase } from '../../src/store/database.js';
import { type EmbeddedPostgresServer, startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { MIGRATIONS_DIR, migrate } from '../../src/store/migrate.js';

export interface BenchServer {
  /** `embedded` or `DATABASE_URL`. */
  kind: string;
  /** PostgreSQL's `version()`. */
  version: string;
  /** A new, migrated database on the server. */
  scratch(label: string, opts?: { poolSize?: number }): Promise<ScratchDatabase>;
  stop(): Promise<void>;
}

export interface ScratchDatabase extends Database {
  url: string;
  name: string;
  /** Closes the connections and drops the database. Safe to call more than once. */
  drop(): Promise<void>;
}

export interface ServerOptions {
  log: Logger;
  /** No fsync (like the test run's cluster). Default false: the durable settings `npm start` uses. */
  ephemeral?: boolean;
}

export async function startBenchServer(opts: ServerOptions): Promise<BenchServer> {
  let adminUrl = process.env.DATABASE_URL?.trim() || undefined;
  let embedded: EmbeddedPostgresServer | undefined;
  let tempDir: string | undefined;
  const kind = adminUrl ? 'DATABASE_URL' : `embedded (temporary, ${opts.ephemeral ? 'fsync off' : 'durable settings'})`;
  if (!adminUrl) {
    tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'conductor-bench-pg-'));
    // As root the server runs as `postgres`, which must traverse mkdtemp's 0700 directory.
    await fs.chmod(tempDir, 0o755);
    try {
      embedded = await startEmbeddedPostgres({ dataDir: tempDir, log: opts.log, ephemeral: opts.ephemeral ?? false });
    } catch (err) {
      await fs.rm(tempDir, { recursive: true, force: true });
      throw err;
    }
    adminUrl = embedded.adminUrl;
  }
  const admin = adminUrl;
  const created = new Set<ScratchDatabase>();
  const version = await withClient(admin, async (c) => (await c.query<{ v: string }>('select version() as v')).rows[0]?.v ?? '?');

  return {
    kind,
    version: version.split(' on ')[0] ?? version,
    async scratch(label, o = {}) {
      const name = `conductor_bench_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
      await withClient(admin, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
      const url = withDatabase(admin, name);
      try {
        await migrate({ databaseUrl: url, migrationsDir: MIGRATIONS_DIR, log: opts.log });
      } catch (err) {
        await dropDatabase(admin, name);
        throw err;
      }
      const db = openDatabase(url, { poolSize: o.poolSize ?? 10, log: opts.log });
      let dropped: Promise<void> | undefined;
      const scratch: ScratchDatabase = {
        ...db,
        url,
        name,
        drop: () =>
          (dropped ??= (async () => {
            created.delete(scratch);
            await db.close().catch(() => undefined);
            // Prisma's adapter may end the pool itself; wait until its connections are really gone, so
            // that DROP … WITH (FORCE) does not kill live ones (they would log errors).
            for (let i = 0; i < 100 && db.pool.totalCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
            await dropDatabase(admin, name);
          })()),
      };
      created.add(scratch);
      return scratch;
    },
    async stop() {
      for (const s of [...created]) await s.drop().catch((err) => opts.log.warn({ err }, 'could not drop a scratch database'));
      if (embedded) await embedded.stop();
      if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`));
}

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'conductor-bench' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
