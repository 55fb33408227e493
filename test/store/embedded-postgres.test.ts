import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type EmbeddedPostgresServer, startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { captureLog, WARN } from './capture-log.js';

const dirs: string[] = [];
const servers: EmbeddedPostgresServer[] = [];

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'conductor-embedded-'));
  dirs.push(dir);
  return path.join(dir, 'data');
}

async function start(dataDir: string, extra: { port?: number } = {}) {
  const capture = captureLog();
  const server = await startEmbeddedPostgres({ dataDir, log: capture.log, ephemeral: true, ...extra });
  servers.push(server);
  return { server, ...capture };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const postmasterPid = async (dataDir: string): Promise<number> => Number.parseInt((await fs.readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]!, 10);

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

describe('startEmbeddedPostgres', () => {
  it('initialises, starts with the conductor database, and stops (twice without harm)', async () => {
    const dataDir = await tempDir();
    const { server, messages } = await start(dataDir);

    expect(server.url).toMatch(/^postgresql:\/\/postgres:[0-9a-f]+@127\.0\.0\.1:\d+\/conductor$/);
    expect(server.url).toContain(`:${server.port}/`);
    const [row] = await query<{ db: string; version: string }>(server.url, 'SELECT current_database() AS db, version() AS version');
    expect(row).toMatchObject({ db: 'conductor', version: expect.stringContaining('PostgreSQL 18') });
    expect(messages()).toContain('initialising embedded PostgreSQL cluster');
    await expect(fs.access(path.join(dataDir, 'postgres', 'PG_VERSION'))).resolves.toBeUndefined();
    expect((await fs.stat(path.join(dataDir, 'postgres-password'))).mode & 0o777).toBe(0o600);

    await server.stop();
    await server.stop();
    await expect(query(server.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
    await expect(fs.access(path.join(dataDir, 'postgres', 'postmaster.pid'))).rejects.toThrow();
  });

  it('keeps the data across a restart on the same directory, without initialising again', async () => {
    const dataDir = await tempDir();
    const first = await start(dataDir);
    await query(first.server.url, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$)');
    await first.server.stop();

    const second = await start(dataDir);
    expect(second.messages()).not.toContain('initialising embedded PostgreSQL cluster');
    expect(await query(second.server.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
  });

  it("runs the server in a session of its own, out of reach of a Ctrl-C meant for Conductor (the terminal's process group)", async () => {
    const dataDir = await tempDir();
    const { server } = await start(dataDir);
    const pid = await postmasterPid(dataDir);
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp session ...".
    const fields = async (p: number | 'self') => {
      const stat = await fs.readFile(`/proc/${p}/stat`, 'utf8');
      const [, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { pgrp: Number(pgrp), session: Number(session) };
    };
    const ours = await fields('self');
    const its = await fields(pid);
    expect(its.pgrp).not.toBe(ours.pgrp);
    expect(its.session).not.toBe(ours.session);
    // So a SIGINT to our group (what Ctrl-C sends) cannot reach it.
    expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('uses the port it is given', async () => {
    const port = await freePort();
    const { server } = await start(await tempDir(), { port });
    expect(server.port).toBe(port);
    expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('stops a server left running on its directory (as a killed process leaves it) and starts anew', async () => {
    const dataDir = await tempDir();
    const first = await start(dataDir);
    await query(first.server.url, 'CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
    const stalePid = await postmasterPid(dataDir);

    // The first server is never stopped, as if its Node process had been killed.
    const second = await start(dataDir);

    expect(alive(stalePid)).toBe(false);
    expect(second.entries.some((e) => e.level === WARN && e.serverPid === stalePid)).toBe(true);
    expect(await postmasterPid(dataDir)).not.toBe(stalePid);
    expect(await query(second.server.url, 'SELECT v FROM kept')).toEqual([{ v: 42 }]);
    await first.server.stop(); // its server is already gone: returns at once
  });

  it('removes a stale postmaster.pid whose process is dead and starts', async () => {
    const dataDir = await tempDir();
    const first = await start(dataDir);
    await first.server.stop();
    const deadPid = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid!));
    });
    await fs.writeFile(
      path.join(dataDir, 'postgres', 'postmaster.pid'),
      `${deadPid}\n${path.join(dataDir, 'postgres')}\n1700000000\n${first.server.port}\n\n127.0.0.1\n  1234567     12345\nready   \n`,
    );

    const second = await start(dataDir);
    expect(second.messages(WARN)).toContain('removing a stale postmaster.pid (its process is gone)');
    expect(await query(second.server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('fails with what PostgreSQL said when it cannot start', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const capture = captureLog();
      const failure = await startEmbeddedPostgres({ dataDir: await tempDir(), log: capture.log, ephemeral: true, port }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toContain(`failed to start`);
      expect((failure as Error).message).toMatch(/could not bind IPv4 address "127\.0\.0\.1": Address already in use/);
      expect(capture.entries.some((e) => e.level >= 50 && Array.isArray(e.lines))).toBe(true);
    } finally {
      blocker.close();
    }
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
