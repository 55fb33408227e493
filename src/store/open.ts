import type { Logger } from 'pino';
import type { Defer } from '../cleanup.js';
import { assertDatabaseReachable, type Database, openDatabase } from './database.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { MIGRATIONS_DIR, migrate } from './migrate.js';

/** The database: DATABASE_URL when set, else an embedded PostgreSQL under the data directory; migrated, then opened. */
export async function openStore(o: { databaseUrl?: string; dataDir: string; log: Logger; defer: Defer }): Promise<{ databaseUrl: string; db: Database }> {
  let databaseUrl = o.databaseUrl;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres({ dataDir: o.dataDir, log: o.log });
    o.defer('embedded postgres', () => pg.stop());
    databaseUrl = pg.url;
  } else {
    await assertDatabaseReachable(databaseUrl);
  }
  await migrate({ databaseUrl, migrationsDir: MIGRATIONS_DIR, log: o.log });
  const db = openDatabase(databaseUrl, { log: o.log, poolSize: 20 });
  o.defer('database', () => db.close());
  return { databaseUrl, db };
}
