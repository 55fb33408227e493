import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, MigrationError, migrate, migrationStatus } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { captureLog, ERROR, WARN } from './capture-log.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

async function localMigrations(dir = MIGRATIONS_DIR): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
}

/** A copy of the real migrations directory, plus extra migrations, in a temporary directory. */
async function migrationsWith(extra: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'conductor-migrations-'));
  await fs.cp(MIGRATIONS_DIR, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    await fs.mkdir(path.join(dir, name));
    await fs.writeFile(path.join(dir, name, 'migration.sql'), sql);
  }
  tempDirs.push(dir);
  return dir;
}

interface Row {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

async function rows(db: TestDatabase): Promise<Row[]> {
  const result = await db.pool.query<Row>('SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name');
  return result.rows;
}

const tempDirs: string[] = [];
const databases: TestDatabase[] = [];
async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ migrated: false, poolSize: 2 });
  databases.push(db);
  return db;
}

afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});
afterAll(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

describe('migrate', () => {
  let names: string[];
  beforeAll(async () => {
    names = await localMigrations();
  });

  it('finds the package migrations directory', async () => {
    expect(MIGRATIONS_DIR).toBe(path.resolve('prisma/migrations'));
    expect(names.length).toBeGreaterThan(0);
    expect(names[0]).toBe('20261124201027_init');
  });

  it('applies every migration on an empty database, in order, then nothing on a second run', async () => {
    const db = await emptyDatabase();
    const { log } = captureLog();

    const first = await migrate({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR, log });
    expect(first.applied).toEqual(names);
    const tables = await db.pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['line', 'commit', 'train', 'ticket', 'job', 'outbox_item', 'processed_input', '_prisma_migrations']));

    const second = await migrate({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR, log });
    expect(second.applied).toEqual([]);
    expect(await rows(db)).toHaveLength(names.length);
  });

  it('records rows exactly as prisma migrate deploy does', async () => {
    const db = await emptyDatabase();
    await migrate({ databaseUrl: db.url, log: captureLog().log });

    const recorded = await rows(db);
    expect(recorded.map((r) => r.migration_name)).toEqual(names);
    for (const row of recorded) {
      const script = await fs.readFile(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'), 'utf8');
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.checksum).toBe(sha256(script));
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
    }

    const columns = await db.pool.query<{ column_name: string; data_type: string; len: number | null; nullable: string; dflt: string | null }>(
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable AS nullable, column_default AS dflt
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.rows).toEqual([
      { column_name: 'id', data_type: 'character varying', len: 36, nullable: 'NO', dflt: null },
      { column_name: 'checksum', data_type: 'character varying', len: 64, nullable: 'NO', dflt: null },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', len: null, nullable: 'YES', dflt: null },
      { column_name: 'migration_name', data_type: 'character varying', len: 255, nullable: 'NO', dflt: null },
      { column_name: 'logs', data_type: 'text', len: null, nullable: 'YES', dflt: null },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', len: null, nullable: 'YES', dflt: null },
      { column_name: 'started_at', data_type: 'timestamp with time zone', len: null, nullable: 'NO', dflt: 'now()' },
      { column_name: 'applied_steps_count', data_type: 'integer', len: null, nullable: 'NO', dflt: '0' },
    ]);
  });

  it('applies each migration exactly once when five processes migrate one empty database at once', async () => {
    const db = await emptyDatabase();
    const { log } = captureLog();

    const results = await Promise.all(Array.from({ length: 5 }, () => migrate({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR, log })));

    expect(results.flatMap((r) => r.applied).sort()).toEqual([...names].sort());
    expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
    const recorded = await rows(db);
    expect(recorded.map((r) => r.migration_name)).toEqual(names);
    expect(recorded.every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
  });

  it('records a failed migration (logs, no finished_at, nothing of it applied) and refuses to run again, naming it', async () => {
    const bad = '99990101000000_bad';
    const dir = await migrationsWith({
      [bad]: 'CREATE TABLE half_done (id int);\nINSERT INTO half_done VALUES (1);\nSELECT * FROM no_such_table;\n',
    });
    const db = await emptyDatabase();
    const { log, messages } = captureLog();

    const failure = await migrate({ databaseUrl: db.url, migrationsDir: dir, log }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).code).toBe('P3018');
    expect((failure as MigrationError).message).toContain(bad);
    expect((failure as MigrationError).message).toContain('no_such_table');
    expect(messages(ERROR)).toContain('migration failed');

    const recorded = await rows(db);
    expect(recorded.map((r) => r.migration_name)).toEqual([...names, bad]);
    const failed = recorded.at(-1)!;
    expect(failed.finished_at).toBeNull();
    expect(failed.rolled_back_at).toBeNull();
    expect(failed.applied_steps_count).toBe(0);
    expect(failed.logs).toContain('relation "no_such_table" does not exist');
    expect(failed.logs).toContain('42P01');
    expect(failed.logs).toContain('line 3');
    // The whole file ran as one implicit transaction: nothing of it stayed.
    const table = await db.pool.query(`SELECT to_regclass('half_done') AS t`);
    expect(table.rows[0].t).toBeNull();

    // Even with the cause fixed, a recorded failure blocks start-up until resolved (Prisma's P3009).
    const fixed = await migrationsWith({ [bad]: 'CREATE TABLE half_done (id int);\n' });
    const refusal = await migrate({ databaseUrl: db.url, migrationsDir: fixed, log }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(MigrationError);
    expect((refusal as MigrationError).code).toBe('P3009');
    expect((refusal as MigrationError).migrations).toEqual([bad]);
    expect((refusal as MigrationError).message).toContain(`The \`${bad}\` migration started at`);
    expect(await rows(db)).toHaveLength(names.length + 1);

    // `prisma migrate resolve --rolled-back` sets rolled_back_at; then the fixed migration applies, in a new row.
    await db.pool.query('UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1', [bad]);
    expect(await migrate({ databaseUrl: db.url, migrationsDir: fixed, log })).toEqual({ applied: [bad] });
    const after = (await rows(db)).filter((r) => r.migration_name === bad);
    expect(after).toHaveLength(2);
    expect(after.filter((r) => r.finished_at !== null && r.rolled_back_at === null)).toHaveLength(1);
  });

  it('recovers the session when a failing migration had its own BEGIN', async () => {
    const bad = '99990101000000_explicit_transaction';
    const dir = await migrationsWith({ [bad]: 'BEGIN;\nCREATE TABLE t1 (id int);\nSELECT 1/0;\nCOMMIT;\n' });
    const db = await emptyDatabase();

    await expect(migrate({ databaseUrl: db.url, migrationsDir: dir, log: captureLog().log })).rejects.toThrow(/division by zero/);
    const failed = (await rows(db)).find((r) => r.migration_name === bad)!;
    expect(failed.finished_at).toBeNull();
    expect(failed.logs).toContain('division by zero');
    const table = await db.pool.query(`SELECT to_regclass('t1') AS t`);
    expect(table.rows[0].t).toBeNull();
  });

  it('warns when an applied migration was edited, and does not run it again', async () => {
    const db = await emptyDatabase();
    await migrate({ databaseUrl: db.url, log: captureLog().log });
    const dir = await migrationsWith({});
    await fs.appendFile(path.join(dir, names[0]!, 'migration.sql'), '\n-- edited after the fact\n');

    const { log, entries } = captureLog();
    expect(await migrate({ databaseUrl: db.url, migrationsDir: dir, log })).toEqual({ applied: [] });
    const warning = entries.find((e) => e.level === WARN && e.msg === 'an applied migration was modified since it was applied');
    expect(warning).toMatchObject({ migration: names[0] });
  });

  it('treats CRLF line endings as the same script, as Prisma does', async () => {
    const db = await emptyDatabase();
    await migrate({ databaseUrl: db.url, log: captureLog().log });
    const dir = await migrationsWith({});
    const file = path.join(dir, names[0]!, 'migration.sql');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace(/\n/g, '\r\n'));

    const { log, messages } = captureLog();
    await migrate({ databaseUrl: db.url, migrationsDir: dir, log });
    expect(messages(WARN)).toEqual([]);
  });
});

describe('migrationStatus', () => {
  it('reports pending migrations, then ok, then a new pending one, then a failed one', async () => {
    const names = await localMigrations();
    const db = await emptyDatabase();

    expect(await migrationStatus({ databaseUrl: db.url })).toEqual({ ok: false, pending: names, failed: [] });

    await migrate({ databaseUrl: db.url, log: captureLog().log });
    expect(await migrationStatus({ client: db.pool, migrationsDir: MIGRATIONS_DIR })).toEqual({ ok: true, pending: [], failed: [] });

    const next = '99990101000000_next';
    const withNext = await migrationsWith({ [next]: 'CREATE TABLE next_one (id int);' });
    expect(await migrationStatus({ client: db.pool, migrationsDir: withNext })).toEqual({ ok: false, pending: [next], failed: [] });

    const withBad = await migrationsWith({ [next]: 'SELECT * FROM nowhere;' });
    await expect(migrate({ databaseUrl: db.url, migrationsDir: withBad, log: captureLog().log })).rejects.toThrow(next);
    expect(await migrationStatus({ databaseUrl: db.url, migrationsDir: withBad })).toEqual({ ok: false, pending: [], failed: [next] });
  });
});
