import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createGit, GitExitError, isHexSha, isRejectedPush, Mutex, normalizeRemote } from '../../../src/integrations/git/git.js';
import { tempDir } from './git-fixtures.js';

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
