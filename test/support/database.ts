// A fresh, migrated database per call, cloned from the run's template
// (test/support/global-setup.ts): test files stay isolated and run in parallel.
//
//   let db: TestDatabase;
//   beforeAll(async () => { db = await createTestDatabase(); });
//   afterAll(() => db.drop());
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { openDatabase } from '../../src/store/database.js';
import { TEMPLATE_DATABASE, withDatabase } from './pg-urls.js';

export interface TestDatabase {
  /** Connection URL of this database. */
  url: string;
  name: string;
  prisma: PrismaClient;
  pool: pg.Pool;
  /** Closes the connections and drops the database. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Pool size of `pool` (shared with `prisma`); default 10. */
  poolSize?: number;
  /** false: an empty database (no schema, no `_prisma_migrations`), for migration tests. Default true. */
  migrated?: boolean;
}

export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const name = `conductor_test_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, async (client) => {
    const template = opts.migrated === false ? 'template0' : TEMPLATE_DATABASE;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)} TEMPLATE ${client.escapeIdentifier(template)}`);
  });
  const url = withDatabase(adminUrl, name);
  const db = openDatabase(url, { poolSize: opts.poolSize ?? 10 });
  let dropped: Promise<void> | undefined;
  return {
    url,
    name,
    prisma: db.prisma,
    pool: db.pool,
    drop: () =>
      (dropped ??= (async () => {
        await db.close();
        await admin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
      })()),
  };
}

async function admin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
