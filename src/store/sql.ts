// The engine's transactions, on the pg pool the Prisma client also uses.
//
// Every input runs one transaction under its line's lock, so the time a
// transaction holds the lock bounds how many inputs a second one line takes.
// Measured here: a 12-statement transaction costs ~5 ms of Node CPU through
// Prisma's interactive transactions and $queryRaw, ~1.7 ms on the pg client
// directly. The engine's statements are plain SQL either way (load.ts,
// save.ts), so they run here; Prisma stays for the schema, the migrations and
// the reads outside the engine's transactions.
import type pg from 'pg';

/**
 * Tagged-template SQL: every `${value}` becomes a bind parameter ($1, $2…),
 * never text. Values are converted by pg: Date → timestamptz, arrays → SQL
 * arrays, other objects → JSON. Results come back as pg parses them: int8 and
 * numeric as strings, timestamptz as Date, json/jsonb parsed.
 */
export interface Sql {
  query<T = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
  /** A statement without rows to read; returns the number of rows it touched. */
  execute(strings: TemplateStringsArray, ...values: unknown[]): Promise<number>;
}

export interface TransactionOptions {
  isolation?: 'read committed' | 'repeatable read';
  readOnly?: boolean;
}

function text(strings: TemplateStringsArray): string {
  let out = strings[0]!;
  for (let i = 1; i < strings.length; i++) out += `$${i}${strings[i]!}`;
  return out;
}

function over(client: pg.PoolClient): Sql {
  return {
    async query<T>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]> {
      return (await client.query({ text: text(strings), values })).rows as T[];
    },
    async execute(strings: TemplateStringsArray, ...values: unknown[]): Promise<number> {
      return (await client.query({ text: text(strings), values })).rowCount ?? 0;
    },
  };
}

/** A connection-level failure (no SQLSTATE): the session may be anywhere, so it is not reused. */
const lostConnection = (err: unknown): boolean => typeof (err as { code?: unknown })?.code !== 'string' || !/^[0-9A-Z]{5}$/.test((err as { code: string }).code);

/**
 * Runs `fn` in one transaction on a pooled connection: COMMIT when it
 * returns, ROLLBACK when it throws (the error is rethrown). A connection that
 * failed at BEGIN, COMMIT or ROLLBACK without a database error is discarded
 * rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (sql: Sql) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  let discard: Error | undefined;
  // A checked-out client emits 'error' when its server session dies (restart, network drop); the pool
  // listens only to idle ones, and an unheard 'error' would end the process. The query in flight fails too.
  const onError = (err: Error) => (discard = err);
  client.on('error', onError);
  const control = async (statement: string) => {
    try {
      await client.query(statement);
    } catch (err) {
      if (lostConnection(err)) discard = err as Error;
      throw err;
    }
  };
  try {
    const mode = [opts.isolation ? `ISOLATION LEVEL ${opts.isolation.toUpperCase()}` : '', opts.readOnly ? 'READ ONLY' : ''].filter(Boolean).join(' ');
    await control(mode ? `BEGIN ${mode}` : 'BEGIN');
    let result: T;
    try {
      result = await fn(over(client));
    } catch (err) {
      await control('ROLLBACK').catch(() => undefined);
      throw err;
    }
    await control('COMMIT');
    return result;
  } finally {
    client.off('error', onError);
    client.release(discard);
  }
}
