/**
 * The engine's view of build and deploy jobs. Implementations: Jenkins
 * (parameterised jobs) and a local shell runner
 * (`src/integrations/runner/shell-runner.ts`).
 */

export type JobKind = 'build' | 'deploy' | 'rollback';

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
}

export interface BuildRunner {
  /**
   * Start the job and return at once (never wait for the job); the result
   * arrives later through the `onResult` callback given at construction.
   * Idempotent by jobId: starting a job that is already running returns the
   * same handle.
   */
  start(req: JobRequest): Promise<{ externalId: string; url: string | null }>;
  /** Stop a running job (derail, emergency reset); no-op when not running. */
  stop(jobId: number): Promise<void>;
  /** Stop everything (process shutdown) without reporting results. */
  close(): Promise<void>;
}
