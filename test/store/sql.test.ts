import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/store/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('inTransaction (the engine transactions on pg)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 3 });
    await db.pool.query('CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL, at timestamptz, tags text[])');
  });
  afterAll(async () => {
    await db.drop();
  });
  const bodies = async () => (await db.pool.query<{ body: string }>('SELECT body FROM note ORDER BY id')).rows.map((r) => r.body);

  it('binds every interpolated value as a parameter, never as SQL text', async () => {
    const evil = "x'); DROP TABLE note; --";
    const at = new Date('2026-11-24T10:15:00.123Z');
    const rows = await inTransaction(db.pool, async (sql) => {
      await sql.execute`INSERT INTO note (body, at, tags) VALUES (${evil}, ${at}, ${['a', "b'c", null]}::text[])`;
      return sql.query<{ body: string; at: Date; tags: (string | null)[] }>`SELECT body, at, tags FROM note WHERE body = ${evil}`;
    });
    expect(rows).toEqual([{ body: evil, at, tags: ['a', "b'c", null] }]);
    expect(await bodies()).toEqual([evil]);
  });

  it('commits what fn did when it returns, and rolls all of it back when it throws', async () => {
    await inTransaction(db.pool, async (sql) => {
      expect(await sql.execute`INSERT INTO note (body) VALUES (${'kept'})`).toBe(1);
    });
    await expect(
      inTransaction(db.pool, async (sql) => {
        await sql.execute`INSERT INTO note (body) VALUES (${'rolled back'})`;
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    // A database error inside fn also rolls back, and the connection is fine afterwards.
    await expect(
      inTransaction(db.pool, async (sql) => {
        await sql.execute`INSERT INTO note (body) VALUES (${'also rolled back'})`;
        await sql.execute`INSERT INTO note (body) VALUES (${null})`;
      }),
    ).rejects.toMatchObject({ code: '23502' });
    expect((await bodies()).slice(-1)).toEqual(['kept']);
    expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('repeatable read sees one snapshot; read only refuses writes', async () => {
    const seen = await inTransaction(
      db.pool,
      async (sql) => {
        const [a] = await sql.query<{ n: string }>`SELECT count(*) AS n FROM note`;
        await db.pool.query(`INSERT INTO note (body) VALUES ('meanwhile')`);
        const [b] = await sql.query<{ n: string }>`SELECT count(*) AS n FROM note`;
        return [a!.n, b!.n];
      },
      { isolation: 'repeatable read', readOnly: true },
    );
    expect(seen[0]).toBe(seen[1]);
    await expect(inTransaction(db.pool, (sql) => sql.execute`INSERT INTO note (body) VALUES ('no')`, { readOnly: true })).rejects.toMatchObject({ code: '25006' });
  });

  it('does not give a connection that died mid-transaction back to the pool', async () => {
    await expect(
      inTransaction(db.pool, async (sql) => {
        const [me] = await sql.query<{ pid: number }>`SELECT pg_backend_pid() AS pid`;
        // Another session kills this one, as a server restart or a network drop would.
        await db.pool.query('SELECT pg_terminate_backend($1)', [me!.pid]).catch(() => undefined);
        await sql.query`SELECT 1`;
      }),
    ).rejects.toThrow();
    // Every later transaction works: the dead client was discarded, not reused.
    for (let i = 0; i < 4; i++) expect(await inTransaction(db.pool, (sql) => sql.query<{ one: number }>`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
  });
});
