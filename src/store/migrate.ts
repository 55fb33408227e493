// Applies prisma/migrations/*/migration.sql at start-up, without the Prisma CLI
// (which cannot run offline), and interchangeably with `prisma migrate deploy`:
// same advisory lock, same `_prisma_migrations` table and rows. See docs/architecture.md.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Logger } from 'pino';

/** `prisma/migrations` of this package (the same from `src/store` and from the build's `dist/store`). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** The advisory lock key `prisma migrate` takes, so our runner and Prisma's exclude each other. */
export const MIGRATION_LOCK_KEY = 72707369;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Something that runs a query: a pg Client, PoolClient or Pool. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

export interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

/** A migration that failed (now or in an earlier run) and blocks all later ones until resolved. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    /** Prisma's error code: P3009 (a failed migration is recorded), P3018 (a migration failed now). */
    readonly code: 'P3009' | 'P3018',
    readonly migrations: string[],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface LocalMigration {
  name: string;
  script: string;
  checksum: string;
}

/** sha-256 hex of the script's UTF-8 text, as Prisma records it. */
export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/**
 * Whether `checksum` (from `_prisma_migrations`) matches `script`, the way Prisma
 * compares them: CRLF and LF endings match, and so do the non-zero-padded
 * checksums very old Prisma versions wrote.
 */
function checksumMatches(script: string, checksum: string): boolean {
  const variants = [script, script.replace(/\r\n/g, '\n')];
  return variants.some((text) => {
    const digest = createHash('sha256').update(text, 'utf8').digest();
    const hex = checksum.length === 64 ? digest.toString('hex') : [...digest].map((b) => b.toString(16)).join('');
    return hex === checksum;
  });
}

/** Migration directory names, in the order they apply. */
async function migrationNames(migrationsDir: string): Promise<string[]> {
  const entries = await fs.readdir(migrationsDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
}

async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const names = await migrationNames(migrationsDir);
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(migrationsDir, name, 'migration.sql');
      let script: string;
      try {
        script = await fs.readFile(file, 'utf8');
      } catch (error) {
        throw new Error(`migration ${name} has no readable migration.sql (${file})`, { cause: error });
      }
      return { name, script, checksum: migrationChecksum(script) };
    }),
  );
}

async function readRows(db: Queryable): Promise<MigrationRow[]> {
  const table = await db.query(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`);
  if (!table.rows[0]?.present) return [];
  const result = await db.query(
    `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  return result.rows as MigrationRow[];
}

const isFailed = (row: MigrationRow): boolean => row.finished_at === null && row.rolled_back_at === null;
const isApplied = (row: MigrationRow): boolean => row.finished_at !== null && row.rolled_back_at === null;

function failedMigrationsError(failed: MigrationRow[]): MigrationError {
  const details = failed.map((row) => `The \`${row.migration_name}\` migration started at ${row.started_at.toISOString()} failed`).join('\n');
  return new MigrationError(
    'P3009',
    failed.map((row) => row.migration_name),
    'migrate found failed migrations in the target database, new migrations will not be applied. ' +
      'Read more about how to resolve migration issues in a production database: https://pris.ly/d/migrate-resolve\n' +
      `${details}\n` +
      'Fix the cause, then mark it rolled back (`prisma migrate resolve --rolled-back <name>`, or set its rolled_back_at) ' +
      'or applied (`--applied`) before starting again.',
  );
}

/** What Prisma would write in `logs` for a database error. */
function describeDatabaseError(error: unknown, script: string): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as pg.DatabaseError;
  const lines: string[] = [];
  if (e.code) lines.push(`Database error code: ${e.code}`, '');
  lines.push('Database error:', `${e.severity ?? 'ERROR'}: ${e.message}`);
  if (e.detail) lines.push(`DETAIL: ${e.detail}`);
  if (e.hint) lines.push(`HINT: ${e.hint}`);
  if (e.position) {
    const offset = Number(e.position) - 1;
    const line = script.slice(0, offset).split('\n').length;
    lines.push('', `Position: character ${e.position} (line ${line} of migration.sql)`);
  }
  return lines.join('\n');
}

export interface MigrateOptions {
  databaseUrl: string;
  /** Defaults to {@link MIGRATIONS_DIR}. */
  migrationsDir?: string;
  log: Logger;
}

/**
 * Applies the pending migrations, in `localeCompare` order of their directory
 * names, under `pg_advisory_lock(72707369)`: any number of processes may call
 * it at once; each migration is applied once. Throws a {@link MigrationError}
 * when a migration fails now (P3018) or failed before and is not resolved (P3009).
 */
export async function migrate(opts: MigrateOptions): Promise<{ applied: string[] }> {
  const log = opts.log.child({ component: 'migrate' });
  const migrations = await readMigrations(opts.migrationsDir ?? MIGRATIONS_DIR);
  const client = new pg.Client({ connectionString: opts.databaseUrl, application_name: 'conductor-migrate' });
  client.on('error', (error) => log.warn({ err: error }, 'migration connection error'));
  await client.connect();
  const applied: string[] = [];
  try {
    const {
      rows: [got],
    } = await client.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY]);
    if (!got?.locked) {
      log.info('waiting for another process to finish migrating');
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    try {
      await client.query(CREATE_TABLE);
      const rows = await readRows(client);

      const failed = rows.filter(isFailed);
      if (failed.length > 0) {
        const error = failedMigrationsError(failed);
        log.error({ migrations: error.migrations }, 'a failed migration is recorded: refusing to migrate');
        throw error;
      }

      const done = new Map(rows.filter(isApplied).map((row) => [row.migration_name, row]));
      const local = new Set(migrations.map((m) => m.name));
      for (const row of done.values()) {
        if (!local.has(row.migration_name)) {
          log.warn({ migration: row.migration_name }, 'the database has a migration that is not in the migrations directory');
        }
      }

      for (const migration of migrations) {
        const row = done.get(migration.name);
        if (row) {
          if (!checksumMatches(migration.script, row.checksum)) {
            log.warn({ migration: migration.name, recorded: row.checksum, file: migration.checksum }, 'an applied migration was modified since it was applied');
          }
          continue;
        }
        await applyOne(client, migration, log);
        applied.push(migration.name);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  if (applied.length > 0) log.info({ applied }, 'migrations applied');
  else log.debug('database schema up to date');
  return { applied };
}

async function applyOne(client: pg.Client, migration: LocalMigration, log: Logger): Promise<void> {
  const id = randomUUID();
  const t0 = performance.now();
  await client.query('INSERT INTO "_prisma_migrations" (id, checksum, started_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 0)', [
    id,
    migration.checksum,
    migration.name,
  ]);
  try {
    // No parameters: pg sends it as one simple query, which runs every statement
    // of the file in one implicit transaction (as Prisma does).
    await client.query(migration.script);
  } catch (error) {
    // A script with its own BEGIN leaves the session in an aborted transaction.
    await client.query('ROLLBACK').catch(() => undefined);
    const logs = describeDatabaseError(error, migration.script);
    await client.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, logs]);
    log.error({ migration: migration.name, logs }, 'migration failed');
    throw new MigrationError(
      'P3018',
      [migration.name],
      'A migration failed to apply. New migrations cannot be applied before the error is recovered from. ' +
        'Read more about how to resolve migration issues in a production database: https://pris.ly/d/migrate-resolve\n\n' +
        `Migration name: ${migration.name}\n\n${logs}`,
      { cause: error },
    );
  }
  await client.query('UPDATE "_prisma_migrations" SET applied_steps_count = applied_steps_count + 1, finished_at = now() WHERE id = $1', [id]);
  log.info({ migration: migration.name, ms: Math.round(performance.now() - t0) }, 'migration applied');
}

export interface MigrationStatus {
  /** No migration pending and none failed. */
  ok: boolean;
  /** Local migrations not applied yet (failed ones excluded). */
  pending: string[];
  /** Migrations recorded as started but neither finished nor rolled back. */
  failed: string[];
}

export type MigrationStatusOptions = ({ databaseUrl: string } | { client: Queryable }) & { migrationsDir?: string };

/** Read-only: what `GET /readyz` reports. Takes no lock. */
export async function migrationStatus(opts: MigrationStatusOptions): Promise<MigrationStatus> {
  const names = await migrationNames(opts.migrationsDir ?? MIGRATIONS_DIR);
  const read = async (db: Queryable): Promise<MigrationStatus> => {
    const rows = await readRows(db);
    const failed = [...new Set(rows.filter(isFailed).map((r) => r.migration_name))];
    const applied = new Set(rows.filter(isApplied).map((r) => r.migration_name));
    const pending = names.filter((n) => !applied.has(n) && !failed.includes(n));
    return { ok: pending.length === 0 && failed.length === 0, pending, failed };
  };
  if ('client' in opts) return read(opts.client);
  const client = new pg.Client({ connectionString: opts.databaseUrl, application_name: 'conductor-status' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await read(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
