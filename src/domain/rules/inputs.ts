import { bisectBuilt, cancelBisect, startBisect } from '../bisect.js';
import { findTrain, isLive, latestJob } from '../deployability.js';
import { type Decision, Draft, refuse } from '../draft.js';
import { short, stopJobs } from '../lifecycle.js';
import { type CommitRef, type Context, configuredKind, type Job, type JobKind, type LineState, type Train } from '../model.js';
import { codeBlock, outputTail } from '../output-tail.js';
import { canDrive, isRobot, norm, refusals } from '../policy.js';
import { ticketsFor } from '../tickets.js';
import { endOtherWatches, watchHealth } from './health.js';

/**
 * Rule 1: new commits seen on the branch (push webhook or fetch) wait on the
 * platform. `commits` holds only commits Conductor has never recorded.
 */
export function commitsArrived(
  s: LineState,
  ctx: Context,
  commits: CommitRef[],
  headSha: string,
  rewritten: boolean,
  /** Live trains whose head a force push removed from the branch. */
  lostTrains: number[] = [],
  /** Commits waiting on the platform that a force push took off the branch. */
  removedFromBranch: string[] = [],
): Decision {
  const d = new Draft(s, ctx);
  d.state.knownHeadSha = headSha;
  const gone = new Set(removedFromBranch);
  const removed = d.state.platform.filter((c) => gone.has(c.sha));
  if (removed.length > 0) {
    // They must not ride a train (its head would not be on the branch), and they must not vanish
    // from the records either: they are kept as removed, as an emergency reset keeps its commits.
    d.state.platform = d.state.platform.filter((c) => !gone.has(c.sha));
    const list =
      removed
        .slice(0, 10)
        .map((c) => `${short(c.sha)} (${c.authorEmail})`)
        .join(', ') + (removed.length > 10 ? `, and ${removed.length - 10} more` : '');
    d.announce(
      `:warning: A force push took ${removed.length} waiting commit${removed.length === 1 ? '' : 's'} off ${s.settings.branch}: ${list}. ${removed.length === 1 ? 'It' : 'They'} will not go on a train; Conductor keeps ${removed.length === 1 ? 'it' : 'them'} in its records as removed.`,
    );
    d.record('commits.removed', null, { shas: removed.map((c) => c.sha), headSha, by: 'force push' });
  }
  d.state.platform.push(...commits);
  if (rewritten) d.announce(`:warning: ${s.settings.branch} was rewritten (force push); its head is now ${short(headSha)}. Commits already recorded stay in Conductor's records.`);
  for (const n of lostTrains) {
    // Nothing vanishes from Conductor's records; people decide what the train becomes.
    d.announce(
      `:warning: A force push removed train #${n}'s commits from ${s.settings.branch}. They stay on the train in Conductor's records, but the branch no longer has them: derail the train, or push the commits back.`,
      n,
      true,
    );
    d.record('train.rewritten', n, { headSha });
  }
  if (commits.length > 0) {
    // In manual mode, Draft.finish adds the warning rule 8 asks for.
    d.announce(`${commits.length} new commit${commits.length === 1 ? '' : 's'} on the platform (${d.state.platform.length} waiting).`);
    // behaviour.md §8: new commits (perhaps the fix) end a running culprit search.
    for (const t of d.state.trains) cancelBisect(d, t, 'new commits were pushed');
    d.record('commits.arrived', null, { count: commits.length, headSha, rewritten });
  } else if (rewritten) {
    d.record('branch.rewritten', null, { headSha });
  }
  return d.finish(`Recorded ${commits.length} new commit${commits.length === 1 ? '' : 's'}.`);
}

export interface JobRef {
  train: number;
  kind: JobKind;
  attempt: number;
}

function liveJob(s: LineState, ref: JobRef) {
  const t = findTrain(s, ref.train);
  const j = t?.jobs.find((x) => x.kind === ref.kind && x.attempt === ref.attempt);
  return t && j ? { t, j } : undefined;
}

export function jobStarted(s: LineState, ctx: Context, ref: JobRef, externalId: string, url: string | null): Decision {
  const found = liveJob(s, ref);
  if (!found || found.j.state !== 'queued') return refuse('That job is not waiting to start.');
  const d = new Draft(s, ctx);
  const { t, j } = liveJob(d.state, ref)!;
  j.state = 'running';
  j.externalId = externalId;
  j.url = url;
  j.startedAt = ctx.now;
  j.timeoutAt = new Date(ctx.now.getTime() + s.settings.timeouts[configuredKind(j.kind)] * 60_000);
  d.record('job.started', t.number, { kind: j.kind, attempt: j.attempt, externalId, url });
  return d.finish(`The ${j.kind} of train #${t.number} is running.`);
}

/**
 * How a job ended, as its runner tells it. `unknown`: the runner cannot tell
 * (its process died with a Conductor that left no record of the outcome).
 */
export type JobOutcome = 'succeeded' | 'failed' | 'unknown';

/**
 * Rule 12 and the end of delivery, deploy and rollback jobs. A result may also
 * settle a job whose outcome was unknown: the truth, arriving late, wins over
 * nobody knowing (a job that timed out in the engine then reported back).
 */
export function jobFinished(s: LineState, ctx: Context, ref: JobRef, outcome: JobOutcome | boolean, output: string, timedOut = false): Decision {
  const how: JobOutcome = outcome === true ? 'succeeded' : outcome === false ? 'failed' : outcome;
  const found = liveJob(s, ref);
  if (!found || !isOpen(found.j.state)) return refuse('That job has already finished.');
  // The culprit search runs several `bisect` jobs at once: each one's result counts.
  if (ref.kind !== 'bisect' && latestJob(found.t, ref.kind) !== found.j) return refuse('A newer attempt of that job exists.');
  if (how === 'unknown' && found.j.state === 'unknown') return refuse("That job's outcome is already unknown.");
  const d = new Draft(s, ctx);
  const { t, j } = liveJob(d.state, ref)!;
  const wasUnknown = j.state === 'unknown';
  j.output = wasUnknown && j.output ? `${j.output}\n${output}` : output;
  if (how === 'unknown') {
    outcomeUnknown(d, t, j, 'its Conductor stopped while it ran and left no record of how it ended');
    return d.finish(`The outcome of the ${j.kind} of train #${t.number} is unknown.`);
  }
  return settle(d, t, j, how === 'succeeded', timedOut, wasUnknown ? 'reported back' : null);
}

/** Jobs whose result may still come: waiting, running, or unknown (a late result settles it). */
const isOpen = (state: Job['state']): boolean => state === 'queued' || state === 'running' || state === 'unknown';

/** The job's outcome is known now: succeeded or failed, with what follows for its train and the line. */
function settle(d: Draft, t: Train, j: Job, succeeded: boolean, timedOut: boolean, settledBy: string | null): Decision {
  j.state = succeeded ? 'succeeded' : 'failed';
  j.finishedAt = d.ctx.now;
  d.record(succeeded ? 'job.succeeded' : 'job.failed', t.number, { kind: j.kind, attempt: j.attempt, timedOut, ...(settledBy ? { settledBy } : {}) });
  if (j.kind === 'bisect') {
    bisectBuilt(d, t, j);
    return d.finish(`The bisect build of train #${t.number} at ${short(j.sha)} ${succeeded ? 'succeeded' : 'failed'}.`);
  }
  // behaviour.md §8: a retry that builds makes the culprit search pointless.
  if (succeeded && j.kind === 'build') cancelBisect(d, t, 'a retry of the build succeeded');
  if (!succeeded) {
    failed(d, t, j.kind, timedOut, j.url, j.output);
    return d.finish(`The ${j.kind} of train #${t.number} failed.`);
  }
  if (j.kind === 'build' && t.state === 'delivering') delivered(d, t);
  else if (j.kind === 'deploy' && t.state === 'deploying') deployed(d, t, j);
  else if (j.kind === 'rollback') rolledBack(d, t, j);
  return d.finish(`The ${j.kind} of train #${t.number} succeeded.`);
}

/**
 * behaviour.md §9: nobody can tell how the job ended. A build is simply failed (building
 * again harms nothing); a deploy or rollback waits for a person, who checks
 * production and says `retry` or `job succeeded|failed`: it is never run again
 * by itself.
 */
function outcomeUnknown(d: Draft, t: Train, j: Job, why: string): void {
  if (j.kind === 'bisect') {
    // A search build: counted as failed (the confirmation builds catch a wrong answer).
    j.state = 'failed';
    j.finishedAt = d.ctx.now;
    j.output = `${j.output ?? ''}\n[conductor] outcome unknown (${why}); counted as failed.`.trimStart();
    d.record('job.failed', t.number, { kind: j.kind, attempt: j.attempt, unknown: true });
    bisectBuilt(d, t, j);
    return;
  }
  if (j.kind === 'build') {
    j.state = 'failed';
    j.finishedAt = d.ctx.now;
    j.output = `${j.output ?? ''}\n[conductor] outcome unknown (${why}); counted as failed: building again is safe.`.trimStart();
    d.record('job.failed', t.number, { kind: j.kind, attempt: j.attempt, unknown: true });
    failed(d, t, j.kind, false, j.url, j.output);
    return;
  }
  j.state = 'unknown';
  j.finishedAt = d.ctx.now;
  const link = j.url ? ` (${j.url})` : '';
  const what = j.kind === 'deploy' ? `the deploy of train #${t.number}` : `the rollback to train #${t.number}`;
  const decide =
    j.kind === 'deploy'
      ? `check production, then say \`/conductor retry\` to run it again, or \`/conductor job succeeded ${t.number}\` / \`/conductor job failed ${t.number}\` to record what happened`
      : `check production, then say \`/conductor rollback ${t.number}\` to run it again, or \`/conductor job succeeded ${t.number}\` / \`/conductor job failed ${t.number}\` to record what happened`;
  const text = `Outcome unknown: check production. Conductor cannot tell how ${what} ended${link}: ${why}. It will not run it again by itself: ${decide}.`;
  const who = t.engineer ? `${t.engineer}: ` : '';
  d.announce(`:warning: ${who}${text}`, t.number, true);
  if (t.engineer) d.dm(t.engineer, text, t.number);
  d.record('job.unknown', t.number, { kind: j.kind, attempt: j.attempt, why });
}

/** A person (engineer or admin) says how a job whose outcome was unknown ended (behaviour.md §9). */
export function markJob(s: LineState, ctx: Context, outcome: 'succeeded' | 'failed', trainNumber?: number): Decision {
  const candidates = s.trains
    .filter((t) => trainNumber === undefined || t.number === trainNumber)
    .flatMap((t) => t.jobs.filter((j) => j.state === 'unknown' && latestJob(t, j.kind) === j).map((j) => ({ t, j })));
  const first = candidates[0];
  if (!first) {
    return refuse(
      trainNumber === undefined
        ? 'No job has an unknown outcome: `job succeeded|failed` only settles a deploy or rollback whose outcome Conductor could not tell.'
        : `Train #${trainNumber} has no job with an unknown outcome.`,
    );
  }
  if (!canDrive(ctx.policy, first.t, ctx.actor)) return refuse(refusals.engineerOrAdmin(`record how the ${first.j.kind} of train #${first.t.number} ended`, first.t));
  if (candidates.length > 1)
    return refuse(
      `Several jobs have an unknown outcome (${candidates.map((c) => `${c.j.kind} of train #${c.t.number}`).join(', ')}): name the train, e.g. \`/conductor job ${outcome} ${first.t.number}\`.`,
    );
  const d = new Draft(s, ctx);
  const t = findTrain(d.state, first.t.number)!;
  const j = t.jobs.find((x) => x.kind === first.j.kind && x.attempt === first.j.attempt)!;
  j.output = `${j.output ?? ''}\n[conductor] ${ctx.actor} recorded that it ${outcome}.`.trimStart();
  d.record('job.marked', t.number, { kind: j.kind, attempt: j.attempt, outcome });
  d.announce(`${ctx.actor} checked production and recorded that the ${j.kind === 'rollback' ? `rollback to train #${t.number}` : `${j.kind} of train #${t.number}`} ${outcome}.`, t.number);
  return settle(d, t, j, outcome === 'succeeded', false, ctx.actor);
}

/** A failed job is told with the tail of its output: the reason is usually in its last lines. */
function failed(d: Draft, t: Train, kind: JobKind, timedOut: boolean, url: string | null, output: string | null): void {
  const what = timedOut ? `timed out after ${d.state.settings.timeouts[configuredKind(kind)]} minutes` : 'failed';
  const link = url ? ` (${url})` : '';
  const next =
    kind === 'build' ? 'Retry it, or revert the bad commit and extend, or derail.' : kind === 'deploy' ? 'Retry the deploy, or roll back.' : 'Retry the rollback with `/conductor rollback`.';
  const tail = outputTail(output);
  const last = tail ? `\nThe last lines of its output:${codeBlock(tail)}` : '';
  const who = t.engineer ? `${t.engineer}: ` : '';
  d.announce(`${who}the ${kind} of train #${t.number} ${what}${link}. ${next}${last}`, t.number, true);
  if (t.engineer) d.dm(t.engineer, `The ${kind} of train #${t.number} ${what}${link}. ${next}${last}`, t.number);
  if (kind === 'build') startBisect(d, t);
}

/** Delivery succeeded: the train is on staging; authors are asked to verify (rule 9). */
function delivered(d: Draft, t: Train): void {
  const { now, policy } = d.ctx;
  t.state = 'verifying';
  t.deliveredAt = now;
  t.tickets = ticketsFor(t, policy, now, t.tickets);
  for (const k of t.tickets) {
    // Every pending ticket is asked for on this train, including one carried
    // from an extended train (its old request and reminder were for that train).
    if (k.state === 'pending') {
      k.requestedAt = now;
      k.remindedAt = null;
      if (!isRobot(policy, k.authorEmail))
        d.dm(
          k.authorEmail,
          `Train #${t.number} is on staging. Please verify your changes (${k.commitShas.map(short).join(', ')}), then press Verify or run \`/conductor verify\`.`,
          t.number,
          true,
        );
    }
  }
  // A robot cannot verify its own `[needs-verify]` change: the engineer (or an admin) does.
  const robotTickets = t.tickets.filter((k) => k.state === 'pending' && isRobot(policy, k.authorEmail));
  if (robotTickets.length > 0) {
    const text = `Train #${t.number} carries ${robotTickets.map((k) => k.authorEmail).join(', ')}'s changes marked [needs-verify]: the engineer or an admin verifies them with \`/conductor verify\`.`;
    if (t.engineer) d.dm(t.engineer, text, t.number, true);
    else d.announce(text, t.number);
  }
  if (t.tickets.every((k) => k.state === 'verified')) t.verifiedAt = now;
  const pending = t.tickets.filter((k) => k.state === 'pending').length;
  d.announce(`Train #${t.number} is on staging. ${pending ? `Waiting for ${pending} verification${pending === 1 ? '' : 's'}.` : 'Nothing to verify.'}`, t.number);
  if (t.tickets.length) d.emit({ kind: 'tickets.open', train: t.number });
}

/** Rule 10: the deploy job succeeded; production runs this train now (behaviour.md §9). */
function deployed(d: Draft, t: Train, j: Job): void {
  t.state = 'deployed';
  t.deployedAt = d.ctx.now;
  d.state.deployedSha = t.headSha;
  setProduction(d, t, j.requestedBy, null);
  d.announce(`Train #${t.number} is deployed to production (${short(t.headSha)}).`, t.number, true);
  const authors = new Set(t.commits.map((c) => norm(c.authorEmail)));
  for (const a of authors) if (!isRobot(d.ctx.policy, a)) d.dm(a, `Your changes on train #${t.number} are in production.`, t.number);
  d.record('train.deployed', t.number, { headSha: t.headSha });
  watchHealth(d, t);
}

/** Rule 13 and behaviour.md §9: the rollback job succeeded, so production runs that earlier train now. */
function rolledBack(d: Draft, t: Train, j: Job): void {
  const from = d.state.production?.number ?? null;
  const back = from !== null && t.number < from;
  // "Rolled back from #N" names the newer train production left; a roll forward replaced an older one.
  setProduction(d, t, j.requestedBy, back ? from : null);
  d.announce(
    `Production was ${back || from === null ? 'rolled back' : 'rolled forward'} to train #${t.number} (${short(t.headSha)}).` +
      (from !== null && from !== t.number ? ` It ran train #${from} before.` : ''),
    null,
    true,
  );
  d.record('line.rolled-back', t.number, { headSha: t.headSha, from });
  // behaviour.md §8: a watch judges what production runs; after a rollback that is no longer the watched train.
  endOtherWatches(d, t.number, { rolledBack: true });
}

function setProduction(d: Draft, t: Train, by: string, rolledBackFrom: number | null): void {
  d.state.production = { number: t.number, headSha: t.headSha, since: d.ctx.now, by, rolledBackFrom };
  d.state.lastDeployed = { number: t.number, headSha: t.headSha };
}

/**
 * The scheduler's heartbeat: job timeouts, verification reminders, and rule 3
 * (start a train whenever possible: also catches up after downtime).
 */
export function tick(s: LineState, ctx: Context): Decision {
  const d = new Draft(s, ctx);
  const now = ctx.now.getTime();
  for (const t of d.state.trains) {
    for (const j of t.jobs) {
      if (j.state === 'running' && j.timeoutAt && j.timeoutAt.getTime() <= now) {
        d.emit({ kind: 'job.stop', train: t.number, jobKind: j.kind, attempt: j.attempt });
        d.record('job.timed-out', t.number, { kind: j.kind, attempt: j.attempt });
        if (j.kind === 'bisect') {
          j.state = 'failed';
          j.finishedAt = ctx.now;
          j.output = (j.output ?? '') + '\n[timed out]';
          bisectBuilt(d, t, j);
        } else if (j.kind === 'build') {
          j.state = 'failed';
          j.finishedAt = ctx.now;
          j.output = (j.output ?? '') + '\n[timed out]';
          failed(d, t, j.kind, true, j.url, j.output);
        } else {
          // Rule 12 counts it as failed, but for production "failed" would invite a second deploy
          // nobody decided on: it did not report back, so its outcome is unknown (behaviour.md §9).
          j.output = (j.output ?? '') + '\n[timed out]';
          outcomeUnknown(d, t, j, `it did not report back within ${s.settings.timeouts[configuredKind(j.kind)]} minutes (Conductor asked its runner to stop it)`);
        }
      }
    }
    if (t.state !== 'verifying') continue;
    const after = s.settings.reminderMinutes * 60_000;
    for (const k of t.tickets) {
      if (k.state !== 'pending' || !k.requestedAt || k.remindedAt) continue;
      if (now - k.requestedAt.getTime() < after) continue;
      if (isRobot(ctx.policy, k.authorEmail)) continue;
      k.remindedAt = ctx.now;
      d.dm(k.authorEmail, `Reminder: train #${t.number} is waiting for you to verify your changes (${k.commitShas.map(short).join(', ')}).`, t.number, true);
      d.record('ticket.reminded', t.number, { author: k.authorEmail });
    }
  }
  return d.finish('tick');
}

/** Trains that keep the line's state live (for loading). */
export const liveTrains = (s: LineState): Train[] => s.trains.filter(isLive);
export { stopJobs };
