import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/app-harness.js';
import { makeTempDir } from '../support/temp-dirs.js';

const MAIN = path.resolve('src/main.ts');

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `src/main.ts` as `npm start` does (tsx), with its own environment. */
function run(env: Record<string, string>, cwd: string): Proc {
  let out = '';
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitHealthy(port: number, p: Proc, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready after ${ms} ms:\n${p.output().slice(-3000)}`);
}

describe('the Conductor process', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await makeTempDir('conductor-proc-');
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('refuses to start on a bad configuration, naming every bad key', async () => {
    const dir = await tmp();
    const p = run({ PORT: 'abc', SLACK_BOT_TOKEN: 'xoxb-1', CONDUCTOR_DATA_DIR: path.join(dir, 'data') }, dir);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('PORT: expected an integer from 1 to 65535, got "abc"');
    expect(p.output()).toContain('SLACK_SIGNING_SECRET');
    expect(existsSync(path.join(dir, 'data'))).toBe(false); // nothing was started or created
  }, 30_000);

  it('starts on embedded defaults, stops cleanly on SIGTERM, and recovers after SIGKILL', async () => {
    const dir = await tmp();
    const port = await freePort();
    const env = { PORT: String(port), CONDUCTOR_DATA_DIR: path.join(dir, 'data') };

    const first = run(env, dir);
    await waitHealthy(port, first);
    const status = (await (await fetch(`http://127.0.0.1:${port}/api/lines/demo/status`)).json()) as any;
    expect(status).toMatchObject({ line: 'demo', mode: 'schedule', train: null });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(path.join(dir, 'data', 'postgres', 'postmaster.pid'))).toBe(false);

    // A killed process leaves its PostgreSQL running; the next start finds and recovers it.
    const second = run(env, dir);
    await waitHealthy(port, second);
    second.child.kill('SIGKILL');
    await second.exited;
    expect(existsSync(path.join(dir, 'data', 'postgres', 'postmaster.pid'))).toBe(true);

    const third = run(env, dir);
    await waitHealthy(port, third);
    expect(((await (await fetch(`http://127.0.0.1:${port}/api/lines/demo/status`)).json()) as any).line).toBe('demo');
    third.child.kill('SIGINT');
    expect(await third.exited).toBe(0);
  }, 120_000);
});
