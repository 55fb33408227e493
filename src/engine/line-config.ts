import type { JobKind, Policy } from '../domain/index.js';

/** What the engine needs to know of a line from the config file (runtime settings live in the database). */
export interface LineRuntimeConfig {
  name: string;
  branch: string;
  maxCommits: number | null;
  reminderMinutes: number;
  timeouts: Record<JobKind, number>;
}

export interface EngineConfig {
  lines: LineRuntimeConfig[];
  policy: Policy;
  /** Public base URL, passed to jobs as CONDUCTOR_URL. */
  publicUrl: string;
}
