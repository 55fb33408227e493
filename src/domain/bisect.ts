import type { Draft } from './draft.js';
import { addJob, stopJobs } from './jobs.js';
import type { CommitRef, Job, Train } from './model.js';
import { isRobot } from './policy.js';
import { firstLine, shortSha } from './text.js';
import { plural } from './words.js';

/**
 * Culprit finding (behaviour.md §8). When a train's build fails and the train
 * has two or more commits, Conductor builds intermediate heads of the train
 * (jobs of kind `bisect`, the line's own build job with `SHA` set to the
 * commit tried) to find the first commit whose build fails, then builds that
 * commit and its parent once more to confirm. It never changes the train's own
 * state.
 *
 * The search is a binary search that may run several builds at once: a round
 * with p builds splits the candidates into p + 1 parts. It takes as many at
 * once as the budget allows: at most ⌈log₂ n⌉ + 2 builds in all (two of them
 * the confirmation), so a round of p builds is only started when every part it
 * leaves can still be split by plain bisection within what remains. Rounds
 * are whole: the next one is planned when every build of the last one ended.
 */

export interface BisectPolicy {
  enabled: boolean;
  /** Builds run at once (1–8). */
  parallel: number;
}

export const DEFAULT_BISECT: BisectPolicy = { enabled: true, parallel: 2 };

export type BisectState = 'running' | 'found' | 'flaky' | 'cancelled';

export interface Bisect {
  state: BisectState;
  /** The train's commit count when the search began (the bound is computed from it). */
  commits: number;
  /**
   * Indexes into the train's commits: every commit up to `good` builds (-1: the
   * train's base, which production ran), `bad` is the first commit known to
   * fail (at first the train's head: its own build failed). The culprit is in
   * (good, bad].
   */
  good: number;
  bad: number;
  /** `search` while splitting, `confirm` while building the culprit and its parent once more. */
  phase: 'search' | 'confirm';
  /** Builds started, confirmation included; their jobs are the train's `bisect` jobs 1…builds. */
  builds: number;
  /** The bisect jobs of the current round are those with an attempt above this. */
  roundStart: number;
  culprit: { sha: string; authorEmail: string } | null;
  /** `flaky`: the commits whose results disagree, oldest first. */
  range: { fromSha: string; toSha: string } | null;
  startedAt: Date;
  endedAt: Date | null;
  /** `cancelled`: why (a push, a derail, an extend, a successful retry). */
  reason: string | null;
}

/** ⌈log₂ n⌉ + 2: the most builds a search of n commits may start, the confirmation's two included. */
export function maxBuilds(n: number): number {
  return Math.ceil(Math.log2(Math.max(1, n))) + 2;
}

/**
 * Where to build next to split the candidates (good, bad]: commit indexes,
 * oldest first. `budget` is what is left for splitting (the confirmation's two
 * builds are kept aside). A round of p builds leaves parts of ⌈m / (p + 1)⌉
 * candidates at most, each of which must still be splittable by plain
 * bisection with the budget left after it: m ≤ (p + 1)·2^(budget − p).
 */
export function probes(good: number, bad: number, budget: number, parallel: number): number[] {
  const m = bad - good;
  if (m <= 1 || budget <= 0) return [];
  let p = Math.max(1, Math.min(parallel, m - 1, budget));
  while (p > 1 && m > (p + 1) * 2 ** (budget - p)) p--;
  const at: number[] = [];
  for (let i = 1; i <= p; i++) at.push(good + Math.round((i * m) / (p + 1)));
  return [...new Set(at)].filter((q) => q > good && q < bad);
}

const policyOf = (d: Draft): BisectPolicy => d.state.settings.bisect ?? DEFAULT_BISECT;

/** The commit at an index of the search (-1: the train's base). */
function shaAt(t: Train, i: number): string {
  return i < 0 ? t.baseSha : t.commits[i]!.sha;
}

function indexOf(t: Train, sha: string): number {
  return sha === t.baseSha ? -1 : t.commits.findIndex((c) => c.sha === sha);
}

const bisectJobs = (t: Train): Job[] => t.jobs.filter((j) => j.kind === 'bisect');
const isOpen = (j: Job): boolean => j.state === 'queued' || j.state === 'running';

/** The train's build failed (and nothing searched it yet): start the search when the line wants it and there is something to split. */
export function startBisect(d: Draft, t: Train): void {
  const policy = policyOf(d);
  if (!policy.enabled || t.bisect || t.commits.length < 2 || t.state !== 'delivering') return;
  const n = t.commits.length;
  t.bisect = {
    state: 'running',
    commits: n,
    good: -1,
    bad: n - 1,
    phase: 'search',
    builds: 0,
    roundStart: 0,
    culprit: null,
    range: null,
    startedAt: d.ctx.now,
    endedAt: null,
    reason: null,
  };
  d.announce(
    `Looking for the commit that broke the build of train #${t.number}: building some of its ${n} commits (at most ${plural(maxBuilds(n), 'build')}, ${policy.parallel} at a time). The train itself waits as it is.`,
    t.number,
  );
  d.record('bisect.started', t.number, { commits: n, maxBuilds: maxBuilds(n), parallel: policy.parallel });
  nextRound(d, t);
}

function nextRound(d: Draft, t: Train): void {
  const b = t.bisect!;
  b.roundStart = b.builds;
  if (b.bad - b.good <= 1) {
    b.phase = 'confirm';
    // The culprit first: with one build at a time, a culprit that builds now ends the search before its parent is tried.
    build(d, t, b.bad);
    if (policyOf(d).parallel > 1) build(d, t, b.bad - 1);
    return;
  }
  const budget = maxBuilds(b.commits) - 2 - b.builds;
  for (const q of probes(b.good, b.bad, budget, policyOf(d).parallel)) build(d, t, q);
}

function build(d: Draft, t: Train, index: number): void {
  t.bisect!.builds++;
  addJob(d, t, 'bisect', shaAt(t, index));
}

/**
 * A bisect job ended (its state is already succeeded or failed). When the
 * round is complete, its results move the bounds, end the search, or start
 * the next round.
 */
export function bisectBuilt(d: Draft, t: Train, j: Job): void {
  const b = t.bisect;
  d.record('bisect.built', t.number, { sha: j.sha, attempt: j.attempt, passed: j.state === 'succeeded' });
  if (!b || b.state !== 'running') return;
  const round = bisectJobs(t).filter((x) => x.attempt > b.roundStart);
  if (round.some(isOpen)) return;
  if (b.phase === 'confirm') return confirm(d, t, round);
  let bad = b.bad;
  let good = b.good;
  for (const x of round) {
    const i = indexOf(t, x.sha);
    if (x.state === 'failed') bad = Math.min(bad, i);
    else good = Math.max(good, i);
  }
  // A commit that builds after one that failed: the results disagree (a flaky build), or the train fixes its own break.
  if (good >= bad) return flaky(d, t, bad, good);
  b.good = good;
  b.bad = bad;
  nextRound(d, t);
}

function confirm(d: Draft, t: Train, round: Job[]): void {
  const b = t.bisect!;
  const k = b.bad;
  const culprit = round.find((x) => x.sha === shaAt(t, k));
  const parent = round.find((x) => x.sha === shaAt(t, k - 1));
  if (culprit?.state === 'succeeded') return flaky(d, t, k - 1, k);
  if (!parent) {
    // One build at a time: the culprit failed again; now its parent.
    b.roundStart = b.builds;
    build(d, t, k - 1);
    return;
  }
  if (parent.state === 'failed') return flaky(d, t, k - 1, k);
  found(d, t, t.commits[k]!);
}

function found(d: Draft, t: Train, c: CommitRef): void {
  const b = t.bisect!;
  b.state = 'found';
  b.endedAt = d.ctx.now;
  b.culprit = { sha: c.sha, authorEmail: c.authorEmail };
  const sentence = culpritSentence(c);
  d.announce(
    `${sentence} Found for train #${t.number} with ${plural(b.builds, 'build')}; its parent builds, and it failed twice. ` +
      `Revert it and extend: the button on the card, or \`/conductor revert ${shortSha(c.sha)} and extend\` (the engineer or an admin).`,
    t.number,
    true,
  );
  if (!isRobot(d.ctx.policy, c.authorEmail))
    d.dm(
      c.authorEmail,
      `${sentence} Conductor found it by building train #${t.number}'s commits. The engineer of the train (or an admin) can revert it and extend the train with one click; you can also revert it yourself with \`/conductor revert ${shortSha(c.sha)}\`, or push a fix.`,
      t.number,
    );
  d.record('bisect.found', t.number, { sha: c.sha, authorEmail: c.authorEmail, builds: b.builds });
}

/** "The build first fails at <sha> (<author>, "<subject>")." */
export function culpritSentence(c: CommitRef): string {
  return `The build first fails at ${shortSha(c.sha)} (${c.authorName || c.authorEmail}, "${firstLine(c.message, 72)}").`;
}

/** The results disagree about the commits from index `from` to `to`: the search cannot split them. */
function flaky(d: Draft, t: Train, from: number, to: number): void {
  const b = t.bisect!;
  const lo = Math.min(from, to);
  const hi = Math.max(from, to);
  b.state = 'flaky';
  b.endedAt = d.ctx.now;
  b.range = { fromSha: shaAt(t, lo), toSha: shaAt(t, hi) };
  d.announce(
    `The build results of train #${t.number} disagree between ${shortSha(b.range.fromSha)} and ${shortSha(b.range.toSha)} (a flaky build?): ` +
      `Conductor could not split that range after ${plural(b.builds, 'build')}. Retry the build, or look at those commits by hand.`,
    t.number,
  );
  d.record('bisect.flaky', t.number, { fromSha: b.range.fromSha, toSha: b.range.toSha, builds: b.builds });
}

/** A push, a derail, an extend or a successful retry ends a running search and stops its builds (it stays on the train as cancelled). */
export function cancelBisect(d: Draft, t: Train, why: string): void {
  const b = t.bisect;
  if (!b || b.state !== 'running') return;
  b.state = 'cancelled';
  b.endedAt = d.ctx.now;
  b.reason = why;
  stopJobs(d, t, 'bisect');
  d.announce(`The search for the commit that broke train #${t.number} was cancelled: ${why}.`, t.number);
  d.record('bisect.cancelled', t.number, { why, builds: b.builds });
}

/** One sentence on the search, for `train <n>`, the card and the pages. */
export function bisectSummary(t: Train): string {
  const b = t.bisect;
  if (!b) return '';
  const builds = `${plural(b.builds, 'build')} of at most ${maxBuilds(b.commits)}`;
  switch (b.state) {
    case 'running':
      return `looking for the commit that broke the build (${builds} so far).`;
    case 'found': {
      const c = t.commits.find((x) => x.sha === b.culprit?.sha);
      return `${c ? culpritSentence(c) : `The build first fails at ${shortSha(b.culprit?.sha ?? '')}.`} ${builds.charAt(0).toUpperCase()}${builds.slice(1)}.`;
    }
    case 'flaky':
      return `the build results disagree between ${shortSha(b.range?.fromSha ?? '')} and ${shortSha(b.range?.toSha ?? '')} (a flaky build?): that range could not be split (${builds}).`;
    case 'cancelled':
      return `cancelled: ${b.reason ?? 'no reason recorded'} (${builds}).`;
  }
}
