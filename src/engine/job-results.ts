import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Engine } from './engine.js';
import { jobFinished } from './inputs.js';
import type { JobResult } from './ports/build-runner.js';

export interface JobResultsOptions {
  log: Logger;
  /** The wait before attempt `n + 1` (default 1 s, 2 s, 4 s … capped at 30 s). */
  retryDelayMs?: (attempt: number) => number;
  attempts?: number;
}

/**
 * Job results are inputs like any other: runners hand them here, and they are
 * recorded through the engine, retried while the database is unreachable.
 * Runners exist before the engine (they are its ports), so the engine is
 * attached once built. `stop()` ends the retries at once: a result not recorded
 * by then stays with the job's record, handed back at the next start (resume).
 */
export class JobResults {
  private engine: Engine | undefined;
  private readonly stopping = new AbortController();
  private readonly delay: (attempt: number) => number;
  private readonly attempts: number;

  constructor(private readonly opts: JobResultsOptions) {
    this.delay = opts.retryDelayMs ?? ((attempt) => Math.min(30_000, 500 * 2 ** attempt));
    this.attempts = opts.attempts ?? 30;
  }

  attach(engine: Engine): void {
    this.engine = engine;
  }

  /** The runners' `onResult`. */
  readonly deliver = async (r: JobResult): Promise<void> => {
    const log = this.opts.log;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (this.stopping.signal.aborted) break;
      try {
        if (!this.engine) throw new Error('engine not ready');
        const reply = await jobFinished(this.engine, r);
        log.info({ jobId: r.jobId, succeeded: r.succeeded, timedOut: r.timedOut, applied: reply.ok }, 'job finished');
        return;
      } catch (err) {
        log.warn({ err, jobId: r.jobId, attempt }, 'could not record a job result; retrying');
        // Unref'd and abortable: a pending retry never keeps the process alive nor delays a stop.
        const waited = await sleep(this.delay(attempt), true, { signal: this.stopping.signal, ref: false }).catch(() => false);
        if (!waited) break;
      }
    }
    // Rejecting tells the runner the result is not recorded: a runner that keeps results (the shell
    // runner's job records) keeps it and hands it back at the next start.
    if (this.stopping.signal.aborted) throw new Error(`stopping before the result of job ${r.jobId} was recorded`);
    throw new Error(`gave up recording the result of job ${r.jobId}`);
  };

  async stop(): Promise<void> {
    this.stopping.abort();
  }
}
