import type { BisectPolicy, ConfiguredJobKind, HealthCheckConfig, Policy } from '../domain/index.js';

/** What the engine needs to know of a line from the config file (runtime settings live in the database). */
export interface LineRuntimeConfig {
  name: string;
  branch: string;
  maxCommits: number | null;
  reminderMinutes: number;
  timeouts: Record<ConfiguredJobKind, number>;
  /** The line's commits get GitHub commit statuses (the line names a GitHub repository and a token is set). */
  commitStatuses?: boolean;
  /** behaviour.md §8: the line's health check; absent or null when it has none. */
  health?: HealthCheckConfig | null;
  /** behaviour.md §8: culprit finding; absent: on, two builds at once. */
  bisect?: BisectPolicy;
}

export interface EngineConfig {
  lines: LineRuntimeConfig[];
  policy: Policy;
  /** Public base URL, passed to jobs as CONDUCTOR_URL. */
  publicUrl: string;
  /** Secret values of the environment (tokens): redacted from job output before it is stored or shown. */
  secrets?: string[];
}
