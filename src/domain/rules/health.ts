import { findTrain, goingTrain } from '../deployability.js';
import { type Decision, Draft, refuse } from '../draft.js';
import { applyResult, describeResult, type HealthResult, soakOver, startWatch } from '../health.js';
import type { Context, LineState, Train } from '../model.js';
import { SYSTEM_ACTOR } from '../model.js';
import { norm } from '../policy.js';
import { plural } from '../words.js';
import { rollbackRefusal, startRollback } from './train-commands.js';

/**
 * behaviour.md §8: a deploy succeeded on a line with a health check, so the train is watched
 * for the soak. Only the newest deploy is watched: production no longer runs an older
 * watched train, so its watch ends early, as healthy (it never tripped).
 */
export function watchHealth(d: Draft, t: Train): void {
  const policy = d.state.settings.health;
  if (!policy) return;
  endOtherWatches(d, t.number, {});
  t.health = startWatch(d.ctx.now, policy);
  d.announce(`Train #${t.number} is watched by its health check for ${plural(policy.soakMinutes, 'minute')} (every ${plural(policy.intervalSeconds, 'second')}).`, t.number);
  d.record('health.watching', t.number, { until: t.health.until.toISOString() });
}

/** The reason that blocks the going train and every train created until `unblock`. */
export const healthBlockReason = (train: number, r: HealthResult): string => `health check failed on train #${train}: ${describeResult(r)}`;

/**
 * One health check result on a watched train. Failures count up to `failuresToTrip`; a success
 * resets them; an unknown (the check could not run) does neither and is said once. On a trip the
 * line is blocked, the engineer and admins are told, and with `autoRollback` a rollback to
 * `rollbackTo` (the previous healthy train, found by the engine) starts by itself.
 */
export function healthChecked(s: LineState, ctx: Context, trainNumber: number, result: HealthResult, rollbackTo: number | null): Decision {
  const policy = s.settings.health;
  const before = findTrain(s, trainNumber);
  if (!policy || !before?.health || before.health.state !== 'watching') return refuse(`Train #${trainNumber} is not watched by a health check.`);
  if (soakOver(before.health, ctx.now)) return refuse(`Train #${trainNumber}'s soak is over.`);
  const d = new Draft(s, ctx);
  const t = findTrain(d.state, trainNumber)!;
  const step = applyResult(t.health!, result.outcome, policy.failuresToTrip);
  t.health = step.health;
  const what = describeResult(result);
  if (step.becameUnknown) {
    d.announce(`:grey_question: The health check of train #${t.number} could not run: ${what}. An unknown result is not a failure: the watch goes on.`, t.number);
    d.record('health.unknown', t.number, { message: what });
  }
  if (result.outcome === 'failed' && !step.tripped) {
    d.announce(`:warning: Health check failed on train #${t.number} (${step.health.failures} of ${policy.failuresToTrip} in a row): ${what}.`, t.number);
  }
  if (step.tripped) trip(d, t, result, rollbackTo);
  return d.finish(`Health check of train #${t.number}: ${result.outcome}.`);
}

function trip(d: Draft, t: Train, result: HealthResult, rollbackTo: number | null): void {
  const policy = d.state.settings.health!;
  const reason = healthBlockReason(t.number, result);
  d.state.healthBlock = reason;
  const going = goingTrain(d.state);
  if (going) going.blocked = reason;
  d.record('health.tripped', t.number, { reason, failures: t.health!.failures, blocked: going?.number ?? null });
  let rollback = '';
  if (policy.autoRollback) {
    const refused = rollbackTo === null ? 'there is no earlier healthy deployed train' : rollbackRefusal(d.state, rollbackTo);
    if (refused) rollback = ` No automatic rollback: ${refused.replace(/\.$/, '')}.`;
    else {
      // The same path as `/conductor rollback`, by Conductor itself; the going train keeps the health reason.
      startRollback(d, rollbackTo!, reason);
      rollback = ` Rolling back to train #${rollbackTo} automatically.`;
    }
  }
  const text =
    `:rotating_light: ${endWithPeriod(reason)} ${plural(t.health!.failures, 'failure')} in a row. ` +
    `The line is blocked: ${going ? `train #${going.number} and ` : ''}every train created until \`/conductor unblock\` is blocked.${rollback}`;
  d.announce(text, t.number, true);
  const told = new Set<string>();
  for (const who of [t.engineer, ...d.ctx.policy.admins]) {
    if (!who || who === SYSTEM_ACTOR || told.has(norm(who))) continue;
    told.add(norm(who));
    d.dm(who, text, t.number);
  }
}

const endWithPeriod = (s: string): string => (/[.!?]$/.test(s) ? s : `${s}.`);

/** The soak ended without a trip: the train is healthy and no longer watched. */
export function healthSoaked(s: LineState, ctx: Context, trainNumber: number): Decision {
  const before = findTrain(s, trainNumber);
  if (!before?.health || !soakOver(before.health, ctx.now)) return refuse(`Train #${trainNumber} is not at the end of a health watch.`);
  const d = new Draft(s, ctx);
  const t = findTrain(d.state, trainNumber)!;
  t.health = { ...t.health!, state: 'healthy' };
  d.announce(`:white_check_mark: Train #${t.number} passed its health checks: no trip in ${plural(s.settings.health?.soakMinutes ?? 0, 'minute')}.`, t.number);
  d.record('health.healthy', t.number, {});
  return d.finish(`Train #${t.number} is healthy.`);
}

/**
 * Production no longer runs the other watched trains (a newer deploy, or a rollback to train
 * `running`): their watches end early, as `healthy` (they never tripped), so no check of
 * theirs judges what production runs now.
 */
export function endOtherWatches(d: Draft, running: number, how: { rolledBack?: true }): void {
  for (const o of d.state.trains) {
    if (o.number === running || o.health?.state !== 'watching') continue;
    o.health = { ...o.health, state: 'healthy' };
    d.record('health.superseded', o.number, { by: running, failures: o.health.failures, ...(how.rolledBack ? { rolledBack: true } : {}) });
    if (how.rolledBack) d.announce(`The health watch of train #${o.number} ended: production was rolled back to train #${running}.`, o.number);
  }
}
