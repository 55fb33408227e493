import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../support/app-harness.js';
import { runConductor, stopLeftovers, tempDirs } from '../support/conductor-process.js';

/**
 * A DATABASE_URL Conductor cannot use stops it with one sentence that names
 * the variable (password hidden) and what to check: no driver stack trace.
 */
describe('a database that cannot be reached', () => {
  const dirs = tempDirs('conductor-db-');
  afterAll(async () => {
    await stopLeftovers();
    await dirs.removeAll();
  });

  async function start(databaseUrl: string) {
    const dir = await dirs.make();
    const p = runConductor({ DATABASE_URL: databaseUrl, PORT: String(await freePort()), CONDUCTOR_DATA_DIR: `${dir}/data`, LOG_FORMAT: 'json' }, { cwd: dir });
    const { code } = await p.exited;
    return { code, stderr: p.stderr(), output: p.output() };
  }

  function expectOneSentence(stderr: string, shown: string, check: RegExp) {
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain(`Conductor cannot start: cannot connect to the database at DATABASE_URL=${shown}: `);
    expect(lines[0]).toMatch(check);
    expect(lines[0]).toMatch(/\.$/);
  }

  it('refused port: says nothing listens there', async () => {
    const port = await freePort(); // free: nothing listens on it
    const r = await start(`postgres://conductor:SECRET-pw-1@127.0.0.1:${port}/conductor`);
    expect(r.code).not.toBe(0);
    expectOneSentence(r.stderr, `postgres://conductor:***@127.0.0.1:${port}/conductor`, /nothing accepts connections on 127\.0\.0\.1 port \d+; check that PostgreSQL runs there/);
    expect(r.output).not.toContain('SECRET-pw-1');
    expect(r.output).not.toContain('    at ');
  }, 30_000);

  it('unknown host: says the host name cannot be resolved', async () => {
    const r = await start('postgresql://conductor:SECRET-pw-2@db.conductor.invalid:5432/conductor');
    expect(r.code).not.toBe(0);
    expectOneSentence(
      r.stderr,
      'postgresql://conductor:***@db.conductor.invalid:5432/conductor',
      /the host name "db\.conductor\.invalid" cannot be resolved; check the host in DATABASE_URL/,
    );
    expect(r.output).not.toContain('SECRET-pw-2');
    expect(r.output).not.toContain('    at ');
  }, 30_000);

  it("wrong password (the test run's embedded server checks passwords): says the password was refused", async () => {
    const url = new URL(inject('pgAdminUrl'));
    url.password = 'SECRET-wrong-3';
    const shown = new URL(url);
    shown.password = '***';
    const shownText = shown.toString().replace('%2A%2A%2A', '***');
    // The embedded server checks passwords (scram-sha-256); a DATABASE_URL server of the test run might trust local connections.
    const probe = new pg.Client({ connectionString: url.toString() });
    probe.on('error', () => undefined);
    const accepted = await probe.connect().then(
      () => true,
      () => false,
    );
    await probe.end().catch(() => undefined);
    expect(accepted, 'the test server accepts any password (trust authentication): a wrong password cannot be tested on it').toBe(false);

    const r = await start(url.toString());
    expect(r.code).not.toBe(0);
    expectOneSentence(r.stderr, shownText, new RegExp(`PostgreSQL refused the password of user "${url.username}"; check the user and password in DATABASE_URL`));
    expect(r.output).not.toContain('SECRET-wrong-3');
    expect(r.output).not.toContain('    at ');
  }, 30_000);
});
