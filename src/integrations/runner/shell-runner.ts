import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BuildRunner, JobRequest, JobResult, RunningJob } from '../../engine/ports/build-runner.js';
import { createGit, GitExitError, isHexSha, Mutex, normalizeRemote, pathExists } from '../git/git.js';
import { isAlive, isSameProcess, type JobMeta, JobRecord, listRecords, processStartTime, WRAPPER } from './job-record.js';

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
 * - A job outlives its Conductor (behaviour.md §9): each command runs in its own process
 *   group under a small wrapper shell, writes its output to a file and its exit
 *   status to another (`job-record.ts`, under `<workRoot>/runs/<jobId>/`). A
 *   Conductor that restarts adopts what it finds there: a job still running is
 *   followed again (its timeout included), a finished one is reported, and one
 *   that left no exit status is reported as `unknown` — never started again. A
 *   retried `start` of a job an earlier process already spawned adopts it too, so
 *   a crash between spawning a deploy and recording it cannot deploy twice.
 *   `close()` (Conductor stopping) leaves jobs running for the next process to
 *   adopt: restarting Conductor must not cut a production deploy in half.
 * - A timeout or `stop()` sends SIGTERM to the whole group, then SIGKILL after a
 *   grace period. When the command exits by itself, processes it left in the
 *   background are not killed (a local deploy may start a service).
 * - The timeout counts from the moment the command is spawned.
 * - Output: stdout and stderr interleaved in arrival order; only the last
 *   `maxOutputBytes` are reported, behind a marker saying how much was dropped.
 * - Idempotency: `start` of a job that is preparing or running returns its
 *   handle; once its result has been reported, the same jobId starts a new run.
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
  jobId: number;
  /** The request, when this process was asked to start it (not for a job adopted by `resume`). */
  req: JobRequest | null;
  kind: JobRequest['kind'];
  timeoutMinutes: number | null;
  handle: { externalId: string; url: string | null };
  /** stop() was called: report nothing. */
  stopped: boolean;
  /** close() was called: stop following, leave the process running, report nothing. */
  released: boolean;
  /** The process group leader, once known. */
  pid: number | null;
  /** Wakes the watcher early (stop, close). */
  wake: () => void;
  done: Promise<void>;
}

/** Tells this process's work trees from those of a process that died (pids get reused). */
const PROCESS_INSTANCE = randomBytes(4).toString('hex');
/** How often a job this process did not spawn (adopted after a restart) is looked at. */
const ADOPTED_POLL_MS = 500;
/** Records of jobs nobody came back for (their result reported by nobody) are kept this long. */
const STALE_RECORD_MS = 7 * 24 * 3600_000;

// Over 80 lines on purpose: a factory whose inner functions share the jobs it follows (each is under 80 lines).
export function createShellRunner(opts: ShellRunnerOptions): BuildRunner {
  const log = opts.log.child({ component: 'shell-runner' });
  const maxOutput = opts.maxOutputBytes ?? 64 * 1024;
  const grace = opts.killGraceMs ?? 5_000;
  const workRoot = path.resolve(opts.workRoot);
  const remote = normalizeRemote(opts.codeHostRepo);
  const cacheDir = path.join(workRoot, 'cache.git');
  const jobsDir = path.join(workRoot, 'jobs');
  const runsDir = path.join(workRoot, 'runs');
  const gitMutex = new Mutex();
  const jobs = new Map<number, Job>();
  let cache: Promise<void> | null = null;
  let closed = false;

  function commandFor(kind: JobRequest['kind']): string {
    // A culprit-search build is the line's build, at the commit tried (SHA).
    if (kind === 'build' || kind === 'bisect') return opts.commands.build;
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

  /**
   * Work trees left by a process that was killed, except those of jobs whose
   * record is still there (running, or waiting to be reported by the next
   * process); records nobody came back for within a week go too.
   */
  async function removeDeadJobDirs(): Promise<void> {
    const kept = new Set<string>();
    for (const id of await listRecords(runsDir)) {
      const record = new JobRecord(runsDir, id);
      const meta = await record.meta();
      const stale = !jobs.has(id) && meta && Date.now() - Date.parse(meta.startedAt) > STALE_RECORD_MS && !(meta.pid && isSameProcess(meta.pid, meta.procStart));
      if (stale) await record.remove();
      else if (meta?.workTree) kept.add(path.basename(meta.workTree));
    }
    for (const name of await fs.readdir(jobsDir)) {
      const m = /^p(\d+)-([0-9a-f]+)-/.exec(name);
      if (!m || kept.has(name)) continue;
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

  /**
   * Hands the result over; true once the engine has it. stop() reports nothing (the caller already knows);
   * close() (Conductor stopping) and a result the engine could not record keep the job's record, so the
   * next process reports it again (the engine applies a job's result once, by its key).
   */
  async function report(job: Job, result: JobResult): Promise<boolean> {
    if (job.stopped) return true;
    if (job.released) return false;
    try {
      await opts.onResult(result);
      return true;
    } catch (err) {
      log.warn({ err, jobId: result.jobId }, 'job result not recorded; it stays on disk for the next start');
      return false;
    }
  }

  /** The job's result has been handed over (or it was stopped): its record and work tree go. */
  async function cleanUp(record: JobRecord, jlog: Logger): Promise<void> {
    const meta = await record.meta();
    if (meta?.workTree && (await pathExists(meta.workTree))) await removeWorkTree(meta.workTree).catch((err: unknown) => jlog.warn({ err }, 'could not remove the work tree'));
    await record.remove().catch((err: unknown) => jlog.warn({ err }, 'could not remove the job record'));
  }

  /** A job this process was asked to start: adopt an earlier process's run of it, or check out and spawn. */
  async function run(job: Job, req: JobRequest): Promise<void> {
    const jlog = log.child({ jobId: req.jobId, kind: req.kind, line: req.line, train: req.train });
    const record = new JobRecord(runsDir, req.jobId);
    let finished = false;
    try {
      if ((await record.state()).kind !== 'none') {
        jlog.warn('an earlier Conductor process already started this job: adopting it instead of starting it again');
        finished = await follow(job, record, jlog);
        return;
      }
      let dir: string;
      let sha: string;
      try {
        ({ dir, sha } = await checkout(req));
      } catch (err) {
        jlog.warn({ err }, 'checkout failed');
        await report(job, failure(req.jobId, `[conductor] could not check out ${req.sha}: ${errorMessage(err)}\n`));
        return;
      }
      if (job.stopped || job.released) {
        await removeWorkTree(dir).catch(() => undefined);
        return;
      }
      const deadline = Number.isFinite(req.timeoutMinutes) && req.timeoutMinutes > 0 ? new Date(Date.now() + req.timeoutMinutes * 60_000).toISOString() : null;
      const meta: JobMeta = { jobId: req.jobId, kind: req.kind, pid: null, procStart: null, workTree: dir, startedAt: new Date().toISOString(), deadline };
      if (!(await record.create(meta))) {
        // Another call raced us to it: follow that run.
        await removeWorkTree(dir).catch(() => undefined);
        finished = await follow(job, record, jlog);
        return;
      }
      finished = await spawnAndWait(job, req, record, meta, sha, jlog);
    } catch (err) {
      jlog.error({ err }, 'job failed unexpectedly');
      await report(job, failure(req.jobId, `[conductor] ${errorMessage(err)}\n`));
      finished = true;
    } finally {
      if (finished || job.stopped) await cleanUp(record, jlog);
      jobs.delete(req.jobId);
    }
  }

  /** Spawns the wrapper in its own process group and waits for it; true once the result was reported. */
  async function spawnAndWait(job: Job, req: JobRequest, record: JobRecord, meta: JobMeta, sha: string, jlog: Logger): Promise<boolean> {
    const out = await fs.open(record.outputPath, 'a');
    let child: ChildProcess;
    let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
    try {
      child = spawn('/bin/sh', ['-c', WRAPPER], {
        cwd: meta.workTree!,
        detached: true,
        stdio: ['ignore', out.fd, out.fd],
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
          CONDUCTOR_JOB_COMMAND: commandFor(req.kind),
          CONDUCTOR_JOB_EXIT: record.exitPath,
          CONDUCTOR_JOB_PID: record.pidPath,
        },
      });
      // Listen before any await: a quick command may exit before this function resumes.
      const c = child;
      exited = new Promise((resolve) => {
        c.once('error', (error) => resolve({ code: null, signal: null, error }));
        c.once('exit', (code, signal) => resolve({ code, signal }));
      });
    } finally {
      await out.close(); // the child holds its own copy of the descriptor
    }
    if (child.pid !== undefined) {
      job.pid = child.pid;
      jlog.info({ pid: child.pid, cwd: meta.workTree }, 'job started');
      await record.writeMeta({ ...meta, pid: child.pid, procStart: processStartTime(child.pid) });
    }
    return watch(job, record, meta.deadline, jlog, exited);
  }

  /** A job an earlier process started (found by `resume` or a retried `start`): report it, or follow it. */
  async function follow(job: Job, record: JobRecord, jlog: Logger, deadline?: Date | null): Promise<boolean> {
    const state = await record.state();
    if (state.kind === 'running') {
      job.pid = state.meta.pid;
      jlog.info({ pid: state.meta.pid }, 'following a job started by an earlier Conductor process');
      // The engine's deadline (given on resume) wins: it is the one the database records.
      return watch(job, record, deadline ? deadline.toISOString() : state.meta.deadline, jlog, null);
    }
    return settle(job, record, jlog, { timedOut: false, signal: null });
  }

  /**
   * Waits until the job ends (the child's exit when this process spawned it,
   * else the record, polled), enforcing the deadline; then reports. Returns
   * true when a result was reported (the record may go), false when the job was
   * left running (close) and must stay recorded for the next process.
   */
  async function watch(
    job: Job,
    record: JobRecord,
    deadline: string | null,
    jlog: Logger,
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> | null,
  ): Promise<boolean> {
    let timedOut = false;
    let killTimer: NodeJS.Timeout | null = null;
    const kill = (): void => {
      if (job.pid === null || killTimer) return;
      signalGroup(job.pid, 'SIGTERM');
      const pid = job.pid;
      killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), grace);
      killTimer.unref();
    };
    const deadlineMs = deadline ? Date.parse(deadline) : null;
    let timeoutTimer: NodeJS.Timeout | null = null;
    if (deadlineMs !== null) {
      timeoutTimer = setTimeout(
        () => {
          timedOut = true;
          jlog.warn({ timeoutMinutes: job.timeoutMinutes }, 'job timed out; killing it');
          kill();
        },
        Math.max(0, deadlineMs - Date.now()),
      );
      timeoutTimer.unref();
    }
    if (job.stopped) kill();
    let signal: NodeJS.Signals | null = null;
    let spawnError: Error | undefined;
    try {
      if (exited) {
        for (;;) {
          const woken = new Promise<'woken'>((resolve) => (job.wake = () => resolve('woken')));
          const r = await Promise.race([exited, woken]);
          if (r !== 'woken') {
            signal = r.signal;
            spawnError = r.error;
            break;
          }
          if (job.released) return false;
          if (job.stopped) kill();
        }
      } else {
        // Not our child: no exit event. The record says when it is over.
        for (;;) {
          const pid = job.pid!;
          if (!isAlive(pid)) break;
          if ((await record.exitCode()) !== null) break;
          if (job.released) return false;
          if (job.stopped) kill();
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, ADOPTED_POLL_MS);
            t.unref(); // close() wakes it; it never keeps the process alive
            job.wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          if (job.released) return false;
        }
      }
    } finally {
      if (timeoutTimer) clearTimeout(timeoutTimer);
    }
    if (killTimer) {
      // The group may outlive its leader: make sure SIGKILL still reaches it.
      clearTimeout(killTimer);
      const pid = job.pid!;
      setTimeout(() => signalGroup(pid, 'SIGKILL'), Math.min(grace, 1_000)).unref();
    }
    if (spawnError) {
      jlog.warn({ err: spawnError }, 'could not run the command');
      const meta = await record.meta();
      if (meta?.workTree) await removeWorkTree(meta.workTree).catch(() => undefined);
      await report(job, failure(job.jobId, `[conductor] could not run the command: ${spawnError.message}`));
      return true;
    }
    return settle(job, record, jlog, { timedOut, signal });
  }

  /** The job is over: what its record says becomes the result. */
  async function settle(job: Job, record: JobRecord, jlog: Logger, how: { timedOut: boolean; signal: NodeJS.Signals | null }): Promise<boolean> {
    if (job.stopped) return true;
    const state = await record.state();
    let output = await record.tail(maxOutput);
    const note = (line: string): void => {
      output += `${output === '' || output.endsWith('\n') ? '' : '\n'}${line}\n`;
    };
    let result: JobResult;
    if (how.timedOut) {
      note(`[conductor] timed out after ${job.timeoutMinutes ?? '?'} minutes; the job's processes were killed`);
      result = { jobId: job.jobId, succeeded: false, output, exitCode: null, timedOut: true };
    } else if (state.kind === 'exited') {
      if (state.code > 128 && how.signal === null) note(`[conductor] the command was killed by signal ${state.code - 128}`);
      result = { jobId: job.jobId, succeeded: state.code === 0, output, exitCode: state.code, timedOut: false };
    } else if (how.signal) {
      note(`[conductor] the command was killed by ${how.signal}`);
      result = { jobId: job.jobId, succeeded: false, output, exitCode: null, timedOut: false };
    } else {
      // Neither running nor with an exit status: killed with its wrapper (a reboot, the OOM killer), or never spawned.
      note('[conductor] this job was started by an earlier Conductor process and left no exit status: its outcome is unknown');
      result = { jobId: job.jobId, succeeded: false, output, exitCode: null, timedOut: false, unknown: true };
    }
    jlog.info({ succeeded: result.succeeded, exitCode: result.exitCode, timedOut: result.timedOut, unknown: result.unknown === true }, 'job finished');
    // The work tree goes before the report; the record stays until the result is handed over.
    const workTree = state.kind === 'none' ? null : state.meta?.workTree;
    if (workTree) await removeWorkTree(workTree).catch((err: unknown) => jlog.warn({ err }, 'could not remove the work tree'));
    return report(job, result);
  }

  async function stopJob(job: Job): Promise<void> {
    job.stopped = true;
    job.wake(); // the watcher kills the group (SIGTERM, then SIGKILL after the grace period)
    await job.done;
  }

  function track(job: Job, work: (job: Job) => Promise<void>): Job {
    jobs.set(job.jobId, job);
    job.done = work(job).finally(() => {
      if (jobs.get(job.jobId) === job) jobs.delete(job.jobId);
    }); // in the background; never rejects
    return job;
  }

  function newJob(jobId: number, kind: JobRequest['kind'], timeoutMinutes: number | null, req: JobRequest | null): Job {
    return {
      jobId,
      req,
      kind,
      timeoutMinutes,
      handle: { externalId: `local-${jobId}`, url: null },
      stopped: false,
      released: false,
      pid: null,
      wake: () => undefined,
      done: Promise.resolve(),
    };
  }

  return {
    async start(req) {
      if (closed) throw new Error('the shell runner is closed');
      const running = jobs.get(req.jobId);
      if (running) return running.handle;
      return track(newJob(req.jobId, req.kind, req.timeoutMinutes, req), (job) => run(job, req)).handle;
    },

    async stop(jobId) {
      let job = jobs.get(jobId);
      if (!job) {
        // Started by an earlier process and not adopted (yet): its record names its process group.
        const record = new JobRecord(runsDir, jobId);
        const state = await record.state();
        if (state.kind !== 'running') return;
        job = track(newJob(jobId, 'build', null, null), async (j) => {
          j.pid = state.meta.pid;
          j.stopped = true;
          await watch(j, record, null, log.child({ jobId }), null);
          await cleanUp(record, log.child({ jobId }));
        });
      }
      log.info({ jobId }, 'stopping job');
      await stopJob(job);
    },

    async close() {
      closed = true;
      // Leave the processes running: the next Conductor adopts them (behaviour.md §9), and a deploy is never cut in half by a restart.
      for (const job of jobs.values()) {
        job.released = true;
        job.wake();
      }
      await Promise.all([...jobs.values()].map((job) => job.done));
    },

    async liveOutput(jobId, maxBytes) {
      // The record is on disk from spawn until the engine has recorded the result, whoever spawned it.
      const record = new JobRecord(runsDir, jobId);
      if ((await record.state()).kind === 'none') return null;
      return record.tail(maxBytes);
    },

    async resume(running: RunningJob[]) {
      for (const r of running) {
        const m = /^local-(\d+)$/.exec(r.externalId);
        if (!m || Number(m[1]) !== r.jobId || jobs.has(r.jobId)) continue;
        const timeoutMinutes = r.startedAt && r.timeoutAt ? Math.round((r.timeoutAt.getTime() - r.startedAt.getTime()) / 60_000) : null;
        const jlog = log.child({ jobId: r.jobId, kind: r.kind });
        const record = new JobRecord(runsDir, r.jobId);
        track(newJob(r.jobId, r.kind, timeoutMinutes, null), async (job) => {
          let finished = false;
          try {
            finished = await follow(job, record, jlog, r.timeoutAt);
          } catch (err) {
            jlog.error({ err }, 'could not take back a job');
          } finally {
            if (finished) await cleanUp(record, jlog);
          }
        });
      }
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone
  }
}

function failure(jobId: number, output: string): JobResult {
  return { jobId, succeeded: false, output, exitCode: null, timedOut: false };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.trim() : String(err);
}
