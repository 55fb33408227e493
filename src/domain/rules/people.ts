import { findTrain, goingTrain } from '../deployability.js';
import { type Decision, Draft, refuse } from '../draft.js';
import type { Context, LineState, Train } from '../model.js';
import { isAdmin, isEngineer, isRobot, norm, refusals } from '../policy.js';
import { markCommits } from '../tickets.js';
import { endSentence } from '../words.js';
import { currentTrain } from './train-commands.js';

function trainFor(s: LineState, n?: number): Train | undefined {
  return n === undefined ? goingTrain(s) : findTrain(s, n);
}

/**
 * Rule 9: an author verifies their own ticket. The engineer or an admin may
 * also verify tickets owed by robots (`[needs-verify]` on a robot's commit).
 */
export function verify(s: LineState, ctx: Context, trainNumber?: number): Decision {
  const t = trainFor(s, trainNumber);
  if (!t) return refuse(trainNumber ? `Train #${trainNumber} is not a live train.` : 'No train is going: there is nothing to verify.');
  if (t.state !== 'verifying' && t.state !== 'delivering') return refuse(`Train #${t.number} is ${t.state}: verification is over.`);
  const me = norm(ctx.actor);
  const mine = t.tickets.find((k) => norm(k.authorEmail) === me);
  let targets = mine && mine.state === 'pending' ? [mine] : [];
  if (targets.length === 0 && (isEngineer(t, me) || isAdmin(ctx.policy, me))) targets = t.tickets.filter((k) => k.state === 'pending' && isRobot(ctx.policy, k.authorEmail));
  if (targets.length === 0) {
    if (mine) return refuse(`Your changes on train #${t.number} are already verified.`);
    if (t.state === 'delivering') return refuse(`Train #${t.number} is still building: you will be asked to verify when it reaches staging.`);
    return refuse(`You have no verification owed on train #${t.number}: each author verifies their own changes (the engineer or an admin may verify robots' changes).`);
  }
  const d = new Draft(s, ctx);
  const train = findTrain(d.state, t.number)!;
  for (const target of targets) {
    const k = train.tickets.find((x) => x.authorEmail === target.authorEmail)!;
    k.state = 'verified';
    k.verifiedBy = me;
    k.verifiedAt = ctx.now;
    markCommits(train, k, me, ctx.now);
    d.announce(`${me} verified ${k.authorEmail === me ? 'their changes' : `${k.authorEmail}'s changes`} on train #${train.number}.`, train.number);
    d.record('ticket.verified', train.number, { author: k.authorEmail });
  }
  if (train.state === 'verifying' && train.tickets.every((k) => k.state === 'verified')) train.verifiedAt = ctx.now;
  return d.finish(`Verified ${targets.map((k) => (k.authorEmail === me ? 'your changes' : `${k.authorEmail}'s changes`)).join(', ')} on train #${train.number}.`);
}

/** Rule 9: "found a problem": the author reopens a verified ticket, which blocks the deploy again. */
export function reopen(s: LineState, ctx: Context, trainNumber?: number, reason?: string): Decision {
  const t = trainFor(s, trainNumber);
  if (!t) return refuse(trainNumber ? `Train #${trainNumber} is not a live train.` : 'No train is going: there is nothing to reopen.');
  if (t.state !== 'verifying' && t.state !== 'delivering') return refuse(`Train #${t.number} is ${t.state}: too late to reopen. Revert the commit, or roll back.`);
  const me = norm(ctx.actor);
  const mine = t.tickets.find((k) => norm(k.authorEmail) === me);
  if (!mine) return refuse(`You have no verification on train #${t.number}: only an author may reopen their own verification.`);
  if (mine.state !== 'verified') return refuse(`Your changes on train #${t.number} are not verified yet.`);
  const d = new Draft(s, ctx);
  const train = findTrain(d.state, t.number)!;
  const k = train.tickets.find((x) => x.authorEmail === mine.authorEmail)!;
  k.state = 'pending';
  k.verifiedBy = null;
  k.verifiedAt = null;
  train.verifiedAt = null;
  markCommits(train, k, null, null);
  const why = reason?.trim();
  d.announce(`${me} found a problem with their changes on train #${train.number}${why ? `: ${endSentence(why)}` : '.'} The deploy waits until they verify again.`, train.number);
  if (train.engineer && norm(train.engineer) !== me) d.dm(train.engineer, `${me} reopened their verification on train #${train.number}${why ? `: ${endSentence(why)}` : '.'}`, train.number);
  d.record('ticket.reopened', train.number, { author: me, reason: why ?? null });
  return d.finish(`Reopened your verification on train #${train.number}; the deploy is blocked until you verify again.`);
}

/** Rule 11: anyone may claim the engineer role; admins may give it to someone else. */
export function engineer(s: LineState, ctx: Context, who: 'me' | string): Decision {
  const t = currentTrain(s);
  const target = norm(who === 'me' ? ctx.actor : who);
  // Permission before state: giving the role away is for admins, whether or not a train is going.
  if (who !== 'me' && target !== norm(ctx.actor) && !isAdmin(ctx.policy, ctx.actor))
    return refuse(refusals.adminOnly('give the engineer role to someone else (anyone may claim it with `engineer me`)', ctx.policy));
  if (!t) return refuse('No train is going: there is no engineer role to take.');
  if (isRobot(ctx.policy, target)) return refuse(`${target} is a robot: the engineer must be a person.`);
  if (t.engineer && norm(t.engineer) === target) return refuse(`${target} is already the engineer of train #${t.number}.`);
  const d = new Draft(s, ctx);
  const train = findTrain(d.state, t.number)!;
  const previous = train.engineer;
  train.engineer = target;
  d.announce(`${target} is now the engineer of train #${train.number}${previous ? ` (was ${previous})` : ''}.`, train.number);
  if (target !== norm(ctx.actor)) d.dm(target, `${ctx.actor} made you the engineer of train #${train.number}.`, train.number);
  if (previous && previous !== target) d.dm(previous, `${target} is now the engineer of train #${train.number}.`, train.number);
  d.record('train.engineer', train.number, { engineer: target, previous });
  return d.finish(`${target === norm(ctx.actor) ? 'You are' : `${target} is`} now the engineer of train #${train.number}.`);
}
