/**
 * The engine's view of build and deploy jobs. Implementations: Jenkins
 * (parameterised jobs) and a local shell runner
 * (`src/integrations/runner/shell-runner.ts`).
 */

/** `bisect`: a build of one commit for the culprit search (behaviour.md §8); it runs the line's build job. */
export type JobKind = 'build' | 'deploy' | 'rollback' | 'bisect';

export interface JobRequest {
  jobId: number;
  kind: JobKind;
  line: string;
  train: number;
  sha: string;
  branch: string;
  engineer: string | null;
  conductorUrl: string;
  timeoutMinutes: number;
  idempotencyKey: string;
}

export interface JobResult {
  jobId: number;
  succeeded: boolean;
  output: string;
  exitCode: number | null;
  timedOut: boolean;
  /**
   * The runner cannot tell how the job ended (it was running when an earlier
   * Conductor process stopped, and left no exit status). `succeeded` is then
   * false, and the engine records the outcome as unknown (behaviour.md §9), never failed:
   * a deploy or rollback is not run again unless a person decides so.
   */
  unknown?: boolean;
}

export interface BuildRunner {
  /**
   * Start the job and return at once (never wait for the job); the result
   * arrives later through the `onResult` callback given at construction.
   * Idempotent by jobId: starting a job that is already running returns the
   * same handle.
   */
  start(req: JobRequest): Promise<{ externalId: string; url: string | null }>;
  /**
   * Stop a running job (derail, emergency reset, timeout); no-op when not
   * running. `job` is what the database knows of it: with it, a runner whose
   * jobs outlive the process (Jenkins) also stops a job it does not follow
   * (started before a restart and no longer running in the database, or by
   * another process); without it, only the jobs it follows are stopped.
   */
  stop(jobId: number, job?: StopHint): Promise<void>;
  /** Stop everything (process shutdown) without reporting results. */
  close(): Promise<void>;
  /**
   * Take back jobs that were running when the process stopped (start-up).
   * Both runners implement it (Jenkins builds and local jobs outlive the process); a
   * resumed job reports its result through `onResult` exactly once, like a
   * started one. A job it finds ended (or gone without a trace) is reported
   * at once, as succeeded, failed, or `unknown`.
   */
  resume?(running: RunningJob[]): Promise<void>;
  /**
   * The output a job this runner runs on this machine has written so far (its
   * last `maxBytes`), for the Web App to follow while it runs; null when the
   * runner holds no output of that job (a Jenkins build, or a job already reported).
   */
  liveOutput?(jobId: number, maxBytes: number): Promise<string | null>;
}

/** A job the database records as running, as `start` described it. */
export interface RunningJob {
  jobId: number;
  kind: JobKind;
  /** What `start` returned, e.g. `web-build#12` for Jenkins. */
  externalId: string;
  url: string | null;
  startedAt: Date | null;
  /** The job fails at this moment (the engine's deadline); null: no deadline. */
  timeoutAt: Date | null;
}

/** A job to stop as the database records it, so that a runner that does not follow it can still find it. */
export interface StopHint {
  kind: JobKind;
  line: string;
  train: number;
  sha: string;
  /** This Conductor's public URL (the CONDUCTOR_URL its jobs were given). */
  conductorUrl: string;
  /** What `start` returned (`web-build#12`); null when no start was recorded (e.g. its answer was lost). */
  externalId: string | null;
}
