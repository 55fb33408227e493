import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isInterrupted } from '../../../src/engine/ports/code-host.js';
import { createGit, GitExitError, GitInterruptedError, isHexSha, isRejectedPush, Mutex, normalizeRemote } from '../../../src/integrations/git/git.js';
import { tempDir } from './git-fixtures.js';

/** The git and the sleep of our alias, by their command lines. */
function processesWith(marker: string, seconds: string): { git?: number; sleep?: number } {
  const found: { git?: number; sleep?: number } = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone
    }
    if (argv[1] === marker && path.basename(argv[0] ?? '') === 'git') found.git = Number(entry);
    else if (argv[0] === 'sleep' && argv[1] === seconds) found.sleep = Number(entry);
  }
  return found;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

async function until<T>(fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('git helpers', () => {
  it('normalizeRemote keeps URLs and scp-like remotes and makes paths absolute', () => {
    expect(normalizeRemote('https://github.com/acme/web.git')).toBe('https://github.com/acme/web.git');
    expect(normalizeRemote('file:///srv/git/web.git')).toBe('file:///srv/git/web.git');
    expect(normalizeRemote('ssh://git@host/acme/web.git')).toBe('ssh://git@host/acme/web.git');
    expect(normalizeRemote('git@github.com:acme/web.git')).toBe('git@github.com:acme/web.git');
    expect(normalizeRemote('/srv/git/web.git')).toBe('/srv/git/web.git');
    expect(normalizeRemote('repos/web.git')).toBe(path.resolve('repos/web.git'));
    expect(normalizeRemote('./a:b/web.git')).toBe(path.resolve('./a:b/web.git'));
  });

  it('every non-zero git exit is a GitExitError with its code, even with nothing on stderr', async () => {
    const dir = tempDir();
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const git = createGit(dir);
    await git.raw(['init', '--quiet']);
    const silent = await git.raw(['diff', '--quiet', '--exit-code', '--no-index', '/dev/null', '/dev/null']);
    expect(silent).toBe('');
    const err = await git.raw(['rev-parse', '--verify', '--quiet', 'nope^{commit}']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitExitError);
    expect((err as GitExitError).exitCode).toBe(1);
    const fatal = await git.raw(['log', 'no-such-rev']).catch((e: unknown) => e);
    expect(fatal).toBeInstanceOf(GitExitError);
    expect((fatal as GitExitError).exitCode).toBe(128);
    expect((fatal as Error).message).toMatch(/no-such-rev/);
  });

  it('a git killed by a signal (the terminal closing on its process group) is an error, not a success', async () => {
    const dir = tempDir();
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const git = createGit(dir);
    await git.raw(['init', '--quiet']);
    // An alias that holds git open (git waits for its shell); the marker and the odd duration find them among others.
    const marker = `hold-${process.pid}-${Date.now()}`;
    const seconds = `29.${String(Date.now() % 1e6).padStart(6, '0')}`;
    execFileSync('git', ['config', `alias.${marker}`, `!sleep ${seconds}`], { cwd: dir }); // simple-git refuses to write an alias
    const running = git.raw([marker]).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    const pids = await until(() => {
      const found = processesWith(marker, seconds);
      return found.git && found.sleep ? found : undefined;
    });
    onTestFinished(() => void (pids.sleep && kill(pids.sleep, 'SIGKILL')));
    kill(pids.git!, 'SIGHUP');
    const err = await running;
    expect(err).not.toBe('resolved');
    expect(err).toBeInstanceOf(GitInterruptedError);
    expect(isInterrupted(err)).toBe(true);
    expect((err as Error).message).toMatch(/stopped by a signal/);
    expect(isInterrupted(new GitExitError(128, 'fatal: x', ''))).toBe(false);
  });

  it('isHexSha and isRejectedPush', () => {
    expect(isHexSha('abc1234')).toBe(true);
    expect(isHexSha('--help')).toBe(false);
    expect(isHexSha('HEAD~1')).toBe(false);
    expect(isRejectedPush(new Error(' ! [rejected]        main -> main (fetch first)'))).toBe(true);
    expect(isRejectedPush(new Error(' ! [rejected]        main -> main (stale info)'))).toBe(true);
    expect(isRejectedPush(new Error(" ! [remote rejected] HEAD -> main (cannot lock ref 'refs/heads/main': is at 1 but expected 2)"))).toBe(true);
    expect(isRejectedPush(new Error(' ! [remote rejected] HEAD -> main (pre-receive hook declined)'))).toBe(false);
    expect(isRejectedPush(new Error('fatal: could not read from remote repository'))).toBe(false);
  });

  it('Mutex runs tasks one at a time, in order, and survives failures', async () => {
    const m = new Mutex();
    const events: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      m.run(async () => {
        events.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        events.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a', 30), task('b', 10, true), task('c', 1)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
