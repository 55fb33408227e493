// `npm run db:migrate`: applies the pending migrations and exits.
// DATABASE_URL when set; otherwise the embedded PostgreSQL under
// CONDUCTOR_DATA_DIR (default ./.conductor), started for the occasion.
import { pino } from 'pino';
import { type EmbeddedPostgresServer, startEmbeddedPostgres } from './embedded-postgres.js';
import { MIGRATIONS_DIR, migrate } from './migrate.js';

const log = pino({ level: process.env.LOG_LEVEL || 'info', base: { app: 'conductor', cmd: 'db:migrate' } });

async function main(): Promise<void> {
  let embedded: EmbeddedPostgresServer | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const dataDir = process.env.CONDUCTOR_DATA_DIR || './.conductor';
    embedded = await startEmbeddedPostgres({ dataDir, log });
    databaseUrl = embedded.url;
  }
  try {
    const { applied } = await migrate({ databaseUrl, migrationsDir: MIGRATIONS_DIR, log });
    log.info({ applied, count: applied.length }, applied.length ? 'migrated' : 'nothing to migrate');
  } finally {
    await embedded?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log.error({ err: error }, 'migration failed');
    process.exit(1);
  },
);
