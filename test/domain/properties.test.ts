/**
 * Property-based tests of the train rules (docs/architecture.md: "random sequences of
 * pushes, starts, derails, extends, verifies and deploys never break the
 * invariants").
 *
 * Each run drives one line through a random sequence of inputs, by random
 * actors (admins, authors, robots, strangers, and "whoever is the engineer"
 * so that trains do get deployed), with the clock moving in and out of
 * auto-time. Between two inputs the harness reloads the line like the engine
 * does (deployed and derailed trains disappear). After every step it checks:
 *
 * - at most one going train, at most one deploying train;
 * - every commit ever pushed is in exactly one of {platform, one live train,
 *   a deployed train, removed by a reset}, and nothing else is anywhere;
 * - the branch order is preserved: live trains (oldest first) then the
 *   platform are in push order, and each train starts where the previous ends;
 * - a train starts deploying and reaches 'deployed' only with every ticket
 *   verified and every commit that needs a verification covered; never twice;
 *   no commit rides two deployed trains;
 * - a rule never mutates its input, and a refusal changes nothing;
 * - train numbers strictly increase; a new (non-extended) train's engineer is
 *   one of its human authors, never a robot;
 * - what a decision made happen (src/domain/happenings.ts, what /metrics counts):
 *   every train reaching 'deployed' once, every derail that is not an extend,
 *   every job's outcome exactly once (again only when an unknown one is settled).
 */

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { happenings } from '../../src/domain/happenings.js';
import {
  block,
  type CommitRef,
  type Context,
  changeFreeze,
  commitsArrived,
  currentTrain,
  type Decision,
  deploy,
  derail,
  emergency,
  engineer,
  extend,
  goingTrain,
  jobFinished,
  jobStarted,
  type LineState,
  markJob,
  maxBuilds,
  needsVerification,
  reopen,
  retry,
  revert,
  rollback,
  SYSTEM_ACTOR,
  setMode,
  start,
  type Train,
  tick,
  unblock,
  verify,
} from '../../src/domain/index.js';
import { localDate } from '../../src/domain/schedule.js';
import { ADMIN, ALICE, aCommit, aLine, BOB, CAROL, DAVE, later, POLICY, ROBOT, reload, STRANGER } from '../support/domain-builders.js';

const NUM_RUNS = 1000;
const MAX_STEPS = 100;

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/** Random actors, weighted towards the people who can move a train (so that trains do reach production). */
const WHO = ['admin', 'admin', 'alice', 'bob', 'carol', 'robot', 'stranger', 'engineer', 'engineer', 'engineer', 'author', 'author', 'author'] as const;
type Who = (typeof WHO)[number];
const who = fc.constantFrom(...WHO);
/** For deploy, retry and unblock: usually the engineer, but anyone may try. */
const driver = fc.constantFrom<Who>('engineer', 'engineer', 'engineer', 'engineer', 'engineer', ...WHO);
/** For verify: usually an author who owes a verification, but anyone may try. */
const verifier = fc.constantFrom<Who>('author', 'author', 'author', 'author', 'author', ...WHO);
const PUSHERS = [ALICE, BOB, CAROL, DAVE, ROBOT];
const TAGS = ['', '', '', ' [no-verify]', ' [needs-verify]'];

type Op =
  | { k: 'push'; authors: number[]; tags: number[] }
  | { k: 'wait'; minutes: number }
  | { k: 'start'; who: Who; at: number | null }
  | { k: 'derail' | 'extend' | 'deploy' | 'unblock' | 'retry' | 'emergency' | 'reopen'; who: Who }
  | { k: 'freeze'; who: Who; add: boolean }
  | { k: 'block'; who: Who; empty: boolean }
  | { k: 'revert'; who: Who; pick: number }
  | { k: 'verify'; who: Who; numbered: boolean }
  | { k: 'jobStart'; pick: number }
  | { k: 'jobFinish'; pick: number; ok: boolean; timedOut: boolean; unknown: boolean }
  | { k: 'markJob'; who: Who; ok: boolean; numbered: boolean }
  | { k: 'mode'; who: Who; mode: 'manual' | 'schedule' }
  | { k: 'engineer'; who: Who; target: Who | 'me' }
  | { k: 'rollback'; who: Who; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('push' as const),
      authors: fc.array(fc.nat(PUSHERS.length - 1), { minLength: 1, maxLength: 3 }),
      tags: fc.array(fc.nat(TAGS.length - 1), { minLength: 3, maxLength: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('wait' as const),
      minutes: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 60, max: 720 }) }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('start' as const), who, at: fc.option(fc.nat(8), { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('derail' as const), who }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('extend' as const), who }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('deploy' as const), who: driver }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('block' as const), who, empty: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('unblock' as const), who: driver }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('retry' as const), who: driver }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('emergency' as const), who }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reopen' as const), who }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('freeze' as const), who, add: fc.constantFrom(true, false, false) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('revert' as const), who, pick: fc.nat() }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('verify' as const), who: verifier, numbered: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('jobStart' as const), pick: fc.nat() }) },
  {
    weight: 10,
    arbitrary: fc.record({ k: fc.constant('jobFinish' as const), pick: fc.nat(), ok: fc.boolean(), timedOut: fc.boolean(), unknown: fc.constantFrom(false, false, false, false, true) }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('markJob' as const), who: driver, ok: fc.boolean(), numbered: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('mode' as const), who, mode: fc.constantFrom('manual' as const, 'schedule' as const, 'schedule' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('engineer' as const), who, target: fc.constantFrom<Who | 'me'>('me', ...WHO) }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('rollback' as const), who: driver, pick: fc.nat() }) },
);

const scenario = fc.record({
  ops: fc.array(op, { minLength: 40, maxLength: MAX_STEPS, size: 'max' }),
  maxCommits: fc.constantFrom(null, null, 2, 3),
  randoms: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 8 }),
  /** Minutes after Monday 00:00 UTC: mostly a weekday between 05:00 and midnight (in and around auto-time), sometimes anywhere in the week. */
  startMinute: fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.nat(4), fc.integer({ min: 5 * 60, max: 24 * 60 - 1 })).map(([day, minute]) => day * 1440 + minute) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 * 24 * 60 - 1 }) },
  ),
});

// ---------------------------------------------------------------------------
// The model the harness keeps beside the state
// ---------------------------------------------------------------------------

const LIVE = new Set(['delivering', 'verifying', 'deploying']);
const isLive = (t: Train) => LIVE.has(t.state);

interface Model {
  /** Push order of every sha ever pushed. */
  order: Map<string, number>;
  known: Map<string, CommitRef>;
  deployedShas: Set<string>;
  removedShas: Set<string>;
  deployedTrains: Map<number, Train>;
  maxNumber: number;
  /** Jobs (`train:kind:attempt`) whose outcome a happening told, and those told as unknown and not settled yet. */
  finishedJobs: Set<string>;
  unknownJobs: Set<string>;
}

const stats = { runs: 0, steps: 0, accepted: 0, trainsCreated: 0, deployed: 0, derailed: 0, extended: 0, emergencies: 0, timeouts: 0, rollbacks: 0, unknown: 0, runsWithDeploy: 0 };

function fail(msg: string, s: LineState): never {
  const brief = {
    platform: s.platform.map((c) => c.sha.slice(0, 6)),
    trains: s.trains.map((t) => ({ n: t.number, state: t.state, base: t.baseSha.slice(0, 6), head: t.headSha.slice(0, 6), commits: t.commits.map((c) => c.sha.slice(0, 6)) })),
    deployedSha: s.deployedSha.slice(0, 6),
  };
  throw new Error(`${msg}\n${JSON.stringify(brief)}`);
}

/** Checks of one accepted decision against the state it was taken on. */
function checkTransition(before: LineState, d: Extract<Decision, { ok: true }>, m: Model): void {
  const after = d.state;
  const oldByNumber = new Map(before.trains.map((t) => [t.number, t]));
  for (const t of after.trains) {
    const old = oldByNumber.get(t.number);
    if (!old) {
      // A new train: numbers strictly increase.
      if (t.number <= m.maxNumber) fail(`train #${t.number} created after #${m.maxNumber}`, after);
      m.maxNumber = t.number;
      stats.trainsCreated++;
      if (t.replaces === null) {
        const humans = new Set(t.commits.map((c) => c.authorEmail.toLowerCase()).filter((e) => !POLICY.robots.includes(e)));
        if (t.engineer === null ? humans.size > 0 : !humans.has(t.engineer)) fail(`train #${t.number} engineer ${t.engineer} is not one of its humans`, after);
      } else stats.extended++;
    }
    const wasState = old?.state;
    if (t.state === 'deploying' && wasState !== 'deploying') {
      if (wasState !== 'verifying') fail(`train #${t.number} went from ${wasState} to deploying`, after);
      checkFullyVerified(t, after, 'started deploying');
      if (t.blocked) fail(`blocked train #${t.number} started deploying`, after);
    }
    if (t.state === 'deployed' && wasState !== 'deployed') {
      if (wasState !== 'deploying') fail(`train #${t.number} went from ${wasState} to deployed`, after);
      if (m.deployedTrains.has(t.number)) fail(`train #${t.number} deployed twice`, after);
      checkFullyVerified(t, after, 'deployed');
      for (const c of t.commits) {
        if (m.deployedShas.has(c.sha)) fail(`commit ${c.sha} rides two deployed trains`, after);
        m.deployedShas.add(c.sha);
      }
      stats.deployed++;
    }
    if (t.state === 'derailed' && wasState !== 'derailed') stats.derailed++;
    if (t.state === 'deployed') m.deployedTrains.set(t.number, structuredClone(t));
  }
  if (after.nextTrainNumber <= m.maxNumber) fail('nextTrainNumber would reuse a number', after);
  checkHappenings(before, after, m);
  for (const e of d.effects) {
    if (e.kind === 'git.reset') {
      stats.emergencies++;
      for (const x of e.removedShas) m.removedShas.add(x);
    }
  }
}

/** What the decision made happen agrees with the state's transitions: nothing counted twice, nothing missed. */
function checkHappenings(before: LineState, after: LineState, m: Model): void {
  const old = new Map(before.trains.map((t) => [t.number, t]));
  const happened = happenings(before, after);
  const told = (kind: string) => happened.filter((h) => h.kind === kind).map((h) => h.train);
  const deployed = after.trains.filter((t) => t.state === 'deployed' && old.get(t.number)?.state !== 'deployed').map((t) => t.number);
  if (JSON.stringify(told('train.deployed')) !== JSON.stringify(deployed)) fail(`deployed ${deployed} but told ${told('train.deployed')}`, after);
  const derailed = after.trains.filter((t) => t.state === 'derailed' && old.get(t.number)?.state !== 'derailed' && !after.trains.some((x) => x.replaces === t.number)).map((t) => t.number);
  if (JSON.stringify(told('train.derailed')) !== JSON.stringify(derailed)) fail(`derailed ${derailed} but told ${told('train.derailed')}`, after);
  for (const h of happened) {
    if (h.kind !== 'job.finished') continue;
    const key = `${h.train}:${h.job}:${h.attempt}`;
    if (h.seconds !== null && !(h.seconds >= 0)) fail(`job ${key} told ${h.seconds} seconds`, after);
    if (h.settledLate) {
      if (!m.unknownJobs.delete(key) || h.result === 'unknown') fail(`job ${key} settled late without being unknown`, after);
    } else {
      if (m.finishedJobs.has(key)) fail(`job ${key} told finished twice`, after);
      m.finishedJobs.add(key);
      if (h.result === 'unknown') m.unknownJobs.add(key);
    }
  }
  for (const t of after.trains)
    for (const j of t.jobs)
      if (j.state !== 'queued' && j.state !== 'running' && !m.finishedJobs.has(`${t.number}:${j.kind}:${j.attempt}`)) fail(`job ${t.number}:${j.kind}:${j.attempt} ended untold`, after);
}

function checkFullyVerified(t: Train, s: LineState, what: string): void {
  if (!t.tickets.every((k) => k.state === 'verified')) fail(`train #${t.number} ${what} with a pending ticket`, s);
  const covered = new Set(t.tickets.flatMap((k) => k.commitShas));
  for (const c of t.commits) if (needsVerification(c, POLICY) && !covered.has(c.sha)) fail(`train #${t.number} ${what} without a ticket for ${c.sha}`, s);
}

/** Checks of a loaded state. */
function checkState(s: LineState, m: Model): void {
  const live = s.trains.filter(isLive).sort((a, b) => a.number - b.number);
  const going = live.filter((t) => t.state === 'delivering' || t.state === 'verifying');
  if (going.length > 1) fail('two going trains', s);
  if (live.filter((t) => t.state === 'deploying').length > 1) fail('two deploying trains', s);

  // behaviour.md §8: a search's builds are its train's bisect jobs, within ⌈log₂ n⌉ + 2; an ended search runs none.
  for (const t of s.trains) {
    const searched = t.jobs.filter((j) => j.kind === 'bisect');
    if (!t.bisect) {
      if (searched.length) fail(`train #${t.number} has bisect jobs but no search`, s);
      continue;
    }
    if (searched.length !== t.bisect.builds) fail(`train #${t.number}: ${t.bisect.builds} search builds counted, ${searched.length} jobs`, s);
    if (t.bisect.builds > maxBuilds(t.bisect.commits)) fail(`train #${t.number}: ${t.bisect.builds} search builds for ${t.bisect.commits} commits`, s);
    if (t.bisect.state !== 'running' && searched.some((j) => j.state === 'queued' || j.state === 'running')) fail(`train #${t.number}: a ${t.bisect.state} search still builds`, s);
    if (t.bisect.state === 'found' && !t.commits.some((c) => c.sha === t.bisect?.culprit?.sha)) fail(`train #${t.number}: the culprit is not its commit`, s);
  }

  // Exactly one place for every pushed commit.
  const where = new Map<string, string[]>();
  const put = (sha: string, place: string) => where.set(sha, [...(where.get(sha) ?? []), place]);
  for (const c of s.platform) put(c.sha, 'platform');
  for (const t of live) for (const c of t.commits) put(c.sha, `train #${t.number}`);
  for (const x of m.deployedShas) put(x, 'deployed');
  for (const x of m.removedShas) put(x, 'removed');
  for (const [x, places] of where) if (!m.order.has(x)) fail(`${x} was never pushed (${places.join(', ')})`, s);
  for (const x of m.order.keys()) {
    const places = where.get(x) ?? [];
    if (places.length !== 1) fail(`commit ${x.slice(0, 6)} is in ${places.length ? places.join(' and ') : 'no place'}`, s);
  }

  // Branch order: live trains oldest first, then the platform, in push order.
  const branch = [...live.flatMap((t) => t.commits), ...s.platform].map((c) => m.order.get(c.sha)!);
  for (let i = 1; i < branch.length; i++) if (branch[i]! <= branch[i - 1]!) fail('push order broken', s);
  // Each live train starts where the previous one ends (the first: at the deployed head).
  live.forEach((t, i) => {
    const expected = i === 0 ? s.deployedSha : live[i - 1]!.headSha;
    if (t.baseSha !== expected) fail(`train #${t.number} base ${t.baseSha.slice(0, 6)} != ${expected.slice(0, 6)}`, s);
    if (t.headSha !== t.commits[t.commits.length - 1]?.sha) fail(`train #${t.number} head is not its last commit`, s);
  });
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/** Weekdays 06:00-12:00 and 13:00-23:00, Saturday 22:00 to Sunday 02:00: time moves in and out of auto-time. */
const WINDOWS: LineState['settings']['autoTime'] = [
  { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '06:00', end: '12:00' },
  { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '13:00', end: '23:00' },
  { days: ['sat'], start: '22:00', end: '02:00' },
];

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function runScenario(sc: Scenario): void {
  stats.runs++;
  // The culprit search is on (behaviour.md §8): its builds race with everything else here.
  let s = aLine({
    settings: { autoTime: WINDOWS, maxCommits: sc.maxCommits, reminderMinutes: 30, timeouts: { build: 30, deploy: 45, rollback: 20 }, bisect: { enabled: true, parallel: 2 } },
  });
  let now = later(new Date('2026-01-05T00:00:00Z'), sc.startMinute);
  let draws = 0;
  const random = () => sc.randoms[draws++ % sc.randoms.length]!;
  const m: Model = {
    order: new Map(),
    known: new Map(),
    deployedShas: new Set(),
    removedShas: new Set(),
    deployedTrains: new Map(),
    maxNumber: 0,
    finishedJobs: new Set(),
    unknownJobs: new Set(),
  };
  let seq = 0;
  let deployedBefore = stats.deployed;

  const resolve = (w: Who | 'me'): string => {
    switch (w) {
      case 'me':
        return 'me';
      case 'admin':
        return ADMIN;
      case 'alice':
        return ALICE;
      case 'bob':
        return BOB;
      case 'carol':
        return CAROL;
      case 'robot':
        return ROBOT;
      case 'stranger':
        return STRANGER;
      case 'engineer':
        return currentTrain(s)?.engineer ?? ADMIN;
      case 'author': {
        const g = goingTrain(s);
        const pending = g?.tickets.find((k) => k.state === 'pending');
        if (pending) return POLICY.robots.includes(pending.authorEmail) ? (g?.engineer ?? ADMIN) : pending.authorEmail;
        const verified = g?.tickets.find((k) => k.state === 'verified');
        return verified?.authorEmail ?? g?.commits[0]?.authorEmail ?? ALICE;
      }
    }
  };

  const apply = (actor: string, f: (st: LineState, ctx: Context) => Decision, extraTrains: Train[] = []): Decision => {
    let input = s;
    if (extraTrains.length) input = { ...s, trains: [...s.trains, ...extraTrains.map((t) => structuredClone(t))].sort((a, b) => a.number - b.number) };
    // JSON is enough to see a mutation (dates become ISO strings) and much cheaper than a deep clone.
    const snapshot = JSON.stringify(input);
    const d = f(input, { now, actor, policy: POLICY, random });
    if (JSON.stringify(input) !== snapshot) fail('a rule mutated its input state', input);
    stats.steps++;
    if (!d.reply.trim()) fail('a decision without a reply', input);
    if (d.ok) {
      stats.accepted++;
      // behaviour.md §9: production jobs start only because a person asked (deploy, retry, rollback), never by themselves.
      if (actor === SYSTEM_ACTOR && d.effects.some((e) => e.kind === 'job.start' && e.jobKind !== 'build' && e.jobKind !== 'bisect')) fail('a deploy or rollback started by itself', input);
      checkTransition(input, d, m);
      s = reload(d.state);
    }
    // A refusal changes nothing: the harness keeps the very same state object, which the check above saw unchanged.
    checkState(s, m);
    return d;
  };

  const push = (commits: CommitRef[]) => {
    for (const c of commits) {
      m.order.set(c.sha, m.order.size);
      m.known.set(c.sha, c);
    }
    apply(SYSTEM_ACTOR, (st, ctx) => commitsArrived(st, ctx, commits, commits[commits.length - 1]!.sha, false));
  };

  const liveJobs = () => s.trains.flatMap((t) => t.jobs.map((j) => ({ t, j }))).filter(({ j }) => j.state === 'queued' || j.state === 'running' || j.state === 'unknown');

  for (const o of sc.ops) {
    switch (o.k) {
      case 'push': {
        const commits = o.authors.map((a, i) => {
          const n = ++seq;
          return aCommit(`c${n.toString(16).padStart(4, '0')}`, PUSHERS[a]!, `change ${n}${TAGS[o.tags[i] ?? 0]}`);
        });
        push(commits);
        break;
      }
      case 'wait':
        now = later(now, o.minutes);
        if (s.trains.some((t) => t.jobs.some((j) => j.state === 'running' && j.timeoutAt && j.timeoutAt <= now))) stats.timeouts++;
        apply(SYSTEM_ACTOR, tick);
        break;
      case 'start': {
        const at = o.at === null ? undefined : (s.platform[o.at]?.sha.slice(0, 12) ?? 'ffffffffffff');
        apply(resolve(o.who), (st, ctx) => start(st, ctx, at));
        break;
      }
      case 'derail':
        apply(resolve(o.who), (st, ctx) => derail(st, ctx, 'property test'));
        break;
      case 'extend':
        apply(resolve(o.who), extend);
        break;
      case 'deploy':
        apply(resolve(o.who), deploy);
        break;
      case 'block':
        apply(resolve(o.who), (st, ctx) => block(st, ctx, o.empty ? ' ' : 'hold on'));
        break;
      case 'unblock':
        apply(resolve(o.who), unblock);
        break;
      case 'retry':
        apply(resolve(o.who), retry);
        break;
      case 'emergency':
        apply(resolve(o.who), (st, ctx) => emergency(st, ctx, `refs/conductor/backup/web/${now.toISOString()}`, 'property test'));
        break;
      case 'reopen':
        apply(resolve(o.who), (st, ctx) => reopen(st, ctx));
        break;
      case 'freeze': {
        // Add today (a freeze date stops automatic starts) or lift the oldest freeze.
        const date = o.add ? localDate(now, 'UTC') : (s.settings.freezes[0] ?? localDate(now, 'UTC'));
        apply(resolve(o.who), (st, ctx) => changeFreeze(st, ctx, o.add ? 'add' : 'remove', date));
        break;
      }
      case 'revert': {
        const shas = [...m.order.keys()];
        if (shas.length === 0) break;
        const target = m.known.get(shas[o.pick % shas.length]!)!;
        const actor = resolve(o.who);
        const d = apply(actor, (st, ctx) => revert(st, ctx, target, target.sha.slice(0, 8)));
        if (d.ok) {
          const n = ++seq;
          push([aCommit(`c${n.toString(16).padStart(4, '0')}`, actor, `Revert "${target.message}"`)]);
        }
        break;
      }
      case 'verify': {
        const t = goingTrain(s);
        apply(resolve(o.who), (st, ctx) => verify(st, ctx, o.numbered ? t?.number : undefined));
        break;
      }
      case 'jobStart': {
        const queued = liveJobs().filter(({ j }) => j.state === 'queued');
        const pick = queued[o.pick % Math.max(1, queued.length)];
        if (!pick) break;
        apply(SYSTEM_ACTOR, (st, ctx) => jobStarted(st, ctx, { train: pick.t.number, kind: pick.j.kind, attempt: pick.j.attempt }, `x${seq}`, null));
        break;
      }
      case 'jobFinish': {
        const jobs = liveJobs();
        const pick = jobs[o.pick % Math.max(1, jobs.length)];
        if (!pick) break;
        const ok = o.ok || o.pick % 2 === 0; // succeed about three times in four
        const outcome = o.unknown ? 'unknown' : ok;
        if (outcome === 'unknown') stats.unknown++;
        apply(SYSTEM_ACTOR, (st, ctx) => jobFinished(st, ctx, { train: pick.t.number, kind: pick.j.kind, attempt: pick.j.attempt }, outcome, ok ? 'ok' : 'boom', !ok && o.timedOut));
        break;
      }
      case 'markJob': {
        const unknown = liveJobs().find(({ j }) => j.state === 'unknown');
        apply(resolve(o.who), (st, ctx) => markJob(st, ctx, o.ok ? 'succeeded' : 'failed', o.numbered ? unknown?.t.number : undefined));
        break;
      }
      case 'mode':
        apply(resolve(o.who), (st, ctx) => setMode(st, ctx, o.mode));
        break;
      case 'engineer':
        apply(resolve(o.who), (st, ctx) => engineer(st, ctx, resolve(o.target)));
        break;
      case 'rollback': {
        // Usually an earlier deployed train; sometimes the one in production, or one never deployed (both refused).
        const all = [...m.deployedTrains.keys()];
        const earlier = all.filter((x) => x !== s.lastDeployed?.number);
        const numbers = o.pick % 5 === 0 || earlier.length === 0 ? [...all, m.maxNumber + 1] : earlier;
        const n = numbers[o.pick % numbers.length]!;
        const target = m.deployedTrains.get(n);
        const loaded = target && !s.trains.some((t) => t.number === n) ? [target] : [];
        const d = apply(resolve(o.who), (st, ctx) => rollback(st, ctx, n), loaded);
        if (d.ok) stats.rollbacks++;
        break;
      }
    }
  }
  if (stats.deployed > deployedBefore) stats.runsWithDeploy++;
  deployedBefore = stats.deployed;
}

describe('properties of the train rules', () => {
  let elapsed = 0;
  afterAll(() => {
    console.log(
      `[domain properties] ${NUM_RUNS} runs, ${stats.steps} steps (${stats.accepted} accepted) in ${(elapsed / 1000).toFixed(2)} s; ` +
        `${stats.trainsCreated} trains created, ${stats.deployed} deployed (in ${stats.runsWithDeploy} runs), ${stats.derailed} derailed, ` +
        `${stats.extended} extended, ${stats.emergencies} emergency resets, ${stats.timeouts} timeouts, ${stats.rollbacks} rollbacks, ${stats.unknown} unknown outcomes`,
    );
  });

  it(`random sequences never break the invariants (${NUM_RUNS} runs)`, () => {
    const t0 = performance.now();
    fc.assert(
      fc.property(scenario, (sc) => runScenario(sc)),
      { numRuns: NUM_RUNS },
    );
    elapsed = performance.now() - t0;
    // The runs must exercise the interesting paths, or the property proves little.
    // Typical figures: ~210 runs deploy ~240 trains, ~650 derails, ~240 extends, ~290 resets, ~90 timeouts, 8-27 rollbacks.
    expect(stats.runsWithDeploy).toBeGreaterThan(100);
    expect(stats.deployed).toBeGreaterThan(120);
    expect(stats.derailed).toBeGreaterThan(200);
    expect(stats.extended).toBeGreaterThan(80);
    expect(stats.emergencies).toBeGreaterThan(100);
    expect(stats.timeouts).toBeGreaterThan(20);
    expect(stats.rollbacks).toBeGreaterThanOrEqual(2);
  });
});
