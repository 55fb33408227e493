// Once per test run: a PostgreSQL server for the whole run (DATABASE_URL when
// set, otherwise an embedded one in a fresh temporary directory), and the
// template database `conductor_template`, migrated once, that each test file
// clones (test/support/database.ts).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { type EmbeddedPostgresServer, startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { MIGRATIONS_DIR, migrate } from '../../src/store/migrate.js';
import { TEMPLATE_DATABASE, withDatabase } from './pg-urls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser (or CREATEDB) connection URL on the run's server. */
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = pino({ level: process.env.TEST_LOG_LEVEL || 'warn' });
  let embedded: EmbeddedPostgresServer | undefined;
  let tempDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;

  const teardown = async (): Promise<void> => {
    if (embedded) await embedded.stop();
    else if (adminUrl) await dropTemplate(adminUrl).catch(() => undefined);
    if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
  };

  try {
    if (!adminUrl) {
      tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'conductor-test-'));
      // As root the server runs as `postgres`, which must traverse mkdtemp's 0700 directory.
      await fs.chmod(tempDir, 0o755);
      embedded = await startEmbeddedPostgres({ dataDir: tempDir, log, ephemeral: true });
      adminUrl = embedded.adminUrl;
    }
    await recreateTemplate(adminUrl);
    await migrate({ databaseUrl: withDatabase(adminUrl, TEMPLATE_DATABASE), migrationsDir: MIGRATIONS_DIR, log });
  } catch (error) {
    await teardown();
    throw error;
  }

  project.provide('pgAdminUrl', adminUrl);
  return teardown;
}

async function recreateTemplate(adminUrl: string): Promise<void> {
  await dropTemplate(adminUrl);
  await admin(adminUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(TEMPLATE_DATABASE)}`));
}

/** On a server that is not ours (DATABASE_URL), the template does not outlive the run. */
async function dropTemplate(adminUrl: string): Promise<void> {
  await admin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(TEMPLATE_DATABASE)} WITH (FORCE)`));
}

async function admin(adminUrl: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
