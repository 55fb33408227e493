import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/app-harness.js';
import { type ConductorProcess, runConductor, START_COMMAND, stopLeftovers, tempDirs, waitReady } from '../support/conductor-process.js';

const execFileAsync = promisify(execFile);
const STACK_LINE = '    at ';
const PRETTY_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: no config file: running the demo line \{"dataDir":"[^"]+"\}$/m;

/** Pids of the processes whose working directory is `dir` (a postmaster's is its data directory). */
function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (realpathSync(`/proc/${entry}/cwd`) === dir) pids.push(Number(entry));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids;
}

async function until<T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const jsonLines = (p: ConductorProcess) =>
  p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string });

describe('what a person at a terminal sees', () => {
  const dirs = tempDirs('conductor-term-');
  afterAll(async () => {
    await stopLeftovers();
    await dirs.removeAll();
  });

  // A refused DATABASE_URL: Conductor logs its first line, then stops quickly, no PostgreSQL needed.
  async function firstLines(env: Record<string, string>) {
    const dir = await dirs.make();
    const p = runConductor({ DATABASE_URL: `postgres://c:pw@127.0.0.1:${await freePort()}/c`, CONDUCTOR_DATA_DIR: `${dir}/data`, ...env }, { cwd: dir });
    const { code } = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  }

  it('LOG_FORMAT=pretty prints readable lines: local time, level, message, fields', async () => {
    const r = await firstLines({ LOG_FORMAT: 'pretty' });
    expect(r.stdout).toMatch(PRETTY_LINE);
    expect(r.stdout).not.toMatch(/^\{/m);
  }, 30_000);

  it('LOG_FORMAT=json prints one JSON object a line', async () => {
    const r = await firstLines({ LOG_FORMAT: 'json' });
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'no config file: running the demo line' });
  }, 30_000);

  it('without LOG_FORMAT: JSON into a pipe, pretty on a terminal', async () => {
    expect((await firstLines({})).stdout).toMatch(/^\{"level":30,/m);
    // `script` runs the command on a pseudo-terminal, as a person's shell would.
    const dir = await dirs.make();
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: `postgres://c:pw@127.0.0.1:${await freePort()}/c`,
      CONDUCTOR_DATA_DIR: `${dir}/data`,
      NO_COLOR: '1',
    };
    const command = START_COMMAND.map((a) => `'${a}'`).join(' ');
    const { stdout } = await execFileAsync('script', ['-qec', command, '/dev/null'], { cwd: dir, env }).catch((e: { stdout: string }) => e);
    expect(stdout.replaceAll('\r', '')).toMatch(PRETTY_LINE);
  }, 30_000);

  it('a bad LOG_FORMAT stops Conductor with a message naming it', async () => {
    const dir = await dirs.make();
    const p = runConductor({ LOG_FORMAT: 'fancy', CONDUCTOR_DATA_DIR: `${dir}/data` }, { cwd: dir });
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toContain('LOG_FORMAT: expected one of pretty, json, got "fancy"');
    expect(existsSync(`${dir}/data`)).toBe(false);
  }, 30_000);

  it('Ctrl-C (SIGINT to the whole process group) stops `npm start` once, cleanly, and the next start works; the demo clone command works from anywhere', async () => {
    const dir = await dirs.make();
    const port = await freePort();
    const env = { PORT: String(port), CONDUCTOR_DATA_DIR: `${dir}/data`, LOG_FORMAT: 'json' };
    const pgDir = path.join(dir, 'data', 'postgres');

    const first = runConductor(env, { cwd: dir, group: true, npm: true });
    await waitReady(port, first);
    // What the README tells a new user to copy: an absolute path, so it works from any folder.
    const hint = await until('the clone command', () => jsonLines(first).find((l) => l.msg.startsWith('try the demo: git clone ')));
    const [, , source, target] = hint.msg.slice('try the demo: '.length).split(' ');
    expect(path.isAbsolute(source!)).toBe(true);
    expect(target).toBe('/tmp/demo');
    const elsewhere = await dirs.make();
    await execFileAsync('git', ['clone', '-q', source!, 'demo'], { cwd: elsewhere });
    expect(existsSync(path.join(elsewhere, 'demo', 'README.md'))).toBe(true);

    await fetch(`http://127.0.0.1:${port}/api/lines/demo/status`); // a request, so connections are in use
    // As the terminal does: npm, Conductor and anything else in the foreground group get it (and npm forwards it once more).
    process.kill(-first.child.pid!, 'SIGINT');
    await first.exited; // npm's own exit status re-raises the signal it got; Conductor's is in its log
    expect(first.output()).not.toContain(STACK_LINE);
    const lines = jsonLines(first);
    expect(lines.filter((l) => l.msg === 'stopping')).toHaveLength(1);
    expect(lines.at(-1)?.msg, first.output()).toBe('stopped');
    const stopIndex = lines.findIndex((l) => l.msg === 'stopping');
    expect(
      lines.slice(stopIndex).filter((l) => l.level >= 40),
      first.output(),
    ).toEqual([]); // no warnings or errors while stopping
    expect(processesIn(realpathSync(pgDir))).toEqual([]);
    expect(existsSync(path.join(pgDir, 'postmaster.pid'))).toBe(false);

    // The next start finds nothing to recover; the same press delivered twice still stops it once.
    const second = runConductor(env, { cwd: dir, group: true });
    await waitReady(port, second);
    expect(jsonLines(second).some((l) => /stale|left running/.test(l.msg))).toBe(false);
    process.kill(-second.child.pid!, 'SIGINT');
    process.kill(-second.child.pid!, 'SIGINT');
    await until('stopping', () => (jsonLines(second).some((l) => l.msg === 'stopping') ? true : undefined));
    process.kill(-second.child.pid!, 'SIGINT');
    expect((await second.exited).code, second.output()).toBe(0);
    expect(second.output()).not.toContain(STACK_LINE);
    const after = jsonLines(second);
    expect(after.filter((l) => l.msg === 'stopping')).toHaveLength(1);
    expect(after.at(-1)?.msg, second.output()).toBe('stopped');
    expect(processesIn(realpathSync(pgDir))).toEqual([]);
  }, 120_000);

  it("Ctrl-C during the first start (initdb runs in the terminal's group) stops without a stack trace, and the next start works", async () => {
    const dir = await dirs.make();
    const port = await freePort();
    const env = { PORT: String(port), CONDUCTOR_DATA_DIR: `${dir}/data`, LOG_FORMAT: 'json' };
    const p = runConductor(env, { cwd: dir, group: true });
    await until('initdb', () => (jsonLines(p).some((l) => l.msg === 'initialising embedded PostgreSQL cluster') ? true : undefined), 30_000);
    process.kill(-p.child.pid!, 'SIGINT');
    await p.exited;
    expect(p.output()).not.toContain(STACK_LINE);
    // Interrupted in initdb, or (on a fast machine) after it: either way it says it stopped.
    expect(['stopped before start-up finished', 'stopped'], p.output()).toContain(jsonLines(p).at(-1)?.msg);
    expect(processesIn(realpathSync(path.join(dir, 'data', 'postgres')))).toEqual([]);

    const next = runConductor(env, { cwd: dir, group: true });
    await waitReady(port, next);
    process.kill(-next.child.pid!, 'SIGINT');
    expect((await next.exited).code, next.output()).toBe(0);
  }, 120_000);

  it('closing the terminal (SIGHUP to the process group) stops Conductor as cleanly as Ctrl-C, PostgreSQL included', async () => {
    const dir = await dirs.make();
    const port = await freePort();
    const env = { PORT: String(port), CONDUCTOR_DATA_DIR: `${dir}/data`, LOG_FORMAT: 'json' };
    const p = runConductor(env, { cwd: dir, group: true });
    await waitReady(port, p);
    process.kill(-p.child.pid!, 'SIGHUP');
    expect((await p.exited).code, p.output()).toBe(0);
    expect(p.output()).not.toContain(STACK_LINE);
    expect(jsonLines(p).at(-1)?.msg, p.output()).toBe('stopped');
    expect(processesIn(realpathSync(path.join(dir, 'data', 'postgres')))).toEqual([]);
  }, 120_000);

  it('Ctrl-C again while stopping: the same press relayed at once is ignored; a later press exits at once with one line', async () => {
    const dir = await dirs.make();
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.resolve('test/support/stop-forever.ts')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const msgs = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
    await until('ready', () => (msgs().includes('ready') ? true : undefined), 30_000);
    child.kill('SIGINT');
    await until('stopping', () => (msgs().includes('stop started (and never ends)') ? true : undefined));
    child.kill('SIGINT'); // npm forwarding the same Ctrl-C
    await until('ignored', () => (msgs().includes('already stopping') ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_100));
    child.kill('SIGINT'); // a person pressing again
    expect(await exited).toBe(1);
    expect(out).not.toContain(STACK_LINE);
    expect(msgs()).toEqual(['ready', 'stopping', 'stop started (and never ends)', 'already stopping', 'second signal while stopping: exiting at once']);
  }, 30_000);
});
