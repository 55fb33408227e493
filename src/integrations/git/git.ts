import { promises as fs } from 'node:fs';
import path from 'node:path';
import { GitError, GitPluginError, type SimpleGit, simpleGit } from 'simple-git';

/**
 * Shared plumbing for our simple-git use: one factory that makes every non-zero
 * exit an error carrying its exit code (simple-git on its own resolves a failed
 * command that printed nothing on stderr, e.g. `merge-base --is-ancestor`), a
 * child environment that never prompts, and a tiny promise mutex.
 */

/**
 * A git command exited with a non-zero status. It extends simple-git's
 * `GitError` because simple-git replaces any other error class by a `GitError`.
 */
export class GitExitError extends GitError {
  constructor(
    readonly exitCode: number,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(undefined, (stderr || stdout).trim() || `git exited with status ${exitCode}`);
    this.name = 'GitExitError';
  }
}

/**
 * A git process was killed by a signal before it exited: the terminal closing or Ctrl-C reaches
 * every process of its group, git included, while Conductor is still running it. simple-git
 * reports such a death as a success (no exit code); what the command should have done did not
 * happen (a clone half written, a fetch that fetched nothing), so it is an error, marked
 * `interrupted` (isInterrupted in ports/code-host.ts): the caller is stopping, the remote is fine.
 */
export class GitInterruptedError extends GitError {
  readonly interrupted = true;
  constructor(stderr: string) {
    super(undefined, `git was stopped by a signal before it finished${stderr.trim() ? `: ${stderr.trim().slice(0, 300)}` : ''}`);
    this.name = 'GitInterruptedError';
  }
}

/** Ambient variables git may need that simple-git would otherwise strip. */
const PASSED_THROUGH = ['GIT_SSL_CAINFO', 'GIT_SSL_CAPATH'];
/** Non-`GIT_` names simple-git refuses in an explicit environment. */
const GUARDED = new Set(['editor', 'pager', 'visual', 'prefix', 'ssh_askpass']);

/**
 * HTTPS auth for a token (GitHub: `x-access-token:<token>`) as an extra header
 * given to git through its environment (`GIT_CONFIG_*`): never written to
 * `.git/config`, never part of a URL, never in a log line.
 */
const AUTH_ENV = ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0'];
function authEnv(token: string | undefined): Record<string, string> {
  if (!token) return {};
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
}

function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    const k = key.toLowerCase();
    if ((k.startsWith('git') && !PASSED_THROUGH.includes(key)) || GUARDED.has(k)) continue;
    env[key] = value;
  }
  // Never wait for a password on a terminal: fail instead.
  env.GIT_TERMINAL_PROMPT = '0';
  return env;
}

export interface GitOptions {
  /** Kill a git process that shows no output for this long (default 10 min). */
  blockTimeoutMs?: number;
  /** Token for HTTPS remotes (GITHUB_TOKEN): sent as a Basic auth header, kept out of disk and logs. */
  httpToken?: string;
}

export function createGit(baseDir: string, opts: GitOptions = {}): SimpleGit {
  const git = simpleGit({
    baseDir,
    maxConcurrentProcesses: 4,
    timeout: { block: opts.blockTimeoutMs ?? 10 * 60_000 },
    allowEnvironment: ['GIT_TERMINAL_PROMPT', ...PASSED_THROUGH, ...(opts.httpToken ? AUTH_ENV : [])],
    // Our own GIT_CONFIG_* (the auth header) only; simple-git refuses them unless told.
    ...(opts.httpToken ? { unsafe: { allowUnsafeConfigEnvCount: true } } : {}),
    errors(error, result) {
      if (error instanceof GitPluginError) return error; // timeout, abort, unsafe
      // Node gives no exit code (null) to a process a signal killed.
      if ((result.exitCode as number | null) === null) return new GitInterruptedError(Buffer.concat(result.stdErr).toString('utf8'));
      if (result.exitCode) {
        return new GitExitError(result.exitCode, Buffer.concat(result.stdErr).toString('utf8'), Buffer.concat(result.stdOut).toString('utf8'));
      }
      return error;
    },
  });
  git.env({ ...childEnv(), ...authEnv(opts.httpToken) });
  return git;
}

/** Runs `fn` and maps a given non-zero exit code to `onCode`, rethrowing anything else. */
export async function exitCodeAs<T>(fn: () => Promise<T>, code: number, onCode: T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof GitExitError && err.exitCode === code) return onCode;
    throw err;
  }
}

/** True when a push failed because the remote ref moved (non-fast-forward, stale lease). */
export function isRejectedPush(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return /\[rejected\]|non-fast-forward|fetch first|stale info|\[remote rejected\].*(cannot lock ref|failed to update ref)/i.test(err.message);
}

/** Full or abbreviated hexadecimal object name; anything else is never passed to git. */
export function isHexSha(value: string): boolean {
  return /^[0-9a-f]{4,64}$/i.test(value);
}

/** A promise mutex: `run` calls execute one at a time, in call order. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => fn());
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Removes `.git/index.lock` left behind by a git process that was killed (older than `maxAgeMs`). */
export async function removeStaleIndexLock(gitDir: string, maxAgeMs = 120_000): Promise<boolean> {
  const lock = path.join(gitDir, 'index.lock');
  try {
    const st = await fs.stat(lock);
    if (Date.now() - st.mtimeMs < maxAgeMs) return false;
    await fs.rm(lock, { force: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * A remote as git will resolve it from any directory: URLs (`https://…`,
 * `file://…`) and scp-like `host:path` stay as they are; a local path becomes
 * absolute (git would otherwise read a relative path against our clone).
 */
export function normalizeRemote(repo: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) return repo;
  if (/^[^/]*:/.test(repo)) return repo;
  return path.resolve(repo);
}
