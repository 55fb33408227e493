/**
 * Health-gated deploys (behaviour.md §8), the pure part: what a line's health
 * check is, how a Prometheus value is judged, and how one check result moves a
 * watched train's health (consecutive failures, unknowns, the end of the soak).
 */

export type HealthOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';
export const HEALTH_OPERATORS: readonly HealthOperator[] = ['<=', '>=', '==', '!=', '<', '>'];

/** `healthyIf: "< 0.01"`: the value is healthy when `value <op> threshold`. */
export interface HealthCondition {
  op: HealthOperator;
  threshold: number;
}

export type HealthProbeConfig = { kind: 'command'; command: string } | { kind: 'prometheus'; baseUrl: string; query: string; healthyIf: HealthCondition };

/** A line's health check and how the watch after a deploy runs. */
export interface HealthCheckConfig {
  probe: HealthProbeConfig;
  intervalSeconds: number;
  soakMinutes: number;
  failuresToTrip: number;
  autoRollback: boolean;
}

/** What the domain needs of the config (the probe itself is the runner's business). */
export type HealthPolicy = Omit<HealthCheckConfig, 'probe'>;

/**
 * `unknown`: the check could not run (Prometheus down, a bad answer, no
 * sample): neither healthy nor a failure toward the trip.
 */
export type HealthOutcome = 'healthy' | 'failed' | 'unknown';

export interface HealthResult {
  outcome: HealthOutcome;
  /** The Prometheus value, when there was one. */
  value: number | null;
  /** The command's exit code, when it ran to an end. */
  exitCode: number | null;
  message: string;
}

export type HealthState = 'watching' | 'healthy' | 'failed';

/** A deployed train's health: watched from its deploy until `until` (the end of the soak), unless it trips first. */
export interface TrainHealth {
  state: HealthState;
  /** Consecutive failures (an unknown neither counts nor resets). */
  failures: number;
  since: Date;
  until: Date;
  /** The last check's outcome: an unknown is said once, when it begins. */
  last: HealthOutcome | null;
}

/** Parses `"< 0.01"`, `">=5"`, `"== 0"`; null when it is not one of the six operators and a finite number. */
export function parseCondition(text: string): HealthCondition | null {
  const m = /^\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[2]);
  if (!Number.isFinite(n) || m[2]!.trim() === '') return null;
  return { op: m[1] as HealthOperator, threshold: n };
}

export function conditionHolds(c: HealthCondition, value: number): boolean {
  switch (c.op) {
    case '<':
      return value < c.threshold;
    case '<=':
      return value <= c.threshold;
    case '>':
      return value > c.threshold;
    case '>=':
      return value >= c.threshold;
    case '==':
      return value === c.threshold;
    case '!=':
      return value !== c.threshold;
  }
}

export const describeCondition = (c: HealthCondition): string => `${c.op} ${c.threshold}`;

/** The start of a watch, when a deploy succeeds on a line with a health check. */
export function startWatch(now: Date, policy: HealthPolicy): TrainHealth {
  return { state: 'watching', failures: 0, since: now, until: new Date(now.getTime() + policy.soakMinutes * 60_000), last: null };
}

export interface HealthStep {
  health: TrainHealth;
  /** This result made the train trip (the failures reached `failuresToTrip`). */
  tripped: boolean;
  /** This result is the first unknown after a known result (said once, not every interval). */
  becameUnknown: boolean;
}

/**
 * One check result on a watched train: a failure counts, a success resets the
 * count (so a flapping signal never trips), an unknown does neither.
 */
export function applyResult(h: TrainHealth, outcome: HealthOutcome, failuresToTrip: number): HealthStep {
  if (h.state !== 'watching') return { health: h, tripped: false, becameUnknown: false };
  const failures = outcome === 'failed' ? h.failures + 1 : outcome === 'healthy' ? 0 : h.failures;
  const tripped = outcome === 'failed' && failures >= failuresToTrip;
  return {
    health: { ...h, failures, last: outcome, state: tripped ? 'failed' : 'watching' },
    tripped,
    becameUnknown: outcome === 'unknown' && h.last !== 'unknown',
  };
}

/** The soak is over: a watch that did not trip by `until` ends healthy. */
export const soakOver = (h: TrainHealth, now: Date): boolean => h.state === 'watching' && now.getTime() >= h.until.getTime();

/**
 * When the next check of a watched train is due: at once when it has none
 * yet, else one interval after the last (computed from stored results, so a
 * restart resumes where it was).
 */
export function nextCheckAt(h: TrainHealth, lastCheckAt: Date | null, intervalSeconds: number): Date | null {
  if (h.state !== 'watching') return null;
  if (!lastCheckAt) return h.since;
  return new Date(lastCheckAt.getTime() + intervalSeconds * 1000);
}

/** A result in words, for the block reason and the messages: `error rate 0.2 (healthy if < 0.01)`, `exit code 1: …`. */
export function describeResult(r: HealthResult): string {
  const msg = r.message.replace(/\s+/g, ' ').trim().slice(0, 200);
  return msg || r.outcome;
}
