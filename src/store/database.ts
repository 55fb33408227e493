// The application's connection to PostgreSQL: one pg.Pool, shared by the Prisma
// client (through @prisma/adapter-pg) and by code that needs pg directly.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Logger } from 'pino';
import { PrismaClient } from '../generated/prisma/client.js';

export interface DatabaseOptions {
  /** Maximum connections in the pool (default 10). */
  poolSize?: number;
  /** How long a query waits for a free connection before failing (default 10 s). */
  connectionTimeoutMs?: number;
  /** Receives errors of idle connections (a server restart, a network drop). */
  log?: Logger;
}

export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  /** Disconnects Prisma and ends the pool. Safe to call more than once. */
  close(): Promise<void>;
}

export function openDatabase(url: string, opts: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10_000,
    application_name: 'conductor',
  });
  // An idle client's error is emitted on the pool; without a listener it would crash the process.
  pool.on('error', (error) => opts.log?.warn({ err: error }, 'idle database connection failed'));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed: Promise<void> | undefined;
  return {
    prisma,
    pool,
    close: () =>
      (closed ??= (async () => {
        await prisma.$disconnect();
        await pool.end();
      })()),
  };
}

export type DatabaseCheck = { ok: true; ms: number } | { ok: false; error: string };

/** Readiness: `select 1` answered within `timeoutMs` (default 2 s). Never throws. */
export async function checkDatabase(pool: pg.Pool, timeoutMs = 2_000): Promise<DatabaseCheck> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    // The race also covers waiting for a free connection or for the connection itself.
    await Promise.race([pool.query('select 1'), timeout]);
    return { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
