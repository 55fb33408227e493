import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BuildRunner, JobRequest, JobResult } from '../../engine/ports/build-runner.js';
import { GitExitError, Mutex, createGit, isHexSha, normalizeRemote, pathExists } from '../git/git.js';

/**
 * The local BuildRunner: each job runs its line's shell command (`/bin/sh -c`)
 * in a fresh work tree of the job's SHA.
 *
 * - Work trees: one cached bare clone per runner (`<workRoot>/cache.git`,
 *   fetching `refs/heads/*` and `refs/conductor/*`, so rollbacks to old heads and
 *   commits removed by an emergency reset can still be built), and
 *   `git worktree add --detach` per job under `<workRoot>/jobs/`. Fetch and
 *   work-tree bookkeeping are serialised by a mutex; the commands themselves run
 *   in parallel. The work tree is removed when the job ends.
 * - Each command is the leader of its own process group: a timeout or `stop()`
 *   sends SIGTERM to the whole group, then SIGKILL after a grace period. When the
 *   command exits by itself, processes it left in the background are not
 *   killed (a local deploy may start a service); their output is no longer read.
 * - The timeout counts from the moment the command is spawned.
 * - Output: stdout and stderr interleaved in arrival order; only the last
 *   `maxOutputBytes` are kept, behind a marker saying how much was dropped.
 * - Idempotency: `start` of a job that is preparing or running returns its
 *   handle; once a job has ended, the same jobId starts a new run.
 * - Nothing thrown on the background path escapes: a checkout or spawn failure
 *   is reported as a failed result with the reason in the output.
 */

export interface ShellRunnerOptions {
  commands: { build: string; deploy: string; rollback?: string };
  /** The git URL or path to check the SHA out from. */
  codeHostRepo: string;
  /** Token for HTTPS remotes (GITHUB_TOKEN), never written to disk or logs. */
  httpToken?: string;
  /** This runner's own directory (one per line). */
  workRoot: string;
  log: Logger;
  onResult: (r: JobResult) => Promise<void> | void;
  /** Output kept per job (its tail); default 64 KiB. */
  maxOutputBytes?: number;
  /** Time between SIGTERM and SIGKILL; default 5 s. */
  killGraceMs?: number;
}

interface Job {
  req: JobRequest;
  handle: { externalId: string; url: string | null };
  stopped: boolean;
  child: ChildProcess | null;
  done: Promise<void>;
}

/** Tells this process's job directories from those of a process that died (pids get reused). */
const PROCESS_INSTANCE = randomBytes(4).toString('hex');

export function createShellRunner(opts: ShellRunnerOptions): BuildRunner {
  const log = opts.log.child({ component: 'shell-runner' });
  const maxOutput = opts.maxOutputBytes ?? 64 * 1024;
  const grace = opts.killGraceMs ?? 5_000;
  const workRoot = path.resolve(opts.workRoot);
  const remote = normalizeRemote(opts.codeHostRepo);
  const cacheDir = path.join(workRoot, 'cache.git');
  const jobsDir = path.join(workRoot, 'jobs');
  const gitMutex = new Mutex();
  const jobs = new Map<number, Job>();
  let cache: Promise<void> | null = null;
  let closed = false;

  function commandFor(kind: JobRequest['kind']): string {
    if (kind === 'build') return opts.commands.build;
    if (kind === 'deploy') return opts.commands.deploy;
    return opts.commands.rollback ?? opts.commands.deploy;
  }

  function ensureCache(): Promise<void> {
    cache ??= (async () => {
      await fs.mkdir(jobsDir, { recursive: true });
      if (!(await pathExists(path.join(cacheDir, 'HEAD')))) {
        const tmp = `${cacheDir}.creating-${randomBytes(4).toString('hex')}`;
        await fs.mkdir(tmp);
        const git = createGit(tmp, { httpToken: opts.httpToken });
        await git.raw(['init', '--quiet', '--bare']);
        await git.raw(['remote', 'add', 'origin', remote]);
        await git.raw(['config', 'remote.origin.fetch', '+refs/heads/*:refs/heads/*']);
        await git.raw(['config', '--add', 'remote.origin.fetch', '+refs/conductor/*:refs/conductor/*']);
        await git.raw(['config', 'gc.auto', '0']); // never repack under a running job
        await fs.rename(tmp, cacheDir);
      } else {
        await createGit(cacheDir, { httpToken: opts.httpToken }).raw(['remote', 'set-url', 'origin', remote]);
      }
      await removeDeadJobDirs();
    })().catch((err: unknown) => {
      cache = null;
      throw err;
    });
    return cache;
  }

  /** Work trees left by a process that was killed. */
  async function removeDeadJobDirs(): Promise<void> {
    for (const name of await fs.readdir(jobsDir)) {
      const m = /^p(\d+)-([0-9a-f]+)-/.exec(name);
      if (!m) continue;
      const pid = Number(m[1]);
      const mine = pid === process.pid && m[2] === PROCESS_INSTANCE;
      if (mine || (pid !== process.pid && isAlive(pid))) continue;
      await fs.rm(path.join(jobsDir, name), { recursive: true, force: true });
    }
    await createGit(cacheDir, { httpToken: opts.httpToken }).raw(['worktree', 'prune']);
  }

  async function resolveIn(sha: string): Promise<string | null> {
    try {
      return (await createGit(cacheDir, { httpToken: opts.httpToken }).raw(['rev-parse', '--verify', '--quiet', `${sha}^{commit}`])).trim() || null;
    } catch (err) {
      if (err instanceof GitExitError) return null;
      throw err;
    }
  }

  /** A detached work tree of the job's commit: its directory and the full SHA. */
  function checkout(req: JobRequest): Promise<{ dir: string; sha: string }> {
    return gitMutex.run(async () => {
      await ensureCache();
      if (!isHexSha(req.sha)) throw new Error(`${JSON.stringify(req.sha)} is not a commit SHA`);
      const git = createGit(cacheDir, { httpToken: opts.httpToken });
      let full = await resolveIn(req.sha);
      if (!full) {
        await git.raw(['fetch', '--verbose', '--prune', '--no-tags', 'origin']); // --verbose: simple-git pauses 50 ms after a silent command
        full = await resolveIn(req.sha);
      }
      if (!full && req.sha.length === 40) {
        // Not under any ref we fetch: ask for the object itself (servers may refuse).
        await git.raw(['fetch', '--quiet', '--no-tags', 'origin', req.sha]).catch(() => undefined);
        full = await resolveIn(req.sha);
      }
      if (!full) throw new Error(`commit ${req.sha} was not found in ${opts.codeHostRepo}`);
      const dir = path.join(jobsDir, `p${process.pid}-${PROCESS_INSTANCE}-j${req.jobId}-${randomBytes(3).toString('hex')}`);
      await git.raw(['worktree', 'add', '--detach', dir, full]);
      return { dir, sha: full };
    });
  }

  function removeWorkTree(dir: string): Promise<void> {
    return gitMutex.run(async () => {
      try {
        await createGit(cacheDir, { httpToken: opts.httpToken }).raw(['worktree', 'remove', '--force', '--force', dir]);
      } catch (err) {
        log.warn({ err, dir }, 'git worktree remove failed; deleting the directory');
        await fs.rm(dir, { recursive: true, force: true });
        await createGit(cacheDir, { httpToken: opts.httpToken })
          .raw(['worktree', 'prune'])
          .catch(() => undefined);
      }
    });
  }

  async function report(job: Job, result: JobResult): Promise<void> {
    if (job.stopped) return; // stop() and close() report nothing: the caller already knows
    try {
      await opts.onResult(result);
    } catch (err) {
      log.error({ err, jobId: result.jobId }, 'onResult failed');
    }
  }

  async function run(job: Job): Promise<void> {
    const { req } = job;
    const jlog = log.child({ jobId: req.jobId, kind: req.kind, line: req.line, train: req.train });
    let dir: string | null = null;
    let sha = req.sha;
    try {
      try {
        ({ dir, sha } = await checkout(req));
      } catch (err) {
        jlog.warn({ err }, 'checkout failed');
        await report(job, failure(req, `[conductor] could not check out ${req.sha}: ${errorMessage(err)}\n`));
        return;
      }
      if (job.stopped) return;
      const result = await execute(job, dir, sha, jlog);
      jlog.info(
        { succeeded: result.succeeded, exitCode: result.exitCode, timedOut: result.timedOut, stopped: job.stopped },
        'job finished',
      );
      if (dir) {
        await removeWorkTree(dir).catch((err: unknown) => jlog.warn({ err }, 'could not remove the work tree'));
        dir = null;
      }
      await report(job, result);
    } catch (err) {
      jlog.error({ err }, 'job failed unexpectedly');
      await report(job, failure(req, `[conductor] ${errorMessage(err)}\n`));
    } finally {
      if (dir) await removeWorkTree(dir).catch(() => undefined);
      jobs.delete(req.jobId);
    }
  }

  function execute(job: Job, cwd: string, sha: string, jlog: Logger): Promise<JobResult> {
    const { req } = job;
    const output = new OutputTail(maxOutput);
    return new Promise<JobResult>((resolve) => {
      let timedOut = false;
      let settled = false;
      let killTimer: NodeJS.Timeout | null = null;
      let timeoutTimer: NodeJS.Timeout | null = null;
      let drainTimer: NodeJS.Timeout | null = null;
      const finish = (exitCode: number | null, signal: NodeJS.Signals | null, note?: string): void => {
        if (settled) return;
        settled = true;
        for (const t of [killTimer, timeoutTimer, drainTimer]) if (t) clearTimeout(t);
        child.stdout?.destroy();
        child.stderr?.destroy();
        if (note) output.note(note);
        else if (timedOut) output.note(`[conductor] timed out after ${req.timeoutMinutes} minutes; the job's processes were killed`);
        else if (signal && !job.stopped) output.note(`[conductor] the command was killed by ${signal}`);
        resolve({
          jobId: req.jobId,
          succeeded: exitCode === 0 && !timedOut && !note,
          output: output.text(),
          exitCode,
          timedOut,
        });
      };

      const child = spawn('/bin/sh', ['-c', commandFor(req.kind)], {
        cwd,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          TRAIN: String(req.train),
          LINE: req.line,
          SHA: sha, // the full SHA, even when the request abbreviated it
          BRANCH: req.branch,
          ENGINEER: req.engineer ?? '',
          CONDUCTOR_URL: req.conductorUrl,
          JOB_KIND: req.kind,
          JOB_ID: String(req.jobId),
        },
      });
      job.child = child;
      child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
      child.on('error', (err) => {
        jlog.warn({ err }, 'could not run the command');
        finish(null, null, `[conductor] could not run the command: ${err.message}`);
      });
      child.on('exit', (code, signal) => {
        // Give the output a moment to drain; a background process may keep the pipes open.
        drainTimer = setTimeout(() => finish(code, signal), 2_000);
        child.once('close', () => finish(code, signal));
      });
      if (child.pid === undefined) return; // 'error' follows
      jlog.info({ pid: child.pid, cwd }, 'job started');
      if (job.stopped) killGroup(child, grace, (t) => (killTimer = t));
      const ms = req.timeoutMinutes * 60_000;
      if (Number.isFinite(ms) && ms > 0) {
        timeoutTimer = setTimeout(() => {
          timedOut = true;
          jlog.warn({ timeoutMinutes: req.timeoutMinutes }, 'job timed out; killing it');
          killGroup(child, grace, (t) => (killTimer = t));
        }, ms);
      }
    });
  }

  async function stopJob(job: Job): Promise<void> {
    job.stopped = true;
    if (job.child && job.child.exitCode === null && job.child.signalCode === null) {
      killGroup(job.child, grace, () => undefined);
    }
    await job.done;
  }

  return {
    async start(req) {
      if (closed) throw new Error('the shell runner is closed');
      const running = jobs.get(req.jobId);
      if (running) return running.handle;
      const job: Job = {
        req,
        handle: { externalId: `local-${req.jobId}`, url: null },
        stopped: false,
        child: null,
        done: Promise.resolve(),
      };
      jobs.set(req.jobId, job);
      job.done = run(job); // in the background; never rejects
      return job.handle;
    },

    async stop(jobId) {
      const job = jobs.get(jobId);
      if (!job) return;
      log.info({ jobId }, 'stopping job');
      await stopJob(job);
    },

    async close() {
      closed = true;
      await Promise.all([...jobs.values()].map((job) => stopJob(job)));
    },
  };
}

/** SIGTERM to the child's process group now, SIGKILL after `grace` ms if it is still there. */
function killGroup(child: ChildProcess, grace: number, setTimer: (t: NodeJS.Timeout) => void): void {
  const pid = child.pid;
  if (pid === undefined) return;
  signalGroup(pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), grace);
  timer.unref();
  setTimer(timer);
  // The group may outlive the leader: make sure SIGKILL still reaches it once the shell exits.
  child.once('exit', () => {
    clearTimeout(timer);
    setTimeout(() => signalGroup(pid, 'SIGKILL'), Math.min(grace, 1_000)).unref();
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function failure(req: JobRequest, output: string): JobResult {
  return { jobId: req.jobId, succeeded: false, output, exitCode: null, timedOut: false };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.trim() : String(err);
}

/** The last `max` bytes of a stream of chunks, with a marker when the start was dropped. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;
  private notes: string[] = [];

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.max * 2) this.compact();
  }

  note(line: string): void {
    this.notes.push(line);
  }

  text(): string {
    this.compact();
    let buf = Buffer.concat(this.chunks);
    // Do not start in the middle of a UTF-8 character.
    let skip = 0;
    while (this.dropped + skip > 0 && skip < buf.length && skip < 4 && ((buf[skip] ?? 0) & 0xc0) === 0x80) skip++;
    if (skip) buf = buf.subarray(skip);
    const dropped = this.dropped + skip;
    let text = buf.toString('utf8');
    if (dropped > 0) text = `[conductor] ${dropped} bytes of earlier output dropped\n${text}`;
    for (const n of this.notes) text += `${text === '' || text.endsWith('\n') ? '' : '\n'}${n}\n`;
    return text;
  }

  private compact(): void {
    if (this.size <= this.max) return;
    const all = Buffer.concat(this.chunks);
    const keep = all.subarray(all.length - this.max);
    this.dropped += all.length - this.max;
    this.chunks = [Buffer.from(keep)];
    this.size = keep.length;
  }
}
