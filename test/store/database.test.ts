import net from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDatabase, openDatabase } from '../../src/store/database.js';
import { migrationStatus } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const newLine = (name: string) => ({
  name,
  repo: '/tmp/repo.git',
  branch: 'main',
  mode: 'schedule' as const,
  autoTime: [],
  freezes: [],
  timezone: 'Europe/Paris',
  deployedSha: 'a'.repeat(40),
  knownHeadSha: 'a'.repeat(40),
});

describe('createTestDatabase', () => {
  let a: TestDatabase;
  let b: TestDatabase;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([a.drop(), b.drop()]);
  });

  it('gives each caller its own migrated database', async () => {
    expect(a.name).not.toBe(b.name);
    expect(await migrationStatus({ client: a.pool })).toMatchObject({ ok: true });
    expect(await migrationStatus({ client: b.pool })).toMatchObject({ ok: true });

    await a.prisma.line.create({ data: newLine('web') });
    expect(await a.prisma.line.count()).toBe(1);
    expect(await b.prisma.line.count()).toBe(0);
    await b.prisma.line.create({ data: newLine('web') }); // the unique name is per database
    expect(await b.prisma.line.count()).toBe(1);
  });

  it('drop() removes the database and can be called twice', async () => {
    const c = await createTestDatabase({ poolSize: 1 });
    await c.drop();
    await c.drop();
    const gone = await a.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [c.name]);
    expect(gone.rowCount).toBe(0);
  });
});

describe('openDatabase and checkDatabase', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 1 });
  });
  afterAll(() => db.drop());

  it('shares one pool between Prisma and raw queries, and closes once', async () => {
    const opened = openDatabase(db.url, { poolSize: 3 });
    expect(opened.pool.options.max).toBe(3);
    await opened.prisma.line.create({ data: newLine('api') });
    const raw = await opened.pool.query<{ name: string }>('SELECT name FROM line');
    expect(raw.rows).toEqual([{ name: 'api' }]);
    expect(opened.pool.totalCount).toBeGreaterThan(0);
    expect(await checkDatabase(opened.pool)).toMatchObject({ ok: true });
    await opened.close();
    await opened.close();
    expect(opened.pool.ended).toBe(true);
  });

  it('close() resolves only once every connection is closed (so the server may be stopped right after)', async () => {
    const opened = openDatabase(db.url, { poolSize: 3 });
    const ended = new Set<pg.Client>();
    const clients: pg.Client[] = [];
    opened.pool.on('connect', (client) => {
      clients.push(client);
      client.once('end', () => ended.add(client));
    });
    // Three connections at once, then idle in the pool.
    await Promise.all([1, 2, 3].map(() => opened.pool.query('SELECT pg_sleep(0.05)')));
    expect(clients.length).toBeGreaterThan(1);
    await opened.close();
    expect(clients.filter((c) => !ended.has(c))).toEqual([]);
  });

  it('reports an unreachable database without throwing, within the timeout', async () => {
    // A port that accepts connections and never answers: only the timeout ends the check.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const stuck = openDatabase(`postgresql://x:y@127.0.0.1:${port}/none`, { connectionTimeoutMs: 1_000 });
    const t0 = Date.now();
    const result = await checkDatabase(stuck.pool, 300);
    expect(result).toEqual({ ok: false, error: 'no answer within 300 ms' });
    expect(Date.now() - t0).toBeLessThan(2_000);

    // Nothing listening at all: a prompt failure with the driver's reason.
    silent.close();
    const refused = openDatabase(`postgresql://x:y@127.0.0.1:${port}/none`);
    const down = await checkDatabase(refused.pool);
    expect(down.ok).toBe(false);
    expect(down).toMatchObject({ error: expect.stringMatching(/ECONNREFUSED|connect/) });

    await Promise.allSettled([stuck.pool.end(), refused.close()]);
  });
});
