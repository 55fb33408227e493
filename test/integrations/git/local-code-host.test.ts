import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CodeHost } from '../../../src/engine/ports/code-host.js';
import { createLocalCodeHost, REVERT_TRAILER } from '../../../src/integrations/git/local-code-host.js';
import { ALICE, BOB, CAROL, Fixture, git, silentLog } from './git-fixtures.js';

const fixtures: Fixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

function setup(): { fx: Fixture; host: CodeHost; base: string } {
  const fx = new Fixture();
  fixtures.push(fx);
  fx.commit(ALICE, 'Initial commit', { 'README.md': '# app\n' });
  const base = fx.pushCommit(BOB, 'Add app', { 'app.txt': 'one\ntwo\nthree\n' });
  const host = createLocalCodeHost({ repo: fx.bare, branch: 'main', workDir: fx.workDir(), lineName: 'web', log: silentLog });
  return { fx, host, base };
}

const ADMIN = { name: 'Ada Admin', email: 'ada@example.com' };

describe('local code host: head and newCommits', () => {
  it('clones on first use and reports the remote head', async () => {
    const { fx, host, base } = setup();
    expect(await host.head()).toBe(base);
    expect(existsSync(path.join(fx.workDir(), '.git'))).toBe(true);
    expect(git(fx.workDir(), ['config', 'user.name'])).toBe('Conductor');
  });

  it('accepts a remote given as a relative path (resolved against the working directory)', async () => {
    const { fx, base } = setup();
    const relative = path.relative(process.cwd(), fx.bare);
    expect(path.isAbsolute(relative)).toBe(false);
    const host = createLocalCodeHost({ repo: relative, branch: 'main', workDir: fx.workDir('rel'), lineName: 'web', log: silentLog });
    expect(await host.head()).toBe(base);
    expect(git(fx.workDir('rel'), ['config', 'remote.origin.url'])).toBe(fx.bare);
    const next = fx.pushCommit(ALICE, 'Next', { 'n.txt': 'n\n' });
    expect((await host.newCommits(base)).commits.map((c) => c.sha)).toEqual([next]);
  });

  it('fails clearly on a branch that does not exist, and recovers once it does', async () => {
    const { fx } = setup();
    const host = createLocalCodeHost({ repo: fx.bare, branch: 'release', workDir: fx.workDir('rel2'), lineName: 'web', log: silentLog });
    await expect(host.head()).rejects.toThrow(/release/);
    expect(existsSync(fx.workDir('rel2'))).toBe(false);
    git(fx.dev, ['push', '--quiet', 'origin', 'HEAD:refs/heads/release']);
    expect(await host.head()).toBe(fx.sha('HEAD'));
  });

  it('finds nothing when nothing was pushed', async () => {
    const { host, base } = setup();
    expect(await host.newCommits(base)).toEqual({ headSha: base, commits: [], rewritten: false });
  });

  it('lists pushed commits oldest first with authors and full messages', async () => {
    const { fx, host, base } = setup();
    await host.head();
    const a = fx.pushCommit(ALICE, 'Fix the login button', { 'login.txt': 'fixed\n' });
    const b = fx.commit(BOB, 'Faster search\n\nUses an index now.\n\n[no-verify]', { 'search.txt': 'fast\n' });
    const c = fx.pushCommit(CAROL, 'Tweak copy', { 'copy.txt': 'hello\n' });

    const result = await host.newCommits(base);

    expect(result.headSha).toBe(c);
    expect(result.rewritten).toBe(false);
    expect(result.commits).toEqual([
      { sha: a, authorName: ALICE.name, authorEmail: ALICE.email, message: 'Fix the login button' },
      { sha: b, authorName: BOB.name, authorEmail: BOB.email, message: 'Faster search\n\nUses an index now.\n\n[no-verify]' },
      { sha: c, authorName: CAROL.name, authorEmail: CAROL.email, message: 'Tweak copy' },
    ]);
    expect(await host.newCommits(a)).toMatchObject({ headSha: c, commits: [{ sha: b }, { sha: c }], rewritten: false });
    expect(await host.newCommits(c)).toEqual({ headSha: c, commits: [], rewritten: false });
  });

  it('includes both sides of a merge, parents before children', async () => {
    const { fx, host, base } = setup();
    git(fx.dev, ['checkout', '--quiet', '-b', 'feature']);
    const side = fx.commit(ALICE, 'Side work', { 'side.txt': 'x\n' });
    git(fx.dev, ['checkout', '--quiet', 'main']);
    const main = fx.commit(BOB, 'Main work', { 'main.txt': 'y\n' });
    git(fx.dev, ['merge', '--quiet', '--no-ff', '-m', 'Merge feature', 'feature'], { who: CAROL });
    const merge = fx.sha('HEAD');
    fx.push();

    const { commits, headSha } = await host.newCommits(base);

    expect(headSha).toBe(merge);
    expect(commits.map((c) => c.sha).sort()).toEqual([side, main, merge].sort());
    expect(commits.at(-1)?.sha).toBe(merge);
  });

  it('reports a force push as rewritten, with the commits after the merge-base', async () => {
    const { fx, host, base } = setup();
    const dropped = fx.pushCommit(ALICE, 'Will be force-pushed away', { 'a.txt': '1\n' });
    expect((await host.newCommits(base)).commits.map((c) => c.sha)).toEqual([dropped]);

    git(fx.dev, ['reset', '--quiet', '--hard', base]);
    const replacement = fx.commit(BOB, 'Replacement', { 'b.txt': '2\n' });
    fx.push(true);

    const result = await host.newCommits(dropped);
    expect(result).toMatchObject({ headSha: replacement, rewritten: true });
    expect(result.commits.map((c) => c.sha)).toEqual([replacement]);
  });

  it('reports a branch moved back as rewritten with no commits', async () => {
    const { fx, host, base } = setup();
    const later = fx.pushCommit(ALICE, 'Later', { 'a.txt': '1\n' });
    await host.head();
    git(fx.dev, ['reset', '--quiet', '--hard', base]);
    fx.push(true);
    expect(await host.newCommits(later)).toEqual({ headSha: base, commits: [], rewritten: true });
  });

  it('treats an unknown sinceSha as rewritten and restarts from the head commit only', async () => {
    const { host, base } = setup();
    const result = await host.newCommits('0123456789abcdef0123456789abcdef01234567');
    expect(result.rewritten).toBe(true);
    expect(result.headSha).toBe(base);
    expect(result.commits.map((c) => c.sha)).toEqual([base]);
    expect((await host.newCommits('not a sha; rm -rf /')).commits.map((c) => c.sha)).toEqual([base]);
  });

  it('accepts an abbreviated sinceSha', async () => {
    const { fx, host, base } = setup();
    const a = fx.pushCommit(ALICE, 'A', { 'a.txt': '1\n' });
    expect((await host.newCommits(base.slice(0, 10))).commits.map((c) => c.sha)).toEqual([a]);
  });

  it('serialises concurrent calls on one clone', async () => {
    const { fx, host, base } = setup();
    const a = fx.pushCommit(ALICE, 'A', { 'a.txt': '1\n' });
    const results = await Promise.all([host.newCommits(base), host.head(), host.newCommits(base), host.head()]);
    expect(results).toEqual([{ headSha: a, commits: [expect.objectContaining({ sha: a })], rewritten: false }, a, expect.anything(), a]);
  });
});

describe('local code host: revert', () => {
  it('pushes a revert commit with the trailer, authored by the requester', async () => {
    const { fx, host } = setup();
    const bad = fx.pushCommit(ALICE, 'Break things', { 'app.txt': 'one\nTWO\nthree\n' });
    const after = fx.pushCommit(BOB, 'Unrelated', { 'other.txt': 'x\n' });

    const result = await host.revert(bad, { idempotencyKey: 'revert:web:1', requestedBy: ADMIN });

    expect(result).toMatchObject({ ok: true, alreadyDone: false });
    if (!result.ok) throw new Error('unreachable');
    expect(fx.remoteHead()).toBe(result.revertSha);
    expect(git(fx.bare, ['rev-parse', `${result.revertSha}^`])).toBe(after);
    expect(fx.remoteFile('app.txt')).toBe('one\ntwo\nthree');
    expect(fx.remoteFile('other.txt')).toBe('x');
    const message = git(fx.bare, ['log', '-1', '--format=%B', result.revertSha]);
    expect(message).toContain('Revert "Break things"');
    expect(message).toContain(`This reverts commit ${bad}.`);
    expect(git(fx.bare, ['log', '-1', `--format=%(trailers:key=${REVERT_TRAILER},valueonly)`, result.revertSha])).toBe('revert:web:1');
    expect(git(fx.bare, ['log', '-1', '--format=%an <%ae>|%cn <%ce>', result.revertSha])).toBe('Ada Admin <ada@example.com>|Conductor <conductor@localhost>');
    // The revert is a new commit like any other.
    expect((await host.newCommits(after)).commits.map((c) => c.sha)).toEqual([result.revertSha]);
  });

  it('is idempotent by key, even after more pushes', async () => {
    const { fx, host } = setup();
    const bad = fx.pushCommit(ALICE, 'Break things', { 'app.txt': 'one\nTWO\nthree\n' });
    const first = await host.revert(bad, { idempotencyKey: 'k-42', requestedBy: ADMIN });
    fx.pull();
    fx.pushCommit(BOB, 'Pushed after the revert', { 'later.txt': 'l\n' });
    const second = await host.revert(bad, { idempotencyKey: 'k-42', requestedBy: ADMIN });

    expect(first).toMatchObject({ ok: true, alreadyDone: false });
    expect(second).toEqual({ ok: true, revertSha: first.ok ? first.revertSha : '', alreadyDone: true });
    const reverts = git(fx.bare, ['log', '--format=%H', `--grep=${REVERT_TRAILER}: k-42`, 'main'])
      .split('\n')
      .filter(Boolean);
    expect(reverts).toHaveLength(1);
  });

  it('reports a conflict and pushes nothing', async () => {
    const { fx, host } = setup();
    const bad = fx.pushCommit(ALICE, 'Change line two', { 'app.txt': 'one\nTWO\nthree\n' });
    const head = fx.pushCommit(BOB, 'Change line two again', { 'app.txt': 'one\nZWEI\nthree\n' });

    const result = await host.revert(bad, { idempotencyKey: 'k-conflict', requestedBy: ADMIN });

    expect(result).toEqual({ ok: false, reason: 'conflict', message: `Reverting ${bad.slice(0, 10)} conflicts with later changes on main (app.txt): revert it by hand.` });
    expect(fx.remoteHead()).toBe(head);
    // The clone is left clean: the next revert works.
    expect(git(fx.workDir(), ['status', '--porcelain'])).toBe('');
    const ok = await host.revert(head, { idempotencyKey: 'k-next', requestedBy: ADMIN });
    expect(ok).toMatchObject({ ok: true, alreadyDone: false });
    expect(fx.remoteFile('app.txt')).toBe('one\nTWO\nthree');
  });

  it('refuses unknown commits, commits not on the branch and merge commits', async () => {
    const { fx, host } = setup();
    const head = fx.remoteHead();
    const missing = await host.revert('0123456789abcdef0123456789abcdef01234567', { idempotencyKey: 'k1', requestedBy: ADMIN });
    expect(missing).toMatchObject({ ok: false, reason: 'unknown-commit' });
    expect(await host.revert('--help', { idempotencyKey: 'k2', requestedBy: ADMIN })).toMatchObject({
      ok: false,
      reason: 'unknown-commit',
    });

    // A commit the clone knows but that is not on the branch (it was force-pushed away).
    const gone = fx.pushCommit(ALICE, 'Soon gone', { 'gone.txt': 'g\n' });
    await host.head();
    git(fx.dev, ['reset', '--quiet', '--hard', head]);
    fx.push(true);
    const notOnBranch = await host.revert(gone, { idempotencyKey: 'k3', requestedBy: ADMIN });
    expect(notOnBranch).toMatchObject({ ok: false, reason: 'unknown-commit' });
    expect(notOnBranch.ok ? '' : notOnBranch.message).toContain('not on main');

    git(fx.dev, ['checkout', '--quiet', '-b', 'feature']);
    fx.commit(ALICE, 'Side', { 'side.txt': 's\n' });
    git(fx.dev, ['checkout', '--quiet', 'main']);
    git(fx.dev, ['merge', '--quiet', '--no-ff', '-m', 'Merge feature', 'feature']);
    const merge = fx.sha('HEAD');
    fx.push();
    expect(await host.revert(merge, { idempotencyKey: 'k4', requestedBy: ADMIN })).toMatchObject({
      ok: false,
      reason: 'merge-commit',
    });
    expect(fx.remoteHead()).toBe(merge);
  });

  it('accepts an abbreviated sha', async () => {
    const { fx, host } = setup();
    const bad = fx.pushCommit(ALICE, 'Bad', { 'bad.txt': 'b\n' });
    const result = await host.revert(bad.slice(0, 8), { idempotencyKey: 'k-short', requestedBy: ADMIN });
    expect(result).toMatchObject({ ok: true });
    expect(fx.remoteFile('bad.txt')).toBeNull();
  });

  it('reports a revert that would change nothing instead of pushing an empty commit', async () => {
    const { fx, host } = setup();
    const bad = fx.pushCommit(ALICE, 'Bad', { 'bad.txt': 'b\n' });
    git(fx.dev, ['revert', '--no-edit', bad], { who: BOB });
    fx.push();
    const head = fx.remoteHead();
    const result = await host.revert(bad, { idempotencyKey: 'k-twice', requestedBy: ADMIN });
    expect(result).toEqual({ ok: false, reason: 'empty', message: `Reverting ${bad.slice(0, 10)} would change nothing: its changes are no longer on main.` });
    expect(fx.remoteHead()).toBe(head);
  });

  it('checkRevert says beforehand whether a revert can be made, and commits and pushes nothing', async () => {
    const { fx, host } = setup();
    const bad = fx.pushCommit(ALICE, 'Change line two', { 'app.txt': 'one\nTWO\nthree\n' });
    const good = fx.pushCommit(CAROL, 'Add notes', { 'notes.txt': 'n\n' });
    const undone = fx.pushCommit(ALICE, 'Bad', { 'bad.txt': 'b\n' });
    git(fx.dev, ['revert', '--no-edit', undone], { who: BOB });
    fx.pushCommit(BOB, 'Change line two again', { 'app.txt': 'one\nZWEI\nthree\n' });
    const head = fx.remoteHead();

    expect(await host.checkRevert(good)).toEqual({ ok: true });
    expect(await host.checkRevert(bad)).toEqual({
      ok: false,
      reason: 'conflict',
      message: `Reverting ${bad.slice(0, 10)} conflicts with later changes on main (app.txt): revert it by hand.`,
    });
    expect(await host.checkRevert(undone)).toEqual({
      ok: false,
      reason: 'empty',
      message: `Reverting ${undone.slice(0, 10)} would change nothing: its changes are no longer on main.`,
    });
    expect(await host.checkRevert('0123456789abcdef0123456789abcdef01234567')).toMatchObject({ ok: false, reason: 'unknown-commit' });
    expect(fx.remoteHead()).toBe(head);
    expect(git(fx.workDir(), ['status', '--porcelain'])).toBe('');
    // The check left the clone usable: the revert it allowed is made.
    expect(await host.revert(good, { idempotencyKey: 'k-after-check', requestedBy: ADMIN })).toMatchObject({ ok: true, alreadyDone: false });
    expect(fx.remoteFile('notes.txt')).toBeNull();
  });

  it('retries when the branch moves between its fetch and its push', async () => {
    const { fx, host } = setup();
    const bad = fx.pushCommit(ALICE, 'Bad', { 'bad.txt': 'b\n' });
    await host.head();
    // The first push Conductor makes finds that someone else has just pushed.
    const hook = path.join(fx.bare, 'hooks', 'pre-receive');
    writeFileSync(
      hook,
      `#!/bin/sh
if [ ! -f moved-once ]; then
  touch moved-once
  unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
  export GIT_AUTHOR_NAME=Carol GIT_AUTHOR_EMAIL=carol@example.com GIT_COMMITTER_NAME=Carol GIT_COMMITTER_EMAIL=carol@example.com
  old=$(git rev-parse refs/heads/main)
  new=$(git commit-tree "$old^{tree}" -p "$old" -m "Sneaked in")
  git update-ref refs/heads/main "$new" "$old"
fi
exit 0
`,
    );
    chmodSync(hook, 0o755);

    const result = await host.revert(bad, { idempotencyKey: 'k-race', requestedBy: ADMIN });

    expect(result).toMatchObject({ ok: true, alreadyDone: false });
    expect(existsSync(path.join(fx.bare, 'moved-once'))).toBe(true);
    const subjects = git(fx.bare, ['log', '--format=%s', '-3', 'main']).split('\n');
    expect(subjects).toEqual(['Revert "Bad"', 'Sneaked in', 'Bad']);
  });

  it('two Conductor clones reverting at once both land', async () => {
    const { fx } = setup();
    const a = fx.pushCommit(ALICE, 'A', { 'a.txt': 'a\n' });
    const b = fx.pushCommit(BOB, 'B', { 'b.txt': 'b\n' });
    const host1 = createLocalCodeHost({ repo: fx.bare, branch: 'main', workDir: fx.workDir('c1'), lineName: 'web', log: silentLog });
    const host2 = createLocalCodeHost({ repo: fx.bare, branch: 'main', workDir: fx.workDir('c2'), lineName: 'web', log: silentLog });
    await Promise.all([host1.head(), host2.head()]);
    const [ra, rb] = await Promise.all([host1.revert(a, { idempotencyKey: 'ka', requestedBy: ADMIN }), host2.revert(b, { idempotencyKey: 'kb', requestedBy: ADMIN })]);
    expect(ra).toMatchObject({ ok: true });
    expect(rb).toMatchObject({ ok: true });
    expect(fx.remoteFile('a.txt')).toBeNull();
    expect(fx.remoteFile('b.txt')).toBeNull();
  });
});

describe('local code host: resetBranch', () => {
  it('backs up the head, force-pushes the target, and is idempotent', async () => {
    const { fx, host, base } = setup();
    fx.pushCommit(ALICE, 'Train commit', { 't.txt': 't\n' });
    const oldHead = fx.pushCommit(BOB, 'Platform commit', { 'p.txt': 'p\n' });
    const backupRef = 'refs/conductor/backup/web/20261124T101500Z';

    expect(await host.resetBranch(base, backupRef)).toEqual({ oldHeadSha: oldHead });
    expect(fx.remoteHead()).toBe(base);
    expect(fx.remoteRef(backupRef)).toBe(oldHead);

    // The same call again (outbox retry): nothing changes.
    expect(await host.resetBranch(base, backupRef)).toEqual({ oldHeadSha: oldHead });
    expect(fx.remoteHead()).toBe(base);
    expect(fx.remoteRef(backupRef)).toBe(oldHead);

    // The reset shows as a rewrite to the next poll, with nothing new.
    expect(await host.newCommits(oldHead)).toEqual({ headSha: base, commits: [], rewritten: true });

    // People push the emergency fix; a late retry must not remove it.
    git(fx.dev, ['fetch', '--quiet']);
    git(fx.dev, ['reset', '--quiet', '--hard', base]);
    const fix = fx.pushCommit(CAROL, 'Emergency fix', { 'fix.txt': 'f\n' });
    expect(await host.resetBranch(base, backupRef)).toEqual({ oldHeadSha: oldHead });
    expect(fx.remoteHead()).toBe(fix);
    expect(fx.remoteRef(backupRef)).toBe(oldHead);
  });

  it('writes the backup even when the branch is already at the target', async () => {
    const { fx, host, base } = setup();
    const backupRef = 'refs/conductor/backup/web/20261124T110000Z';
    expect(await host.resetBranch(base, backupRef)).toEqual({ oldHeadSha: base });
    expect(fx.remoteRef(backupRef)).toBe(base);
    expect(fx.remoteHead()).toBe(base);
  });

  it('extends the backup when commits were pushed on the old head before the force push', async () => {
    const { fx, host, base } = setup();
    const first = fx.pushCommit(ALICE, 'One', { 'one.txt': '1\n' });
    const backupRef = 'refs/conductor/backup/web/20261124T120000Z';
    git(fx.bare, ['update-ref', backupRef, first]); // an earlier attempt wrote only the backup
    const second = fx.pushCommit(BOB, 'Two', { 'two.txt': '2\n' });

    expect(await host.resetBranch(base, backupRef)).toEqual({ oldHeadSha: second });
    expect(fx.remoteRef(backupRef)).toBe(second);
    expect(fx.remoteHead()).toBe(base);
  });

  it('rejects a bad backup ref and an unknown target', async () => {
    const { host, base } = setup();
    await expect(host.resetBranch(base, 'backup/web')).rejects.toThrow(/invalid backup ref/);
    await expect(host.resetBranch('0123456789abcdef0123456789abcdef01234567', 'refs/conductor/backup/web/x')).rejects.toThrow(/not known/);
  });
});
