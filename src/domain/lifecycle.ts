import { cancelBisect } from './bisect.js';
import { goingTrain, isGoing } from './deployability.js';
import type { Draft } from './draft.js';
import { isValidEmail } from './identity.js';
import { addJob, stopJobs } from './jobs.js';
import type { CommitRef, Context, LineState, Train } from './model.js';
import { SYSTEM_ACTOR } from './model.js';
import { isRobot, norm } from './policy.js';
import { isInAutoTime } from './schedule.js';
import { hasCarriedVerification, ticketsFor } from './tickets.js';

export { addJob, stopJobs };

/** The branch commit just before the platform: the head of a train still deploying, else the deployed head. */
export function platformBase(s: LineState): string {
  const deploying = s.trains.filter((t) => t.state === 'deploying').sort((a, b) => b.number - a.number)[0];
  return deploying?.headSha ?? s.deployedSha;
}

export function inAutoTime(s: LineState, now: Date): boolean {
  const { autoTime, freezes, timezone } = s.settings;
  return isInAutoTime(now, autoTime, freezes, timezone);
}

/** Rule 3: in schedule mode, inside auto-time, with no train going, take the platform. */
export function canAutoStart(s: LineState, now: Date): boolean {
  return s.settings.mode === 'schedule' && !goingTrain(s) && s.platform.length > 0 && inAutoTime(s, now);
}

export function autoStart(d: Draft): void {
  const s = d.state;
  if (!canAutoStart(s, d.ctx.now)) return;
  const take = s.settings.maxCommits ? s.platform.slice(0, s.settings.maxCommits) : s.platform.slice();
  createTrain(d, take, { createdBy: SYSTEM_ACTOR });
}

/**
 * Rule 11: the engineer is drawn at random among the train's human authors (never a robot).
 * An author whose email is not one a person can have (identity.ts: too long, control or
 * text-direction characters, not an address) is no valid human identity: never drawn.
 */
export function pickEngineer(commits: CommitRef[], ctx: Context): string | null {
  const humans: string[] = [];
  for (const c of commits) {
    const email = norm(c.authorEmail);
    if (!isValidEmail(email)) continue;
    if (!isRobot(ctx.policy, email) && !humans.includes(email)) humans.push(email);
  }
  if (humans.length === 0) return null;
  const i = Math.min(humans.length - 1, Math.floor(ctx.random() * humans.length));
  return humans[i] ?? null;
}

interface CreateOptions {
  createdBy: string;
  /** Extend: the train being replaced (its engineer and ticket keys carry over). */
  replaces?: Train;
}

/**
 * Creates a train from `commits`, which must be the oldest commits of the
 * platform (or, for extend, the replaced train's commits followed by the platform).
 */
export function createTrain(d: Draft, commits: CommitRef[], opts: CreateOptions): Train {
  const s = d.state;
  const { now } = d.ctx;
  const taken = new Set(commits.map((c) => c.sha));
  s.platform = s.platform.filter((c) => !taken.has(c.sha));
  const number = s.nextTrainNumber++;
  const head = commits[commits.length - 1];
  if (!head) throw new Error('createTrain needs at least one commit');
  const train: Train = {
    number,
    state: 'delivering',
    headSha: head.sha,
    baseSha: opts.replaces?.baseSha ?? platformBase(s),
    engineer: opts.replaces ? opts.replaces.engineer : pickEngineer(commits, d.ctx),
    // behaviour.md §8: after a health check tripped, every train created until `unblock` is blocked.
    blocked: s.healthBlock,
    derailReason: null,
    replaces: opts.replaces?.number ?? null,
    createdBy: opts.createdBy,
    createdAt: now,
    deliveredAt: null,
    verifiedAt: null,
    deployStartedAt: null,
    deployedAt: null,
    derailedAt: null,
    commits,
    tickets: [],
    jobs: [],
    health: null,
    bisect: null,
  };
  // Rule 6: verified changes stay verified while the new train builds.
  train.tickets = ticketsFor(train, d.ctx.policy, now, opts.replaces?.tickets).filter((k) => hasCarriedVerification(train, k));
  s.trains.push(train);
  addJob(d, train, 'build', head.sha);

  const authors = distinctAuthors(commits);
  const how = opts.replaces ? `replacing train #${opts.replaces.number}` : opts.createdBy === 'conductor' ? 'automatically' : `by ${opts.createdBy}`;
  d.announce(
    `Train #${number} created ${how}: ${commits.length} commit${commits.length === 1 ? '' : 's'} by ${summariseNames(authors)}; head ${short(head.sha)}; engineer ${train.engineer ?? 'none (claim it with `/conductor engineer me`)'}.`,
    number,
  );
  if (train.engineer && !opts.replaces) d.dm(train.engineer, `You are the engineer of train #${number}. You will start its production deploy once it is verified.`, number);
  for (const a of authors) {
    if (isRobot(d.ctx.policy, a)) continue;
    const mine = commits.filter((c) => norm(c.authorEmail) === a).length;
    d.dm(a, `Your ${mine === 1 ? 'change is' : `${mine} changes are`} on train #${number}; it is building now.`, number);
  }
  d.record(opts.replaces ? 'train.extended' : 'train.created', number, {
    commits: commits.length,
    headSha: head.sha,
    engineer: train.engineer,
    replaces: opts.replaces?.number ?? null,
  });
  return train;
}

/**
 * Ends a going train (or one whose production deploy failed): stops its jobs
 * and puts its commits back at the front of the platform (rule 7).
 */
export function derailTrain(d: Draft, train: Train, reason: string, returnCommits: boolean): void {
  if (!isGoing(train) && train.state !== 'deploying') throw new Error(`train #${train.number} cannot be derailed`);
  train.state = 'derailed';
  train.derailReason = reason;
  train.derailedAt = d.ctx.now;
  // behaviour.md §8: a derail or extend ends the culprit search; its builds stop with the train's.
  cancelBisect(d, train, reason.startsWith('extended') ? `the train was ${reason}` : `the train was derailed (${reason})`);
  stopJobs(d, train);
  if (returnCommits) d.state.platform = [...train.commits, ...d.state.platform];
}

export function distinctAuthors(commits: CommitRef[]): string[] {
  const out: string[] = [];
  for (const c of commits) {
    const e = norm(c.authorEmail);
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

export function summariseNames(names: string[], max = 5): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

export const short = (sha: string): string => sha.slice(0, 8);
