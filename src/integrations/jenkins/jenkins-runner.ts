import Jenkins from 'jenkins';
import type { Logger } from 'pino';
import type { BuildRunner, JobKind, JobRequest, JobResult } from '../../engine/ports/build-runner.js';

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
 * - The result: `build.get` every `pollSeconds` until `building === false`,
 *   or the `/webhooks/jenkins` callback (`handleCallback`), whichever comes
 *   first; reported exactly once.
 * - The timeout (`timeoutMinutes`) counts from the moment the build got its
 *   number: the build is stopped and reported as failed with `timedOut`.
 * - `stop` stops the build (or cancels the queue item) and reports nothing;
 *   when Jenkins cannot be reached it throws and a later `stop` retries.
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
  jobs: Record<JobKind, string>;
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
  handleCallback(body: JenkinsCallback): Promise<CallbackOutcome>;
}

/** The part of the `jenkins` client used here (its bundled types do not match 1.1.0's option objects). */
interface Client {
  job: { build(opts: { name: string; parameters: Record<string, string> }): Promise<unknown> };
  queue: {
    item(n: number): Promise<QueueItem>;
    cancel(n: number): Promise<void>;
  };
  build: {
    get(name: string, n: number): Promise<BuildInfo>;
    stop(name: string, n: number): Promise<void>;
    log(opts: { name: string; number: number }): Promise<unknown>;
  };
}

interface QueueItem {
  id?: number;
  cancelled?: boolean;
  executable?: { number?: number; url?: string } | null;
}

interface BuildInfo {
  number?: number;
  url?: string;
  building?: boolean;
  result?: string | null;
}

interface Run {
  req: JobRequest;
  name: string;
  queueId: number | null;
  number: number | null;
  url: string | null;
  handle: Promise<{ externalId: string; url: string | null }>;
  /** Reported, stopped or closed: nothing more is reported. */
  over: boolean;
  /** stop() asked for it; the remote stop may still be pending. */
  stopped: boolean;
  /** The timeout fired: the build is being stopped and the poller must not report its ABORTED. */
  timingOut: boolean;
  pollTimer: NodeJS.Timeout | null;
  deadline: NodeJS.Timeout | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export function createJenkinsRunner(opts: JenkinsRunnerOptions): JenkinsRunner {
  const log = opts.log.child({ component: 'jenkins-runner' });
  const queueTimeoutMs = opts.queueTimeoutMs ?? 120_000;
  const queuePollMs = opts.queuePollMs ?? 500;
  const pollMs = Math.max(10, opts.pollSeconds * 1000);
  const maxOutput = opts.maxOutputBytes ?? 64 * 1024;
  const remember = opts.rememberFinished ?? 1000;

  const base = new URL(opts.url);
  base.username = encodeURIComponent(opts.user);
  base.password = encodeURIComponent(opts.apiToken);
  const client = new Jenkins({
    baseUrl: base.toString().replace(/\/+$/, ''),
    // API tokens need no CSRF crumb (and the crumb costs an extra GET per POST).
    crumbIssuer: false,
    timeout: opts.requestTimeoutMs ?? 30_000,
  } as ConstructorParameters<typeof Jenkins>[0]) as unknown as Client;

  const runs = new Map<number, Run>();
  /** jobIds and build URLs of runs already reported (or stopped), oldest first. */
  const finished = new Map<string, true>();
  let closed = false;

  function jobName(kind: JobKind): string {
    return opts.jobs[kind];
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
    if (runs.get(run.req.jobId) === run) runs.delete(run.req.jobId);
    remembered(`job:${run.req.jobId}`);
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
      log.warn({ err, jobId: run.req.jobId, build: externalId(run) }, 'could not fetch the console log');
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
      jobId: run.req.jobId,
      succeeded: result === 'SUCCESS' && !extra.timedOut,
      output: compose(head, logText, maxOutput),
      exitCode: null,
      timedOut: extra.timedOut ?? false,
    };
    log.info({ jobId: run.req.jobId, build: externalId(run), result, timedOut: out.timedOut }, 'jenkins job finished');
    try {
      await opts.onResult(out);
    } catch (err) {
      log.error({ err, jobId: run.req.jobId }, 'onResult failed');
    }
  }

  function schedulePoll(run: Run): void {
    if (run.over || run.timingOut || closed) return;
    run.pollTimer = setTimeout(() => void pollOnce(run), pollMs);
  }

  async function pollOnce(run: Run): Promise<void> {
    run.pollTimer = null;
    if (run.over || run.timingOut || run.number === null) return;
    try {
      const info = await client.build.get(run.name, run.number);
      if (run.over || run.timingOut) return;
      if (info.building === false && info.result) {
        await report(run, info.result);
        return;
      }
    } catch (err) {
      log.warn({ err, jobId: run.req.jobId, build: externalId(run) }, 'polling the Jenkins build failed; will retry');
    }
    schedulePoll(run);
  }

  function armTimeout(run: Run): void {
    const ms = run.req.timeoutMinutes * 60_000;
    if (!(ms > 0)) return;
    run.deadline = setTimeout(() => {
      run.deadline = null;
      if (run.over) return;
      run.timingOut = true;
      if (run.pollTimer) clearTimeout(run.pollTimer);
      run.pollTimer = null;
      const note = `timed out after ${run.req.timeoutMinutes} min; the build was stopped`;
      void (async () => {
        if (run.number !== null) {
          await client.build.stop(run.name, run.number).catch((err: unknown) => {
            if (!isRedirectOrOk(err)) log.warn({ err, jobId: run.req.jobId }, 'could not stop the timed-out build');
          });
        }
        await report(run, 'TIMEOUT', { timedOut: true, note });
      })();
    }, ms);
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
        log.warn({ err, jobId: run.req.jobId, queueItem: run.queueId }, 'polling the Jenkins queue failed; will retry');
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

  async function launch(run: Run): Promise<{ externalId: string; url: string | null }> {
    const r = run.req;
    const parameters: Record<string, string> = {
      TRAIN: String(r.train),
      LINE: r.line,
      SHA: r.sha,
      BRANCH: r.branch,
      CONDUCTOR_URL: r.conductorUrl,
      ENGINEER: r.engineer ?? '',
      CONDUCTOR_JOB_ID: String(r.jobId),
    };
    let queued: unknown;
    try {
      queued = await client.job.build({ name: run.name, parameters });
    } catch (err) {
      throw new Error(`Jenkins refused to start ${run.name}: ${errorMessage(err)}`, { cause: err });
    }
    if (typeof queued !== 'number' || !Number.isInteger(queued)) {
      throw new Error(`Jenkins started ${run.name} without a queue item location`);
    }
    run.queueId = queued;
    log.info({ jobId: r.jobId, job: run.name, queueItem: queued }, 'jenkins job queued');
    await waitForBuild(run);
    if (run.number !== null) {
      if (run.stopped) {
        // stop() came while the item was leaving the queue: stop the build it became.
        await client.build.stop(run.name, run.number).catch((err: unknown) => {
          if (!isRedirectOrOk(err)) log.warn({ err, jobId: r.jobId }, 'could not stop the build');
        });
      } else if (!run.over && !closed) {
        log.info({ jobId: r.jobId, build: externalId(run), url: run.url }, 'jenkins build started');
        armTimeout(run);
        schedulePoll(run);
      }
    }
    return { externalId: externalId(run), url: run.url };
  }

  return {
    async start(req) {
      if (closed) throw new Error('the Jenkins runner is closed');
      const existing = runs.get(req.jobId);
      if (existing && !existing.over && !existing.stopped) return existing.handle;
      const run: Run = {
        req,
        name: jobName(req.kind),
        queueId: null,
        number: null,
        url: null,
        handle: Promise.resolve({ externalId: '', url: null }),
        over: false,
        stopped: false,
        timingOut: false,
        pollTimer: null,
        deadline: null,
      };
      runs.set(req.jobId, run);
      run.handle = launch(run).catch((err: unknown) => {
        // Not started: forget it so that a retry triggers Jenkins again.
        run.over = true;
        if (runs.get(req.jobId) === run) runs.delete(req.jobId);
        throw err;
      });
      return run.handle;
    },

    async stop(jobId) {
      const run = runs.get(jobId);
      if (!run || run.over) return;
      run.stopped = true;
      if (run.pollTimer) clearTimeout(run.pollTimer);
      if (run.deadline) clearTimeout(run.deadline);
      run.pollTimer = run.deadline = null;
      try {
        if (run.number !== null) await client.build.stop(run.name, run.number);
        else if (run.queueId !== null) await client.queue.cancel(run.queueId);
        // else: the trigger is in flight; launch() cancels the item once it has its number.
      } catch (err) {
        if (!isRedirectOrOk(err)) {
          log.warn({ err, jobId, build: externalId(run) }, 'could not stop the Jenkins job');
          throw new Error(`could not stop ${externalId(run)}: ${errorMessage(err)}`, { cause: err });
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

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** build.stop and queue.cancel insist on a 302; newer Jenkins answers 2xx, which is success too. */
function isRedirectOrOk(err: unknown): boolean {
  const e = err as { res?: { statusCode?: number }; message?: string } | null;
  const status = e?.res?.statusCode;
  if (typeof status === 'number') return status >= 200 && status < 400;
  // The client's require302 check makes a plain Error (no `res`) for a 2xx answer.
  return e instanceof Error && /\bfailed to (stop|cancel): /.test(e.message);
}

/** The head line, then as much of the log's tail as fits in `max` bytes. */
function compose(head: string, logText: string, max: number): string {
  const headBytes = Buffer.byteLength(head);
  if (!logText) return truncateTail(head, max);
  const room = max - headBytes - 1;
  if (room <= 0) return truncateTail(head, max);
  const buf = Buffer.from(logText, 'utf8');
  if (buf.length <= room) return `${head}\n${logText}`;
  const marker = `[… ${buf.length - room} bytes of the console log dropped …]\n`;
  const keep = Math.max(0, room - Buffer.byteLength(marker));
  const tail = buf.subarray(buf.length - keep).toString('utf8').replace(/^\uFFFD+/, '');
  return `${head}\n${marker}${tail}`;
}

function truncateTail(s: string, max: number): string {
  const buf = Buffer.from(s, 'utf8');
  return buf.length <= max ? s : buf.subarray(0, max).toString('utf8');
}
