import type { Logger } from 'pino';
import type { BuildRunner, JobKind, JobRequest, JobResult, RunningJob, StopHint } from '../../engine/ports/build-runner.js';
import { RetryableJenkinsError } from './errors.js';
import { createJenkinsClient, errorMessage, isRedirectOrOk } from './jenkins-client.js';
import { findTriggered, parseExternalId, recordedBuild, type Triggered } from './jenkins-lookup.js';
import { compose } from './jenkins-output.js';

/**
 * The Jenkins BuildRunner: each job triggers a parameterised Jenkins job
 * (`buildWithParameters` with TRAIN, LINE, SHA, BRANCH, CONDUCTOR_URL,
 * ENGINEER, CONDUCTOR_JOB_ID).
 *
 * - `start` returns once Jenkins has given the queue item a build number
 *   (`<job>#<number>` and the build URL); the queue item is polled every
 *   ~500 ms for at most `queueTimeoutMs`. Jenkins unreachable or refusing the
 *   trigger → `start` throws (the caller retries). A queue item that is
 *   cancelled in Jenkins, or still queued at the deadline (it is then
 *   cancelled), is reported as a failed result.
 * - Before triggering, `start` looks for a queue item or build of the same
 *   job carrying the same CONDUCTOR_JOB_ID (jenkins-lookup.ts) and adopts it:
 *   a retry after a lost trigger response does not run the job twice.
 * - `resume` takes back builds that were running when the process stopped
 *   (their `<job>#<number>` from the database): polling, callbacks, and the
 *   timeout from its original deadline, as if this process had started them.
 * - The result: `build.get` every `pollSeconds` until `building === false`,
 *   or the `/webhooks/jenkins` callback (`handleCallback`), whichever comes
 *   first; reported exactly once.
 * - The timeout (`timeoutMinutes`) counts from the moment the build got its
 *   number (a resumed build keeps its recorded deadline): the build is
 *   stopped and reported as failed with `timedOut`.
 * - `stop` stops the build (or cancels the queue item) and reports nothing;
 *   when Jenkins cannot be reached it throws and a later `stop` retries. A job
 *   this runner does not follow (its build outlived a restart after the
 *   engine had failed it, or another process started it) is found from what
 *   the database knows (`stopUntracked`) and stopped all the same.
 * - Output: `Jenkins <RESULT>: <url>` followed by the tail of the console log
 *   (best effort), at most `maxOutputBytes`.
 * - Nothing thrown on the background path escapes.
 */

export interface JenkinsRunnerOptions {
  /** Jenkins base URL, without a trailing slash. */
  url: string;
  user: string;
  apiToken: string;
  /** Jenkins job names per kind (folders as `a/b`). */
  jobs: Record<Exclude<JobKind, 'bisect'>, string>;
  pollSeconds: number;
  log: Logger;
  onResult: (r: JobResult) => Promise<void> | void;
  /** How long a build may wait in the Jenkins queue; default 2 min. */
  queueTimeoutMs?: number;
  /** Queue polling interval; default 500 ms. */
  queuePollMs?: number;
  /** Per-request timeout of the HTTP client; default 30 s. */
  requestTimeoutMs?: number;
  /** Output kept per job; default 64 KiB. */
  maxOutputBytes?: number;
  /** Finished jobs remembered for callbacks that arrive late; default 1000. */
  rememberFinished?: number;
}

export interface JenkinsCallback {
  jobId?: number;
  /** `BUILD_URL` of the build. */
  build?: string;
  number?: number;
  /** `currentBuild.currentResult`: SUCCESS, UNSTABLE, FAILURE, ABORTED… */
  result: string;
}

export type CallbackOutcome = 'accepted' | 'unknown' | 'finished';

export interface JenkinsRunner extends BuildRunner {
  resume(running: RunningJob[]): Promise<void>;
  handleCallback(body: JenkinsCallback): Promise<CallbackOutcome>;
}

interface Run {
  jobId: number;
  name: string;
  /** "after 30 min": the timeout's note. */
  timeoutLabel: string;
  /** When the build is stopped as timed out (epoch ms): set when it gets its number, or the resumed job's deadline. */
  deadlineAt: number | null;
  queueId: number | null;
  number: number | null;
  url: string | null;
  handle: Promise<{ externalId: string; url: string | null }>;
  /** Reported, stopped or closed: nothing more is reported. */
  over: boolean;
  /** stop() asked for it; the remote stop may still be pending. */
  stopped: boolean;
  /** stop() came before the queue item was known: launch() must stop what the trigger became. */
  stopBeforeQueued: boolean;
  /** The timeout fired: the build is being stopped and the poller must not report its ABORTED. */
  timingOut: boolean;
  pollTimer: NodeJS.Timeout | null;
  deadline: NodeJS.Timeout | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

// Over 80 lines on purpose: a factory whose short inner functions share the client and the runs it follows (each is under 80 lines).
export function createJenkinsRunner(opts: JenkinsRunnerOptions): JenkinsRunner {
  const log = opts.log.child({ component: 'jenkins-runner' });
  const queueTimeoutMs = opts.queueTimeoutMs ?? 120_000;
  const queuePollMs = opts.queuePollMs ?? 500;
  const pollMs = Math.max(10, opts.pollSeconds * 1000);
  const maxOutput = opts.maxOutputBytes ?? 64 * 1024;
  const remember = opts.rememberFinished ?? 1000;

  const client = createJenkinsClient({ url: opts.url, user: opts.user, apiToken: opts.apiToken, requestTimeoutMs: opts.requestTimeoutMs ?? 30_000 });

  const runs = new Map<number, Run>();
  /** jobIds and build URLs of runs already reported (or stopped), oldest first. */
  const finished = new Map<string, true>();
  let closed = false;

  function jobName(kind: JobKind): string {
    // A culprit-search build runs the line's build job with SHA set to the commit tried.
    return opts.jobs[kind === 'bisect' ? 'build' : kind];
  }

  function remembered(key: string): void {
    finished.delete(key);
    finished.set(key, true);
    while (finished.size > remember * 2) {
      const oldest = finished.keys().next().value;
      if (oldest === undefined) break;
      finished.delete(oldest);
    }
  }

  function retire(run: Run): void {
    run.over = true;
    if (run.pollTimer) clearTimeout(run.pollTimer);
    if (run.deadline) clearTimeout(run.deadline);
    run.pollTimer = run.deadline = null;
    if (runs.get(run.jobId) === run) runs.delete(run.jobId);
    remembered(`job:${run.jobId}`);
    if (run.url) remembered(`url:${normalizeUrl(run.url)}`);
  }

  function externalId(run: Run): string {
    return run.number !== null ? `${run.name}#${run.number}` : `${run.name} (queue item ${run.queueId ?? '?'})`;
  }

  async function logTail(run: Run): Promise<string> {
    if (run.number === null) return '';
    try {
      const body = await client.build.log({ name: run.name, number: run.number });
      const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
      return text;
    } catch (err) {
      log.warn({ err, jobId: run.jobId, build: externalId(run) }, 'could not fetch the console log');
      return '';
    }
  }

  /** Reports the result once; later calls (poller after callback, callback after poller) do nothing. */
  async function report(run: Run, result: string, extra: { timedOut?: boolean; note?: string } = {}): Promise<void> {
    if (run.over) return;
    retire(run);
    const head = `Jenkins ${result}: ${run.url ?? externalId(run)}${extra.note ? `\n${extra.note}` : ''}`;
    const logText = await logTail(run);
    const out: JobResult = {
      jobId: run.jobId,
      succeeded: result === 'SUCCESS' && !extra.timedOut,
      output: compose(head, logText, maxOutput),
      exitCode: null,
      timedOut: extra.timedOut ?? false,
    };
    log.info({ jobId: run.jobId, build: externalId(run), result, timedOut: out.timedOut }, 'jenkins job finished');
    try {
      await opts.onResult(out);
    } catch (err) {
      log.error({ err, jobId: run.jobId }, 'onResult failed');
    }
  }

  function schedulePoll(run: Run): void {
    if (run.over || run.timingOut || closed) return;
    // Unref'd: a poll never keeps the process alive; close() clears it.
    run.pollTimer = setTimeout(() => void pollOnce(run), pollMs);
    run.pollTimer.unref();
  }

  async function pollOnce(run: Run): Promise<void> {
    run.pollTimer = null;
    if (run.over || run.timingOut || run.number === null) return;
    try {
      const info = await client.build.get(run.name, run.number);
      if (run.over || run.timingOut) return;
      // A resumed or adopted build may lack its URL: callbacks match by it.
      if (run.url === null && typeof info.url === 'string') run.url = info.url;
      if (info.building === false && info.result) {
        await report(run, info.result);
        return;
      }
    } catch (err) {
      log.warn({ err, jobId: run.jobId, build: externalId(run) }, 'polling the Jenkins build failed; will retry');
    }
    schedulePoll(run);
  }

  /**
   * Stops a timed-out build. The job is reported at once either way (the train must not wait for
   * Jenkins), and nothing else would stop the build later: so a failed stop is tried again every
   * poll interval, up to 20 times, in the background.
   */
  async function stopTimedOut(run: Run, attempt: number): Promise<boolean> {
    try {
      await client.build.stop(run.name, run.number!);
      if (attempt > 1) log.info({ jobId: run.jobId, build: externalId(run), attempt }, 'timed-out build stopped');
      return true;
    } catch (err) {
      if (isRedirectOrOk(err)) return true;
      log.warn({ err, jobId: run.jobId, attempt }, 'could not stop the timed-out build');
      if (closed || attempt >= 20) {
        if (!closed) log.error({ jobId: run.jobId, build: externalId(run) }, 'gave up stopping the timed-out build; stop it in Jenkins');
        return false;
      }
      setTimeout(() => void stopTimedOut(run, attempt + 1), pollMs).unref();
      return false;
    }
  }

  function armTimeout(run: Run): void {
    if (run.deadlineAt === null) return;
    // setTimeout cannot wait longer than ~24.8 days; a longer timeout is as good as none.
    const ms = Math.max(0, run.deadlineAt - Date.now());
    if (ms > 2 ** 31 - 1) return;
    run.deadline = setTimeout(() => {
      run.deadline = null;
      if (run.over) return;
      run.timingOut = true;
      if (run.pollTimer) clearTimeout(run.pollTimer);
      run.pollTimer = null;
      void (async () => {
        const stopped = run.number === null || (await stopTimedOut(run, 1));
        const note = stopped
          ? `timed out ${run.timeoutLabel}; the build was stopped`
          : `timed out ${run.timeoutLabel}; Jenkins could not be reached to stop the build: Conductor keeps trying`;
        await report(run, 'TIMEOUT', { timedOut: true, note });
      })();
    }, ms);
    run.deadline.unref();
  }

  /** Waits for the queue item to become a build; the run is retired (reported or stopped) otherwise. */
  async function waitForBuild(run: Run): Promise<void> {
    const deadline = Date.now() + queueTimeoutMs;
    let lastErr: unknown = null;
    while (!run.over) {
      if (run.stopped || closed) return;
      try {
        const item = await client.queue.item(run.queueId!);
        if (item.executable && typeof item.executable.number === 'number') {
          run.number = item.executable.number;
          run.url = item.executable.url ?? null;
          return;
        }
        if (item.cancelled) {
          await report(run, 'CANCELLED', { note: `queue item ${run.queueId} was cancelled in Jenkins` });
          return;
        }
        lastErr = null;
      } catch (err) {
        lastErr = err;
        log.warn({ err, jobId: run.jobId, queueItem: run.queueId }, 'polling the Jenkins queue failed; will retry');
      }
      if (Date.now() >= deadline) {
        await client.queue.cancel(run.queueId!).catch((err: unknown) => {
          if (!isRedirectOrOk(err)) log.warn({ err, queueItem: run.queueId }, 'could not cancel the queue item');
        });
        const why = lastErr ? `: ${errorMessage(lastErr)}` : '';
        await report(run, 'NOT_STARTED', { note: `queue item ${run.queueId} did not start within ${Math.round(queueTimeoutMs / 1000)} s${why}` });
        return;
      }
      await sleep(queuePollMs);
    }
  }

  async function launch(run: Run, r: JobRequest): Promise<{ externalId: string; url: string | null }> {
    const parameters: Record<string, string> = {
      TRAIN: String(r.train),
      LINE: r.line,
      SHA: r.sha,
      BRANCH: r.branch,
      CONDUCTOR_URL: r.conductorUrl,
      ENGINEER: r.engineer ?? '',
      CONDUCTOR_JOB_ID: String(r.jobId),
    };
    let found: Triggered | null;
    try {
      found = await findTriggered(client, run.name, parameters, (url) => finished.has(`url:${normalizeUrl(url)}`));
    } catch (err) {
      // Triggering without knowing could run the job twice: the caller retries instead.
      throw new RetryableJenkinsError(`Jenkins refused to start ${run.name} (looking for an earlier trigger): ${errorMessage(err)}`, { cause: err });
    }
    if (found?.kind === 'build') {
      run.number = found.number;
      run.url = found.url;
      log.info({ jobId: r.jobId, build: externalId(run) }, 'adopting the build an earlier trigger started');
    } else {
      if (found) {
        run.queueId = found.queueId;
        log.info({ jobId: r.jobId, job: run.name, queueItem: found.queueId }, 'adopting the queue item of an earlier trigger');
      } else {
        if (closed) throw new RetryableJenkinsError('the Jenkins runner is closed');
        if (run.stopped) return { externalId: externalId(run), url: null }; // stop() came during the look: trigger nothing
        let queued: unknown;
        try {
          queued = await client.job.build({ name: run.name, parameters });
        } catch (err) {
          throw new RetryableJenkinsError(`Jenkins refused to start ${run.name}: ${errorMessage(err)}`, { cause: err });
        }
        if (typeof queued !== 'number' || !Number.isInteger(queued)) {
          throw new RetryableJenkinsError(`Jenkins started ${run.name} without a queue item location`);
        }
        run.queueId = queued;
        log.info({ jobId: r.jobId, job: run.name, queueItem: queued }, 'jenkins job queued');
      }
      await waitForBuild(run);
    }
    if (run.stopped) await abandon(run);
    else if (run.number !== null && !run.over && !closed) {
      log.info({ jobId: r.jobId, build: externalId(run), url: run.url }, 'jenkins build started');
      run.deadlineAt = r.timeoutMinutes > 0 ? Date.now() + r.timeoutMinutes * 60_000 : null;
      follow(run);
    }
    return { externalId: externalId(run), url: run.url };
  }

  /** Timeout and polling of a build that has its number. */
  function follow(run: Run): void {
    armTimeout(run);
    schedulePoll(run);
  }

  /**
   * stop() came while the trigger was in flight (or the item was leaving the
   * queue): stop what it became, which stop() itself could not name.
   */
  async function abandon(run: Run): Promise<void> {
    try {
      if (run.number === null && run.queueId !== null && run.stopBeforeQueued) {
        const item = await client.queue.item(run.queueId);
        if (typeof item.executable?.number === 'number') run.number = item.executable.number;
        else await client.queue.cancel(run.queueId);
      }
      if (run.number !== null) await client.build.stop(run.name, run.number);
    } catch (err) {
      if (!isRedirectOrOk(err)) log.warn({ err, jobId: run.jobId, build: externalId(run) }, 'could not stop the job stopped while it was being triggered');
    }
  }

  /**
   * stop() for a job this runner does not follow. Without it the build would
   * run on unwatched: e.g. the engine timed the job out and the stop could not
   * be delivered before the process stopped; after the restart the job is no
   * longer running in the database, so `resume` never took it back. The build
   * its start recorded is stopped if it still runs; with no build recorded (a
   * start whose answer was lost), the kind's Jenkins job is searched for a
   * queue item or build carrying its CONDUCTOR_JOB_ID and the rest of its
   * identity (so another Conductor's job with the same id is left alone).
   * Finished already, or nothing found → nothing. Jenkins unreachable →
   * throws, and the outbox retries.
   */
  async function stopUntracked(jobId: number, job: StopHint): Promise<void> {
    if (closed) throw new RetryableJenkinsError('the Jenkins runner is closed');
    const recorded = job.externalId ? parseExternalId(job.externalId) : null;
    // The name recorded at start, not today's config: that is the job that ran.
    const name = recorded?.name ?? jobName(job.kind);
    if (!name) return; // this kind does not run on Jenkins
    const identity = { CONDUCTOR_JOB_ID: String(jobId), TRAIN: String(job.train), LINE: job.line, SHA: job.sha, CONDUCTOR_URL: job.conductorUrl };
    const okOrThrow = (err: unknown) => {
      if (!isRedirectOrOk(err)) throw err;
    };
    type Found = { build: string; url: string | null; outcome: 'stopped' | 'cancelled' | 'already finished' };
    const stopBuild = async (b: { number: number; url: string | null; building: boolean }): Promise<Found> => {
      if (b.building) await client.build.stop(name, b.number).catch(okOrThrow);
      return { build: `${name}#${b.number}`, url: b.url, outcome: b.building ? 'stopped' : 'already finished' };
    };
    let found: Found | null = null;
    try {
      if (recorded) {
        const b = await recordedBuild(client, name, recorded.number, identity);
        if (b) found = await stopBuild(b);
      } else {
        // A queue item may start between the look and the cancel (the cancel then does nothing): look again.
        for (let round = 0; round < 3; round++) {
          const t = await findTriggered(client, name, identity, () => false);
          if (t?.kind === 'queued') {
            await client.queue.cancel(t.queueId).catch(okOrThrow);
            found = { build: `${name} (queue item ${t.queueId})`, url: null, outcome: 'cancelled' };
            continue;
          }
          if (t) found = await stopBuild(t);
          break;
        }
      }
    } catch (err) {
      // The Jenkins job or build is gone (deleted, renamed): nothing of it can still run.
      if ((err as { notFound?: boolean } | null)?.notFound) {
        log.warn({ jobId, job: name }, 'nothing to stop: not in Jenkins (any more)');
        return;
      }
      log.warn({ err, jobId, job: name }, 'could not stop a Jenkins job this process does not follow');
      throw new RetryableJenkinsError(`could not stop job ${jobId} in ${name}: ${errorMessage(err)}`, { cause: err });
    }
    if (!found) {
      log.info({ jobId, job: name }, 'nothing to stop: no build of this job in Jenkins');
      return;
    }
    // A late callback of that build is then known as finished, not as an unknown build.
    remembered(`job:${jobId}`);
    if (found.url) remembered(`url:${normalizeUrl(found.url)}`);
    log.info({ jobId, build: found.build, outcome: found.outcome }, 'jenkins job this process did not follow, found in Jenkins');
  }

  function newRun(jobId: number, name: string, timeoutLabel: string): Run {
    return {
      jobId,
      name,
      timeoutLabel,
      deadlineAt: null,
      queueId: null,
      number: null,
      url: null,
      handle: Promise.resolve({ externalId: '', url: null }),
      over: false,
      stopped: false,
      stopBeforeQueued: false,
      timingOut: false,
      pollTimer: null,
      deadline: null,
    };
  }

  /** A build from the database: followed again from where the last process left it. */
  function adopt(job: RunningJob): void {
    const existing = runs.get(job.jobId);
    if (existing && !existing.over) return;
    const parsed = parseExternalId(job.externalId);
    if (!parsed) {
      // Still in the queue when the last process stopped (`<job> (queue item n)`): the engine's timeout ends it.
      log.warn({ jobId: job.jobId, externalId: job.externalId }, 'cannot resume a Jenkins job without a build number');
      return;
    }
    const minutes = job.startedAt && job.timeoutAt ? Math.round((job.timeoutAt.getTime() - job.startedAt.getTime()) / 60_000) : null;
    // The name recorded at start, not today's config: that is the job that runs.
    const run = newRun(job.jobId, parsed.name, minutes !== null ? `after ${minutes} min` : `at ${job.timeoutAt?.toISOString() ?? 'its deadline'}`);
    run.number = parsed.number;
    run.url = job.url;
    run.deadlineAt = job.timeoutAt?.getTime() ?? null;
    run.handle = Promise.resolve({ externalId: externalId(run), url: run.url });
    runs.set(job.jobId, run);
    log.info({ jobId: job.jobId, build: externalId(run), deadline: job.timeoutAt }, 'resuming a jenkins build');
    armTimeout(run);
    // At once: the build may have finished while no process was watching.
    void pollOnce(run);
  }

  return {
    async start(req) {
      if (closed) throw new RetryableJenkinsError('the Jenkins runner is closed');
      const existing = runs.get(req.jobId);
      if (existing && !existing.over && !existing.stopped) return existing.handle;
      const run = newRun(req.jobId, jobName(req.kind), `after ${req.timeoutMinutes} min`);
      runs.set(req.jobId, run);
      run.handle = launch(run, req).catch((err: unknown) => {
        // Not started: forget it so that a retry looks in Jenkins (and triggers) again.
        run.over = true;
        if (runs.get(req.jobId) === run) runs.delete(req.jobId);
        throw err;
      });
      return run.handle;
    },

    async resume(running) {
      if (closed) return;
      for (const job of running) adopt(job);
    },

    async stop(jobId, job) {
      const run = runs.get(jobId);
      if (!run || run.over) {
        if (job) await stopUntracked(jobId, job);
        return;
      }
      run.stopped = true;
      if (run.pollTimer) clearTimeout(run.pollTimer);
      if (run.deadline) clearTimeout(run.deadline);
      run.pollTimer = run.deadline = null;
      try {
        if (run.number !== null) await client.build.stop(run.name, run.number);
        else if (run.queueId !== null) await client.queue.cancel(run.queueId);
        else run.stopBeforeQueued = true; // the trigger is in flight: launch() stops what it becomes
      } catch (err) {
        if (!isRedirectOrOk(err)) {
          log.warn({ err, jobId, build: externalId(run) }, 'could not stop the Jenkins job');
          throw new RetryableJenkinsError(`could not stop ${externalId(run)}: ${errorMessage(err)}`, { cause: err });
        }
      }
      log.info({ jobId, build: externalId(run) }, 'jenkins job stopped');
      retire(run);
    },

    async close() {
      closed = true;
      for (const run of [...runs.values()]) {
        run.over = true;
        if (run.pollTimer) clearTimeout(run.pollTimer);
        if (run.deadline) clearTimeout(run.deadline);
      }
      runs.clear();
    },

    async handleCallback(body) {
      let run: Run | undefined;
      if (typeof body.jobId === 'number') {
        run = runs.get(body.jobId);
        if (!run || run.over) return finished.has(`job:${body.jobId}`) ? 'finished' : 'unknown';
      } else if (body.build) {
        const wanted = normalizeUrl(body.build);
        run = [...runs.values()].find((r) => !r.over && r.url !== null && normalizeUrl(r.url) === wanted);
        if (!run) return finished.has(`url:${wanted}`) ? 'finished' : 'unknown';
      } else {
        return 'unknown';
      }
      // A callback from another build of the same jobId (an earlier attempt) is not this run's result.
      if (body.build && run.url && normalizeUrl(body.build) !== normalizeUrl(run.url)) {
        return finished.has(`url:${normalizeUrl(body.build)}`) ? 'finished' : 'unknown';
      }
      if (typeof body.number === 'number' && run.number !== null && body.number !== run.number) return 'unknown';
      if (run.stopped) return 'finished';
      if (run.url === null && body.build) run.url = body.build;
      if (run.number === null && typeof body.number === 'number') run.number = body.number;
      await report(run, body.result);
      return 'accepted';
    },
  };
}

function normalizeUrl(u: string): string {
  return u.trim().replace(/\/+$/, '');
}
