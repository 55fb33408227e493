import type { Bisect, BisectPolicy } from './bisect.js';
import type { HealthPolicy, TrainHealth } from './health.js';
import type { AutoTimeWindow } from './time.js';

/**
 * The domain's picture of one line: what the engine loads under the line lock,
 * hands to a rule, and saves back (by difference) in the same transaction.
 * Only live trains (and the few others an input names) are loaded, so the cost
 * of a decision does not grow with the line's history.
 */
export type LineMode = 'schedule' | 'manual';
export type TrainStatus = 'delivering' | 'verifying' | 'deploying' | 'deployed' | 'derailed';
export type TicketStatus = 'pending' | 'verified';
/** `bisect`: a build of one commit of a failed train, run by the culprit search (behaviour.md §8) with the line's build job. */
export type JobKind = 'build' | 'deploy' | 'rollback' | 'bisect';
/** The kinds a line configures a job (and a timeout) for; a `bisect` job runs the build job. */
export type ConfiguredJobKind = Exclude<JobKind, 'bisect'>;
/** The configured job a job of this kind runs. */
export const configuredKind = (kind: JobKind): ConfiguredJobKind => (kind === 'bisect' ? 'build' : kind);
/**
 * `unknown`: a deploy or rollback whose outcome nobody can tell (its Conductor
 * died while it ran and left no record of how it ended, or it never reported
 * back). It is never retried by itself: a person checks production and says
 * `retry` or `job succeeded|failed` (behaviour.md §9).
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'unknown';

export interface CommitRef {
  sha: string;
  authorName: string;
  authorEmail: string;
  message: string;
  /** Verification travels with the commit, so it survives derail and extend. */
  verifiedBy: string | null;
  verifiedAt: Date | null;
}

export interface Ticket {
  authorEmail: string;
  authorName: string;
  state: TicketStatus;
  /** The author's commits on the train that need verification. */
  commitShas: string[];
  verifiedBy: string | null;
  verifiedAt: Date | null;
  /** When the author was asked to verify (delivery succeeded); reminders count from here. */
  requestedAt: Date | null;
  remindedAt: Date | null;
  externalKey: string | null;
  externalUrl: string | null;
  createdAt: Date;
}

export interface Job {
  kind: JobKind;
  state: JobStatus;
  attempt: number;
  sha: string;
  requestedBy: string;
  externalId: string | null;
  url: string | null;
  output: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  timeoutAt: Date | null;
}

export interface Train {
  number: number;
  state: TrainStatus;
  headSha: string;
  baseSha: string;
  engineer: string | null;
  blocked: string | null;
  derailReason: string | null;
  /** Number of the train this one replaced (extend). */
  replaces: number | null;
  createdBy: string;
  createdAt: Date;
  deliveredAt: Date | null;
  verifiedAt: Date | null;
  deployStartedAt: Date | null;
  deployedAt: Date | null;
  derailedAt: Date | null;
  commits: CommitRef[];
  tickets: Ticket[];
  jobs: Job[];
  /** behaviour.md §8: the watch after its deploy, on a line with a health check; null otherwise. */
  health: TrainHealth | null;
  /** behaviour.md §8: the search for the first failing commit after a failed build; null when none ran. */
  bisect: Bisect | null;
}

export interface LineSettings {
  name: string;
  branch: string;
  mode: LineMode;
  manualReason: string | null;
  /** Who put the line in manual mode (an admin's `mode manual` or emergency reset); null in schedule mode or when the config file did. */
  manualSetBy: string | null;
  autoTime: AutoTimeWindow[];
  freezes: string[];
  timezone: string;
  maxCommits: number | null;
  reminderMinutes: number;
  timeouts: Record<ConfiguredJobKind, number>;
  /** behaviour.md §8: the line's health-check watch settings; null when the line has no `healthCheck`. */
  health: HealthPolicy | null;
  /** behaviour.md §8: culprit finding (`bisect`, `bisectParallel`); absent means on, two builds at once. */
  bisect?: BisectPolicy;
}

export interface LineState {
  settings: LineSettings;
  /** Last commit in production (or the head when the line was added, or a reset target). */
  deployedSha: string;
  /** Newest branch commit recorded; the next fetch reads from here. */
  knownHeadSha: string;
  nextTrainNumber: number;
  /** Commits on no train yet, oldest first. */
  platform: CommitRef[];
  /** Live trains (delivering, verifying, deploying) oldest first, plus any other train an input loaded. */
  trains: Train[];
  /** What production runs (behaviour.md §9); `lastDeployed` mirrors its number and SHA. */
  lastDeployed: { number: number; headSha: string } | null;
  /** The train and SHA of the last successful deploy or rollback; null until the first one. */
  production: Production | null;
  /**
   * behaviour.md §8: set when a health check tripped ("health check failed on train #N: …"):
   * every train created until `unblock` is blocked with it.
   */
  healthBlock: string | null;
}

/** behaviour.md §9: what production runs, since when, by whom, and the train it replaced when it was a rollback. */
export interface Production {
  number: number;
  headSha: string;
  since: Date;
  by: string;
  /** The train production ran before a rollback put this one back; null after a deploy. */
  rolledBackFrom: number | null;
}

/** Who may do what (behaviour.md §3): configured per deployment. */
export interface Policy {
  admins: string[];
  robots: string[];
}

/** Everything a rule may know besides the state: injected so rules stay pure and tests deterministic. */
export interface Context {
  now: Date;
  actor: string;
  policy: Policy;
  /** Uniform in [0, 1): the engineer draw. */
  random: () => number;
}

export const SYSTEM_ACTOR = 'conductor';
