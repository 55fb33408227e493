import type { HealthProbeConfig, HealthResult } from '../../domain/health.js';

/** What a check knows of the train it watches: passed to a command check as environment variables. */
export interface HealthTarget {
  line: string;
  train: number;
  sha: string;
}

/**
 * Runs one health check (behaviour.md §8). It never throws: a check that cannot run
 * answers `unknown` with a message saying why.
 */
export interface HealthProbe {
  check(probe: HealthProbeConfig, target: HealthTarget, timeoutMs: number): Promise<HealthResult>;
}

export const unknown = (message: string): HealthResult => ({ outcome: 'unknown', value: null, exitCode: null, message });
