import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SimpleGit } from 'simple-git';
import type { CodeHost, CommitInfo, NewCommits, RevertCheck, RevertResult } from '../../engine/ports/code-host.js';
import { createGit, exitCodeAs, GitExitError, isHexSha, isRejectedPush, Mutex, normalizeRemote, pathExists, removeStaleIndexLock } from './git.js';

/**
 * CodeHost over plain git (simple-git): works with any remote git can reach,
 * including a local bare repository. Conductor keeps its own clone of the line
 * in `workDir`; every operation fetches first, and operations on one clone are
 * serialised (they share a work tree).
 *
 * Decisions:
 * - The clone is single-branch, without tags; HEAD is always detached, so no
 *   local branch can drift from the remote one.
 * - `newCommits` runs a fetch and three small commands (`rev-parse`,
 *   `merge-base`, one `git log since..head`): git walks only the
 *   commits between the two ends, so the cost follows the number of new commits,
 *   not the length of history.
 * - An unknown `sinceSha` (not in our clone nor on the remote, e.g. garbage
 *   collected after a rewrite, or a fresh clone after a force push) cannot be
 *   placed in history: it is reported as `rewritten: true` with the head commit
 *   only, so the line restarts from head (rule 1) and nothing from before it is
 *   put on a train; a warning is logged.
 * - `revert` authors the revert commit as the person who asked for it (Conductor
 *   commits it); it refuses commits that are not on the branch
 *   (`unknown-commit`), merge commits, conflicts and a revert that would change
 *   nothing (`empty`), each with a one-sentence message; `checkRevert` answers
 *   the same without committing, so a command can refuse at once.
 * - `resetBranch` never loses a head: the backup ref is written before the force
 *   push, the force push uses a lease on the head it backed up, and a retry after
 *   people pushed on top of the reset does not reset again.
 */

export const REVERT_TRAILER = 'Conductor-Revert-Key';
const REVERT_SEARCH_DEPTH = 500;
const PUSH_ATTEMPTS = 5;

export interface LocalCodeHostOptions {
  /** Any git URL or path, including a local bare repository. */
  repo: string;
  branch: string;
  /** Where Conductor keeps its own clone of this line. */
  workDir: string;
  lineName: string;
  log: Logger;
  /** Committer identity; default Conductor <conductor@localhost>. */
  gitAuthor?: { name: string; email: string };
  /** Token for HTTPS remotes (GITHUB_TOKEN), never written to disk or logs. */
  httpToken?: string;
}

// Over 80 lines on purpose: a factory whose short inner functions share the clone and its lock (each method is under 80 lines).
export function createLocalCodeHost(opts: LocalCodeHostOptions): CodeHost {
  const { branch, workDir } = opts;
  const repo = normalizeRemote(opts.repo);
  const log = opts.log.child({ line: opts.lineName, component: 'code-host' });
  const committer = opts.gitAuthor ?? { name: 'Conductor', email: 'conductor@localhost' };
  const remoteRef = `refs/remotes/origin/${branch}`;
  const branchRef = `refs/heads/${branch}`;
  const mutex = new Mutex();
  let clone: Promise<SimpleGit> | null = null;

  function ensureClone(): Promise<SimpleGit> {
    clone ??= openOrClone().catch((err: unknown) => {
      clone = null; // try again next time
      throw err;
    });
    return clone;
  }

  function localConfig(): Record<string, string> {
    return {
      'remote.origin.url': repo,
      'remote.origin.fetch': `+${branchRef}:${remoteRef}`,
      'user.name': committer.name,
      'user.email': committer.email,
      'advice.detachedHead': 'false',
      'gc.autoDetach': 'false', // no background gc racing our next command
    };
  }

  async function openOrClone(): Promise<SimpleGit> {
    if (branch.startsWith('-') || /[\s~^:?*[\\]|\.\.|@\{/.test(branch)) {
      throw new Error(`invalid branch name ${JSON.stringify(branch)}`);
    }
    if (!(await pathExists(path.join(workDir, '.git')))) {
      const parent = path.dirname(path.resolve(workDir));
      await fs.mkdir(parent, { recursive: true });
      const tmp = `${path.resolve(workDir)}.cloning-${randomBytes(4).toString('hex')}`;
      const started = Date.now();
      try {
        const config = Object.entries(localConfig()).flatMap(([k, v]) => (k.startsWith('remote.') ? [] : ['--config', `${k}=${v}`]));
        await createGit(parent, { httpToken: opts.httpToken }).raw(['clone', '--quiet', '--no-tags', '--single-branch', '--branch', branch, ...config, '--', repo, tmp]);
        await fs.rmdir(workDir).catch(() => undefined); // an empty leftover directory; a full one makes rename fail
        await fs.rename(tmp, workDir);
      } catch (err) {
        await fs.rm(tmp, { recursive: true, force: true });
        throw err;
      }
      log.info({ workDir, ms: Date.now() - started }, 'cloned line repository');
    }
    const git = createGit(workDir, { httpToken: opts.httpToken });
    // Read the local config once and write only what differs (each write is a git process).
    const wanted = localConfig();
    const current = new Map<string, string>();
    for (const line of (await git.raw(['config', '--local', '--null', '--list'])).split('\0')) {
      const nl = line.indexOf('\n');
      if (nl > 0) current.set(line.slice(0, nl), line.slice(nl + 1));
    }
    for (const [key, value] of Object.entries(wanted)) {
      if (current.get(key) !== value) await git.raw(['config', '--local', '--replace-all', key, value]);
    }
    return git;
  }

  async function fetch(git: SimpleGit): Promise<string> {
    // --verbose: see isAncestor about commands that print nothing.
    await git.raw(['fetch', '--verbose', '--no-tags', '--prune', 'origin', `+${branchRef}:${remoteRef}`]);
    return (await git.raw(['rev-parse', '--verify', `${remoteRef}^{commit}`])).trim();
  }

  /** Full SHA of a commit we have, or null (unknown, ambiguous, not a commit). */
  async function resolveCommit(git: SimpleGit, sha: string): Promise<string | null> {
    if (!isHexSha(sha)) return null;
    try {
      const out = (await git.raw(['rev-parse', '--verify', '--quiet', `${sha}^{commit}`])).trim();
      return out || null;
    } catch (err) {
      if (err instanceof GitExitError) return null;
      throw err;
    }
  }

  /**
   * `git merge-base a b` rather than `--is-ancestor`: the same walk, but it
   * prints, and simple-git adds a 50 ms pause to every command that prints nothing.
   */
  async function isAncestor(git: SimpleGit, ancestor: string, descendant: string): Promise<boolean> {
    const base = await exitCodeAs(() => git.raw(['merge-base', ancestor, descendant]), 1, ''); // 1: no common history
    return base.trim() === ancestor;
  }

  /** Commits of a revision range, oldest first, topological order. */
  async function logCommits(git: SimpleGit, revs: string[]): Promise<CommitInfo[]> {
    const out = await git.raw(['log', '-z', '--reverse', '--topo-order', '--format=%H%n%an%n%ae%n%B', ...revs, '--']);
    const commits: CommitInfo[] = [];
    for (const record of out.split('\0')) {
      if (!record.trim()) continue;
      const [sha = '', authorName = '', authorEmail = '', ...message] = record.replace(/^\n+/, '').split('\n');
      commits.push({ sha, authorName, authorEmail, message: message.join('\n').replace(/\n+$/, '') });
    }
    return commits;
  }

  /**
   * A detached, clean work tree at `commit`, whatever an interrupted operation
   * left behind. (Commands here and below are not `--quiet` on purpose: see isAncestor.)
   */
  async function cleanWorkTree(git: SimpleGit, commit: string): Promise<void> {
    if (await removeStaleIndexLock(path.join(workDir, '.git'))) log.warn('removed a stale index.lock');
    await git.raw(['reset', '--hard']);
    await git.raw(['checkout', '--force', '--detach', commit]);
    await git.raw(['clean', '-ffdx']);
  }

  async function findRevertByKey(git: SimpleGit, head: string, key: string): Promise<string | null> {
    const out = await git.raw(['log', `-n${REVERT_SEARCH_DEPTH}`, `--format=%H%x00%(trailers:key=${REVERT_TRAILER},valueonly,unfold,separator=%x1f)`, head, '--']);
    for (const line of out.split('\n')) {
      const [sha, values] = line.split('\0');
      if (sha && values && values.split('\x1f').some((v) => v.trim() === key)) return sha;
    }
    return null;
  }

  /**
   * Stages the revert of `sha` on top of `head` in the work tree (checked out
   * clean at `head`), or says in one sentence why it cannot be made: not on the
   * branch, a merge commit, a conflict, or nothing left to revert. On refusal
   * the work tree is clean again.
   */
  async function stageRevert(git: SimpleGit, sha: string, head: string): Promise<{ ok: true; full: string } | Extract<RevertCheck, { ok: false }>> {
    const full = await resolveCommit(git, sha);
    if (!full) return { ok: false, reason: 'unknown-commit', message: `Commit ${sha.slice(0, 10)} is not known in this repository.` };
    if (!(await isAncestor(git, full, head))) return { ok: false, reason: 'unknown-commit', message: `Commit ${full.slice(0, 10)} is not on ${branch}.` };
    const parents = (await git.raw(['rev-list', '--parents', '-n1', full])).trim().split(/\s+/).length - 1;
    if (parents > 1) {
      return { ok: false, reason: 'merge-commit', message: `Commit ${full.slice(0, 10)} is a merge commit: revert the commits it brought in instead.` };
    }
    await cleanWorkTree(git, head);
    try {
      await git.raw(['revert', '--no-commit', full]);
    } catch (err) {
      if (!(err instanceof GitExitError)) throw err;
      const files = (await git.raw(['diff', '--name-only', '--diff-filter=U']).catch(() => '')).split('\n').filter(Boolean);
      await cleanWorkTree(git, head);
      log.info({ sha: full, files }, 'revert conflicts; nothing pushed');
      const where = files.length ? ` (${files.slice(0, 10).join(', ')}${files.length > 10 ? ', …' : ''})` : '';
      return { ok: false, reason: 'conflict', message: `Reverting ${full.slice(0, 10)} conflicts with later changes on ${branch}${where}: revert it by hand.` };
    }
    const changed = (await git.raw(['diff', '--cached', '--name-only'])).trim() !== '';
    if (!changed) {
      await cleanWorkTree(git, head);
      return { ok: false, reason: 'empty', message: `Reverting ${full.slice(0, 10)} would change nothing: its changes are no longer on ${branch}.` };
    }
    return { ok: true, full };
  }

  async function remoteRefSha(git: SimpleGit, ref: string): Promise<string | null> {
    const out = await git.raw(['ls-remote', 'origin', ref]);
    for (const line of out.split('\n')) {
      const [sha, name] = line.trim().split(/\s+/);
      if (sha && name === ref) return sha;
    }
    return null;
  }

  return {
    newCommits(sinceSha: string): Promise<NewCommits> {
      return mutex.run(async () => {
        const git = await ensureClone();
        const headSha = await fetch(git);
        const since = await resolveCommit(git, sinceSha);
        if (!since) {
          log.warn({ sinceSha, headSha }, 'last known commit is unknown to git: restarting from the branch head');
          return { headSha, commits: await logCommits(git, ['-n1', headSha]), rewritten: true };
        }
        if (since === headSha) return { headSha, commits: [], rewritten: false };
        const rewritten = !(await isAncestor(git, since, headSha));
        const commits = await logCommits(git, [`${since}..${headSha}`]);
        if (rewritten) log.warn({ sinceSha: since, headSha, commits: commits.length }, 'branch history was rewritten');
        return { headSha, commits, rewritten };
      });
    },

    head(): Promise<string> {
      return mutex.run(async () => fetch(await ensureClone()));
    },

    contains(sha: string): Promise<boolean> {
      // Reads the last fetch (newCommits just ran): is `sha` still reachable from the branch?
      return mutex.run(async () => {
        const git = await ensureClone();
        const full = await resolveCommit(git, sha);
        return !!full && (await isAncestor(git, full, remoteRef));
      });
    },

    checkRevert(sha: string): Promise<RevertCheck> {
      return mutex.run(async () => {
        const git = await ensureClone();
        const head = await fetch(git);
        const prepared = await stageRevert(git, sha, head);
        if (prepared.ok) await cleanWorkTree(git, head);
        return prepared.ok ? { ok: true } : prepared;
      });
    },

    revert(sha, { idempotencyKey, requestedBy }): Promise<RevertResult> {
      const key = idempotencyKey.replace(/\s+/g, ' ').trim();
      if (!key) return Promise.reject(new Error('revert needs an idempotency key'));
      return mutex.run(async () => {
        const git = await ensureClone();
        for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
          const head = await fetch(git);
          const done = await findRevertByKey(git, head, key);
          if (done) {
            log.info({ revertSha: done, key }, 'revert already on the branch');
            return { ok: true, revertSha: done, alreadyDone: true };
          }
          const prepared = await stageRevert(git, sha, head);
          if (!prepared.ok) return prepared;
          const full = prepared.full;
          const subject = (await git.raw(['log', '-n1', '--format=%s', full])).trim();
          const message = `Revert "${subject}"\n\nThis reverts commit ${full}.\n\n` + `Requested-by: ${ident(requestedBy)}\n${REVERT_TRAILER}: ${key}\n`;
          await git.raw(['commit', '--no-verify', '--cleanup=verbatim', `--author=${ident(requestedBy)}`, '-m', message]);
          const revertSha = (await git.raw(['rev-parse', 'HEAD'])).trim();
          try {
            await git.raw(['push', 'origin', `${revertSha}:${branchRef}`]);
          } catch (err) {
            if (isRejectedPush(err) && attempt < PUSH_ATTEMPTS) {
              log.info({ attempt }, 'branch moved while reverting; fetching and trying again');
              continue;
            }
            throw err;
          } finally {
            await cleanWorkTree(git, head).catch(() => undefined);
          }
          log.info({ sha: full, revertSha, key }, 'pushed revert');
          return { ok: true, revertSha, alreadyDone: false };
        }
        throw new Error(`revert of ${sha}: ${branch} kept moving; gave up after ${PUSH_ATTEMPTS} attempts`);
      });
    },

    resetBranch(targetSha, backupRef): Promise<{ oldHeadSha: string }> {
      if (!backupRef.startsWith('refs/') || /[\s~^:?*[\\]|\.\.|@\{|\/\/|\/$|\.lock(\/|$)/.test(backupRef)) {
        return Promise.reject(new Error(`invalid backup ref ${JSON.stringify(backupRef)}`));
      }
      return mutex.run(async () => {
        const git = await ensureClone();
        for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
          const head = await fetch(git);
          const target = await resolveCommit(git, targetSha);
          if (!target) throw new Error(`reset target ${targetSha} is not known in ${repo}`);
          const backup = await remoteRefSha(git, backupRef);
          if (backup && !(await resolveCommit(git, backup))) {
            await git.raw(['fetch', '--quiet', '--no-tags', 'origin', backupRef]);
          }

          if (head === target) {
            if (backup) return { oldHeadSha: backup };
            await git.raw(['push', 'origin', `${head}:${backupRef}`]);
            log.info({ head, backupRef }, 'branch already at the reset target; backup ref written');
            return { oldHeadSha: head };
          }
          if (backup && backup !== head && !(await isAncestor(git, backup, head))) {
            if (await isAncestor(git, target, head)) {
              // Reset done earlier and people pushed since: resetting again would remove their commits.
              log.warn({ head, target, backup, backupRef }, 'reset already done and the branch moved on; not resetting again');
              return { oldHeadSha: backup };
            }
            throw new Error(`backup ref ${backupRef} holds ${backup}, which ${branch} (${head}) no longer contains: refusing to reset`);
          }
          // The backup first: it is the old head, or an ancestor of it (fast-forward, no force needed).
          if (backup !== head) await git.raw(['push', 'origin', `${head}:${backupRef}`]);
          try {
            await git.raw(['push', `--force-with-lease=${branchRef}:${head}`, 'origin', `${target}:${branchRef}`]);
          } catch (err) {
            if (isRejectedPush(err) && attempt < PUSH_ATTEMPTS) {
              log.info({ attempt }, 'branch moved during the reset; backing up the new head and trying again');
              continue;
            }
            throw err;
          }
          log.warn({ oldHeadSha: head, targetSha: target, backupRef }, 'branch force-pushed back');
          return { oldHeadSha: head };
        }
        throw new Error(`reset of ${branch}: the branch kept moving; gave up after ${PUSH_ATTEMPTS} attempts`);
      });
    },
  };
}

/** `Name <email>` with the characters git's ident parser refuses removed. */
function ident(who: { name: string; email: string }): string {
  const email = who.email.replace(/[<>\s]/g, '') || 'unknown@localhost';
  const name = who.name.replace(/[<>\n\r]/g, '').trim() || email.split('@')[0] || 'unknown';
  return `${name} <${email}>`;
}
