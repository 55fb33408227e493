// The application's connection to PostgreSQL: one pg.Pool, shared by the Prisma
// client (through @prisma/adapter-pg) and by code that needs pg directly.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Logger } from 'pino';
import { PrismaClient } from '../generated/prisma/client.js';
import { describeConnectionProblem } from './connection-problem.js';

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
  // `pool.end()` resolves once every client has been asked to end, not once its connection is closed.
  // Whoever stops the server next (the embedded PostgreSQL, at Conductor's stop) must wait for the
  // latter: a fast shutdown kills the backends still closing and their clients report it as an error.
  const open = new Set<pg.Client>();
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => open.delete(client));
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed: Promise<void> | undefined;
  return {
    prisma,
    pool,
    close: () =>
      (closed ??= (async () => {
        await prisma.$disconnect();
        await pool.end();
        await allEnded([...open], 5_000);
      })()),
  };
}

/** Resolves when every client's connection has closed, or after `timeoutMs` (a stop must not hang on one). */
async function allEnded(clients: pg.Client[], timeoutMs: number): Promise<void> {
  if (clients.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const ended = Promise.all(clients.map((c) => new Promise<void>((resolve) => c.once('end', () => resolve()))));
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([ended, timeout]);
  clearTimeout(timer);
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

/** `DATABASE_URL` names a database Conductor cannot connect to; the message is one sentence for a person. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/**
 * Connects once to `url` (the value of `DATABASE_URL`) and asks `select 1`;
 * throws `DatabaseUnreachableError` saying what to check when that fails
 * (refused, unknown host, wrong password, missing database, no answer).
 */
export async function assertDatabaseReachable(url: string, timeoutMs = 10_000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: 'conductor' });
  client.on('error', () => undefined); // a failed connect also rejects connect(); this only keeps it from crashing
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new DatabaseUnreachableError(describeConnectionProblem(url, error, timeoutMs), { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}
