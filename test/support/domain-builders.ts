/**
 * Builders and a tiny harness for the pure domain (src/domain).
 *
 * The harness imitates what the engine does around every decision: it applies
 * an accepted decision's state and then "reloads" the line, which keeps only
 * live trains (delivering, verifying, deploying), trains with an unfinished
 * job, and the trains a test asks to keep (a rollback target). Deployed and
 * derailed trains disappear from `trains` exactly as they do in production.
 */
import { expect } from 'vitest';
import {
  type CommitRef,
  type Context,
  commitsArrived,
  type Decision,
  type Effect,
  goingTrain,
  type JobKind,
  jobFinished,
  jobStarted,
  type LineSettings,
  type LineState,
  latestJob,
  type Policy,
  SYSTEM_ACTOR,
  type Train,
  tick,
  verify,
} from '../../src/domain/index.js';
import { WEEKDAYS } from '../../src/domain/time.js';

// ---------------------------------------------------------------------------
// People and time
// ---------------------------------------------------------------------------

export const ADMIN = 'admin@acme.test';
export const ALICE = 'alice@acme.test';
export const BOB = 'bob@acme.test';
export const CAROL = 'carol@acme.test';
export const DAVE = 'dave@acme.test';
export const ROBOT = 'renovate@acme.test';
export const STRANGER = 'mallory@acme.test';

export const POLICY: Policy = { admins: [ADMIN], robots: [ROBOT] };

/** Monday 5 January 2026, 12:00 UTC. */
export const MONDAY_NOON = new Date('2026-01-05T12:00:00Z');
export const minutes = (n: number): number => n * 60_000;
export const later = (at: Date, mins: number): Date => new Date(at.getTime() + minutes(mins));
/** An instant on Monday 5 January 2026 (UTC), `HH:MM`. */
export const monday = (hhmm: string): Date => new Date(`2026-01-05T${hhmm}:00Z`);

export const ALWAYS = [{ days: [...WEEKDAYS], start: '00:00', end: '24:00' }];
/** Office hours: weekdays 09:00-17:00 UTC. */
export const OFFICE_HOURS = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'] as LineSettings['autoTime'][number]['days'], start: '09:00', end: '17:00' }];

export const BASE_SHA = 'base000'.padEnd(40, '0');

// ---------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------

export type LineOverrides = Partial<Omit<LineState, 'settings'>> & { settings?: Partial<LineSettings> };

export function aLine(overrides: LineOverrides = {}): LineState {
  const { settings, ...rest } = overrides;
  return {
    settings: {
      name: 'web',
      branch: 'main',
      mode: 'schedule',
      manualReason: null,
      manualSetBy: null,
      autoTime: structuredClone(ALWAYS),
      freezes: [],
      timezone: 'UTC',
      maxCommits: null,
      reminderMinutes: 30,
      timeouts: { build: 30, deploy: 60, rollback: 60 },
      health: null,
      // The culprit search (behaviour.md §8) is off in the baseline, so rule tests see only the train's own jobs; test/domain/bisect.test.ts turns it on.
      bisect: { enabled: false, parallel: 2 },
      ...settings,
    },
    deployedSha: BASE_SHA,
    knownHeadSha: BASE_SHA,
    nextTrainNumber: 1,
    platform: [],
    trains: [],
    lastDeployed: null,
    production: null,
    healthBlock: null,
    ...rest,
  };
}

/** A commit; `sha` may be short (`c1`): it is padded to 40 characters. */
export function aCommit(sha: string, author: string, message?: string): CommitRef {
  const local = author.split('@')[0] ?? author;
  return {
    sha: sha.toLowerCase().padEnd(40, '0'),
    authorName: local.charAt(0).toUpperCase() + local.slice(1),
    authorEmail: author,
    message: message ?? `change ${sha} by ${local}`,
    verifiedBy: null,
    verifiedAt: null,
  };
}

/** The full sha `aCommit(short, …)` produces. */
export const sha = (short: string): string => short.toLowerCase().padEnd(40, '0');

export function ctxAt(actor: string, now: Date = MONDAY_NOON, random: () => number = () => 0, policy: Policy = POLICY): Context {
  return { now, actor, policy, random };
}

// ---------------------------------------------------------------------------
// The engine's reload, and a decision runner
// ---------------------------------------------------------------------------

const LIVE = new Set(['delivering', 'verifying', 'deploying']);

/**
 * What the engine would load next: live trains, trains with an unfinished job,
 * and the trains named in `keep` (e.g. the deployed train a rollback targets).
 */
export function reload(s: LineState, keep: number[] = []): LineState {
  return {
    ...s,
    trains: s.trains.filter(
      (t) => LIVE.has(t.state) || keep.includes(t.number) || t.health?.state === 'watching' || t.jobs.some((j) => j.state === 'queued' || j.state === 'running' || j.state === 'unknown'),
    ),
  };
}

/** Applies a decision to the state it was taken on: the new state (reloaded) when accepted, else the same state. */
export function run(s: LineState, decision: Decision, keep: number[] = []): LineState {
  return decision.ok ? reload(decision.state, keep) : s;
}

export type Accepted = Extract<Decision, { ok: true }>;

export function ok(decision: Decision): Accepted {
  if (!decision.ok) throw new Error(`expected the decision to be accepted, got refusal: ${decision.reply}`);
  return decision;
}

export function refused(decision: Decision): string {
  if (decision.ok) throw new Error(`expected a refusal, got: ${decision.reply}`);
  return decision.reply;
}

export function effectsOf<K extends Effect['kind']>(decision: Decision, kind: K): Extract<Effect, { kind: K }>[] {
  return decision.ok ? decision.effects.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind) : [];
}

export const dmsTo = (decision: Decision, to: string) => effectsOf(decision, 'chat.dm').filter((e) => e.to === to);
export const announcements = (decision: Decision): string[] => effectsOf(decision, 'chat.announce').map((e) => e.text);

/** Short shas (as given to `aCommit`) of a list of commits, for readable assertions. */
export const shortShas = (commits: { sha: string }[]): string[] => commits.map((c) => c.sha.replace(/0+$/, ''));

// ---------------------------------------------------------------------------
// A stateful scenario: the engine loop in miniature
// ---------------------------------------------------------------------------

type Rule<A extends unknown[]> = (s: LineState, ctx: Context, ...args: A) => Decision;

export class Sim {
  state: LineState;
  now: Date;
  random: () => number = () => 0;
  policy: Policy = POLICY;
  /** Train numbers kept across reloads (rollback targets). */
  keep: number[] = [];
  /** Every decision taken, newest last. */
  readonly log: Decision[] = [];

  constructor(state: LineState = aLine(), now: Date = MONDAY_NOON) {
    this.state = state;
    this.now = now;
  }

  get last(): Decision {
    const d = this.log[this.log.length - 1];
    if (!d) throw new Error('no decision yet');
    return d;
  }

  ctx(actor: string): Context {
    return ctxAt(actor, this.now, this.random, this.policy);
  }

  /** Runs a rule as `actor` and applies the outcome. Asserts the input state was not mutated. */
  as<A extends unknown[]>(actor: string, rule: Rule<A>, ...args: A): Decision {
    const before = structuredClone(this.state);
    const decision = rule(this.state, this.ctx(actor), ...args);
    expect(this.state, 'a rule must never mutate its input state').toEqual(before);
    this.log.push(decision);
    this.state = run(this.state, decision, this.keep);
    return decision;
  }

  advance(mins: number): this {
    this.now = later(this.now, mins);
    return this;
  }

  at(when: Date): this {
    this.now = when;
    return this;
  }

  /** A push: new commits land on the platform (rule 1). */
  push(...commits: CommitRef[]): Decision {
    const head = commits[commits.length - 1]?.sha ?? this.state.knownHeadSha;
    return this.as(SYSTEM_ACTOR, commitsArrived, commits, head, false);
  }

  tick(): Decision {
    return this.as(SYSTEM_ACTOR, tick);
  }

  train(n: number): Train {
    const t = this.state.trains.find((x) => x.number === n);
    if (!t) throw new Error(`train #${n} is not loaded (trains: ${this.state.trains.map((x) => `#${x.number} ${x.state}`).join(', ') || 'none'})`);
    return t;
  }

  get going(): Train | undefined {
    return goingTrain(this.state);
  }

  /** The going train; fails the test when there is none. */
  get goingOrFail(): Train {
    const t = goingTrain(this.state);
    if (!t) throw new Error('no train is going');
    return t;
  }

  get platformShas(): string[] {
    return shortShas(this.state.platform);
  }

  /** Starts (if queued) then finishes the latest job of `kind` on train `n`. */
  finishJob(n: number, kind: JobKind, succeeded: boolean, opts: { timedOut?: boolean; output?: string } = {}): Decision {
    const t = this.train(n);
    const job = latestJob(t, kind);
    if (!job) throw new Error(`train #${n} has no ${kind} job`);
    const ref = { train: n, kind, attempt: job.attempt };
    if (job.state === 'queued') ok(this.as(SYSTEM_ACTOR, jobStarted, ref, `${kind}-${n}-${job.attempt}`, `https://ci.test/${kind}/${n}/${job.attempt}`));
    return this.as(SYSTEM_ACTOR, jobFinished, ref, succeeded, opts.output ?? (succeeded ? 'ok' : 'boom'), opts.timedOut ?? false);
  }

  /** The runner of the latest `kind` job of train `n` cannot tell how it ended (behaviour.md §9). */
  reportUnknown(n: number, kind: JobKind): Decision {
    const t = this.train(n);
    const job = latestJob(t, kind);
    if (!job) throw new Error(`train #${n} has no ${kind} job`);
    const ref = { train: n, kind, attempt: job.attempt };
    if (job.state === 'queued') ok(this.as(SYSTEM_ACTOR, jobStarted, ref, `${kind}-${n}-${job.attempt}`, `https://ci.test/${kind}/${n}/${job.attempt}`));
    return this.as(SYSTEM_ACTOR, jobFinished, ref, 'unknown', '[conductor] no record of the outcome', false);
  }

  startJob(n: number, kind: JobKind): Decision {
    const job = latestJob(this.train(n), kind);
    if (!job) throw new Error(`train #${n} has no ${kind} job`);
    return this.as(SYSTEM_ACTOR, jobStarted, { train: n, kind, attempt: job.attempt }, `${kind}-${n}-${job.attempt}`, `https://ci.test/${kind}/${n}/${job.attempt}`);
  }

  succeedBuild(n = this.goingOrFail.number): Accepted {
    return ok(this.finishJob(n, 'build', true));
  }
  failBuild(n = this.goingOrFail.number): Accepted {
    return ok(this.finishJob(n, 'build', false));
  }
  /** The rollback job run on deployed train `n` succeeds. */
  succeedJob(n: number, kind: JobKind = 'rollback'): Accepted {
    return ok(this.finishJob(n, kind, true));
  }
  succeedDeploy(n: number): Accepted {
    return ok(this.finishJob(n, 'deploy', true));
  }
  failDeploy(n: number): Accepted {
    return ok(this.finishJob(n, 'deploy', false));
  }

  /** Every pending ticket of train `n` verified by its author (robots' by an admin). */
  verifyAll(n = this.goingOrFail.number): this {
    for (const k of [...this.train(n).tickets]) {
      if (k.state !== 'pending') continue;
      const who = this.policy.robots.includes(k.authorEmail) ? this.policy.admins[0]! : k.authorEmail;
      ok(this.as(who, verify, n));
    }
    return this;
  }

  /** Build succeeds and every ticket is verified: the train is ready to deploy. */
  deliverAndVerify(n = this.goingOrFail.number): this {
    this.succeedBuild(n);
    return this.verifyAll(n);
  }
}
