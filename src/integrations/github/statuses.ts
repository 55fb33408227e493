import { Octokit } from '@octokit/rest';
import type { Logger } from 'pino';
import { PermanentEffectError, RetryableEffectError } from '../../engine/errors.js';

export type GithubStatusState = 'pending' | 'success' | 'error' | 'failure';

export interface GithubStatus {
  state: GithubStatusState;
  /** GitHub allows 140 characters; longer texts are truncated with an ellipsis. */
  description: string;
  targetUrl?: string;
}

export interface GithubRepoRef {
  owner: string;
  name: string;
}

export interface GithubStatuses {
  /** Sets the `conductor` commit status. Throws PermanentGithubError (404/422) or a retryable error. */
  set(repo: GithubRepoRef, sha: string, s: GithubStatus): Promise<void>;
}

/** The status context Conductor writes. */
export const STATUS_CONTEXT = 'conductor';
export const DESCRIPTION_LIMIT = 140;
const REQUEST_TIMEOUT_MS = 10_000;

/** GitHub refused for good (404 unknown repo/commit, 422 invalid): retrying will not help. */
export class PermanentGithubError extends PermanentEffectError {
  override readonly name = 'PermanentGithubError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message, { code: 'github_refused' });
  }
}

/** A failure worth retrying later (5xx, network, timeout, 401/403 incl. rate limits). */
export class RetryableGithubError extends RetryableEffectError {
  override readonly name = 'RetryableGithubError';
  constructor(
    readonly status: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, { ...options, code: 'github_failed' });
  }
}

// The status texts of the issue (behaviour.md §4 "Code").
export const waitingOnPlatformStatus = (): GithubStatus => ({ state: 'pending', description: 'waiting on the platform' });
export const onTrainStatus = (train: number): GithubStatus => ({ state: 'pending', description: `on train #${train}` });
export const deployedStatus = (train: number): GithubStatus => ({ state: 'success', description: `deployed with train #${train}` });
export const removedByResetStatus = (): GithubStatus => ({ state: 'error', description: 'removed by emergency reset' });

export function truncateDescription(text: string): string {
  const chars = Array.from(text);
  return chars.length <= DESCRIPTION_LIMIT ? text : chars.slice(0, DESCRIPTION_LIMIT - 1).join('') + '…';
}

function statusOf(err: unknown): number | null {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : null;
}

export function createGithubStatuses(opts: { token: string; apiUrl: string; log: Logger }): GithubStatuses {
  const log = opts.log.child({ integration: 'github' });
  const octokit = new Octokit({
    auth: opts.token,
    baseUrl: opts.apiUrl.replace(/\/+$/, ''),
    userAgent: 'conductor',
    request: { retries: 0 },
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => log.warn({ octokit: message }, 'octokit warning'),
      error: () => undefined, // errors are thrown to the caller, which logs them once
    },
  });

  return {
    async set(repo, sha, s) {
      const description = truncateDescription(s.description);
      try {
        await octokit.rest.repos.createCommitStatus({
          owner: repo.owner,
          repo: repo.name,
          sha,
          state: s.state,
          description,
          context: STATUS_CONTEXT,
          ...(s.targetUrl ? { target_url: s.targetUrl } : {}),
          request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
        });
        log.debug({ repo: `${repo.owner}/${repo.name}`, sha, state: s.state }, 'github status set');
      } catch (err) {
        const status = statusOf(err);
        const what = `GitHub status for ${repo.owner}/${repo.name}@${sha.slice(0, 12)}`;
        if (status === 404 || status === 422) throw new PermanentGithubError(status, `${what} refused (${status}): ${(err as Error).message}`);
        throw new RetryableGithubError(status, `${what} failed${status ? ` (${status})` : ''}: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
