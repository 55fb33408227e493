// Conductor as `npm start` runs it (`tsx src/main.ts`), in a child process
// with its own environment, for tests of what a person at a terminal sees.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir } from './temp-dirs.js';

const MAIN = path.resolve('src/main.ts');

/** What `npm start` runs (package.json), without npm. */
export const START_COMMAND = [process.execPath, '--import', import.meta.resolve('tsx'), MAIN];

export interface ConductorProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Both streams, interleaved as they arrived. */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started = new Map<ChildProcess, boolean>(); // → in its own process group

/** For `afterAll`: a failed test must not leave a Conductor (and its PostgreSQL) running. SIGTERM stops both cleanly. */
export async function stopLeftovers(): Promise<void> {
  await Promise.all(
    [...started].map(
      ([child, group]) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          if (group) process.kill(-child.pid!, 'SIGTERM');
          else child.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * Starts Conductor as `npm start` does with only `env` (plus PATH and HOME);
 * `npm`: through `npm start` itself. `group`: in a process group of its own,
 * as a shell puts a foreground job, so a test can send a signal to the whole
 * group as a terminal does on Ctrl-C.
 */
export function runConductor(env: Record<string, string>, opts: { cwd: string; group?: boolean; npm?: boolean }): ConductorProcess {
  let out = '';
  let stdout = '';
  let stderr = '';
  const [command, ...args] = opts.npm ? ['npm', '--prefix', path.resolve('.'), 'start'] : START_COMMAND;
  const child = spawn(command!, args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.group === true,
  });
  child.stdout!.on('data', (d) => {
    stdout += d;
    out += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    out += d;
  });
  started.set(child, opts.group === true);
  child.once('exit', () => started.delete(child));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, output: () => out, exited };
}

export async function waitReady(port: number, p: ConductorProcess, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (p.child.exitCode !== null) throw new Error(`exited with ${p.child.exitCode}:\n${p.output().slice(-3000)}`);
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

/** Temporary directories (mode 0755: as root, PostgreSQL runs as `postgres` and must traverse them). */
export function tempDirs(prefix: string) {
  const dirs: string[] = [];
  return {
    async make(): Promise<string> {
      const d = await makeTempDir(prefix);
      await chmod(d, 0o755);
      dirs.push(d);
      return d;
    },
    async removeAll(): Promise<void> {
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
    },
  };
}
