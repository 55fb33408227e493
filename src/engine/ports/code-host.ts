/**
 * The engine's view of the line's git remote. Implementations: a local one over
 * simple-git (`src/integrations/git/local-code-host.ts`) that works with any git
 * remote, including a local bare repository; a GitHub one adds webhooks and
 * statuses on top of the same git operations.
 */

export interface CommitInfo {
  sha: string;
  authorName: string;
  authorEmail: string;
  /** The full message (subject and body), without the trailing newline. */
  message: string;
}

export interface NewCommits {
  headSha: string;
  /** Oldest first. */
  commits: CommitInfo[];
  /** `sinceSha` is not an ancestor of head (force push, reset). */
  rewritten: boolean;
}

/** Why a revert cannot be made; `message` is one sentence people read as it is. */
export type RevertRefusal = { ok: false; reason: 'conflict' | 'empty' | 'unknown-commit' | 'merge-commit'; message: string };

export type RevertResult = { ok: true; revertSha: string; alreadyDone: boolean } | RevertRefusal;

export type RevertCheck = { ok: true } | RevertRefusal;

export interface CodeHost {
  /**
   * Fetch the remote; commits after `sinceSha` up to the branch head, oldest
   * first: every commit reachable from head and not from sinceSha, in
   * topological oldest-first order. When sinceSha is not an ancestor of head,
   * `rewritten` is true and the commits are those after the merge-base. The cost
   * does not grow with the length of history, only with the number of new
   * commits.
   */
  newCommits(sinceSha: string): Promise<NewCommits>;
  /** Current branch head on the remote (after a fetch). */
  head(): Promise<string>;
  /** Whether `sha` is still on the branch as of the last fetch (a force push may have removed it). */
  contains(sha: string): Promise<boolean>;
  /**
   * Whether a revert of `sha` on top of the branch head could be made now
   * (fetches first; commits and pushes nothing). Lets `revert` refuse at once.
   */
  checkRevert(sha: string): Promise<RevertCheck>;
  /**
   * Make a revert commit of `sha` on top of the branch head and push it.
   * Idempotent by key: the commit message carries a trailer
   * `Conductor-Revert-Key: <key>`; if a commit with that trailer is already on
   * the branch (newest ~500 commits), it is returned with alreadyDone true. A
   * conflict pushes nothing. A push rejected because the branch moved is retried
   * after a fetch (a few times).
   */
  revert(sha: string, opts: { idempotencyKey: string; requestedBy: { name: string; email: string } }): Promise<RevertResult>;
  /**
   * Emergency reset: push the current remote head to `backupRef` (e.g.
   * `refs/conductor/backup/web/20261124T101500Z`) FIRST, then force-push the
   * branch to `targetSha`. Idempotent: if the branch is already at targetSha and
   * backupRef exists, nothing is done. Returns the old head.
   */
  resetBranch(targetSha: string, backupRef: string): Promise<{ oldHeadSha: string }>;
}

/**
 * A code host operation cut short because its process was stopped by a signal (the terminal
 * closing or Ctrl-C reaches git too, in Conductor's process group): Conductor is stopping, the
 * remote is not at fault, and the operation is simply done again at the next start or poll.
 */
export function isInterrupted(err: unknown): boolean {
  return err instanceof Error && (err as { interrupted?: unknown }).interrupted === true;
}
