/** behaviour.md §8: the pure part of health-gated deploys. */
import { describe, expect, it } from 'vitest';
import {
  applyResult,
  conditionHolds,
  deploy,
  derail,
  type HealthPolicy,
  type HealthResult,
  healthChecked,
  healthSoaked,
  nextCheckAt,
  notDeployableReason,
  parseCondition,
  rollback,
  soakOver,
  startWatch,
  unblock,
} from '../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, announcements, BOB, CAROL, dmsTo, effectsOf, MONDAY_NOON, ok, refused, Sim } from '../support/domain-builders.js';

const POLICY: HealthPolicy = { intervalSeconds: 30, soakMinutes: 15, failuresToTrip: 3, autoRollback: false };
const result = (outcome: HealthResult['outcome'], message = outcome === 'failed' ? 'error rate 0.2 (healthy if < 0.01)' : 'ok'): HealthResult => ({
  outcome,
  value: outcome === 'unknown' ? null : 0.2,
  exitCode: null,
  message,
});

describe('health: parsing and judging a value', () => {
  it('reads the six operators and a number', () => {
    expect(parseCondition('< 0.01')).toEqual({ op: '<', threshold: 0.01 });
    expect(parseCondition('>=5')).toEqual({ op: '>=', threshold: 5 });
    expect(parseCondition(' != -1e3 ')).toEqual({ op: '!=', threshold: -1000 });
    for (const bad of ['0.01', '=< 1', '< ', '< abc', '<< 1', '< NaN', '< Infinity']) expect(parseCondition(bad), bad).toBeNull();
  });

  it('compares', () => {
    expect(conditionHolds({ op: '<', threshold: 0.01 }, 0.005)).toBe(true);
    expect(conditionHolds({ op: '<', threshold: 0.01 }, 0.01)).toBe(false);
    expect(conditionHolds({ op: '<=', threshold: 0.01 }, 0.01)).toBe(true);
    expect(conditionHolds({ op: '>', threshold: 1 }, 2)).toBe(true);
    expect(conditionHolds({ op: '>=', threshold: 1 }, 0.5)).toBe(false);
    expect(conditionHolds({ op: '==', threshold: 0 }, 0)).toBe(true);
    expect(conditionHolds({ op: '!=', threshold: 0 }, 0)).toBe(false);
  });
});

describe('health: counting consecutive failures', () => {
  const start = startWatch(MONDAY_NOON, POLICY);

  it('trips on the third failure in a row', () => {
    let h = start;
    for (const n of [1, 2]) {
      const step = applyResult(h, 'failed', 3);
      expect(step).toMatchObject({ tripped: false, health: { failures: n, state: 'watching' } });
      h = step.health;
    }
    expect(applyResult(h, 'failed', 3)).toMatchObject({ tripped: true, health: { failures: 3, state: 'failed' } });
  });

  it('a success resets the count, so a flapping signal never trips', () => {
    let h = start;
    for (const o of ['failed', 'failed', 'healthy', 'failed', 'failed', 'healthy', 'failed'] as const) {
      const step = applyResult(h, o, 3);
      expect(step.tripped).toBe(false);
      h = step.health;
    }
    expect(h).toMatchObject({ state: 'watching', failures: 1 });
  });

  it('an unknown neither counts nor resets, and is said once when it begins', () => {
    let h = applyResult(start, 'failed', 3).health;
    const first = applyResult(h, 'unknown', 3);
    expect(first).toMatchObject({ tripped: false, becameUnknown: true, health: { failures: 1, last: 'unknown' } });
    h = first.health;
    const second = applyResult(h, 'unknown', 3);
    expect(second.becameUnknown).toBe(false);
    h = applyResult(applyResult(second.health, 'failed', 3).health, 'unknown', 3).health;
    expect(h.failures).toBe(2);
    expect(applyResult(h, 'failed', 3).tripped).toBe(true);
  });

  it('a watch ends at the end of the soak; the next check is one interval after the last stored one', () => {
    expect(soakOver(start, new Date(MONDAY_NOON.getTime() + 14 * 60_000))).toBe(false);
    expect(soakOver(start, new Date(MONDAY_NOON.getTime() + 15 * 60_000))).toBe(true);
    expect(nextCheckAt(start, null, 30)).toEqual(MONDAY_NOON);
    expect(nextCheckAt(start, new Date(MONDAY_NOON.getTime() + 1000), 30)).toEqual(new Date(MONDAY_NOON.getTime() + 31_000));
    expect(nextCheckAt({ ...start, state: 'healthy' }, null, 30)).toBeNull();
  });
});

/** #1 deployed (Alice) without a health check; #2 (Bob) deployed and watched; #3 (Carol) going. */
function watched(policy: Partial<HealthPolicy> = {}): Sim {
  const sim = new Sim(aLine({ settings: { health: { ...POLICY, ...policy } } }));
  sim.keep = [1, 2];
  ok(sim.push(aCommit('a1', ALICE)));
  sim.deliverAndVerify(1);
  ok(sim.as(ALICE, deploy));
  sim.succeedDeploy(1);
  sim.advance(15);
  ok(sim.as(ADMIN, healthSoaked, 1));
  ok(sim.push(aCommit('b1', BOB)));
  sim.deliverAndVerify(2);
  ok(sim.as(BOB, deploy));
  sim.succeedDeploy(2);
  ok(sim.push(aCommit('c1', CAROL)));
  sim.succeedBuild(3);
  return sim;
}

describe('health: the watch after a deploy', () => {
  it('starts when the deploy succeeds, and ends healthy after the soak', () => {
    const sim = new Sim(aLine({ settings: { health: POLICY } }));
    ok(sim.push(aCommit('a1', ALICE)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    const d = sim.succeedDeploy(1);
    expect(sim.train(1).health).toMatchObject({ state: 'watching', failures: 0, since: sim.now });
    expect(announcements(d)).toContain('Train #1 is watched by its health check for 15 minutes (every 30 seconds).');
    ok(sim.as('conductor', healthChecked, 1, result('healthy'), null));
    sim.advance(14);
    expect(refused(sim.as('conductor', healthSoaked, 1))).toBe('Train #1 is not at the end of a health watch.');
    sim.advance(1);
    expect(refused(sim.as('conductor', healthChecked, 1, result('failed'), null))).toBe("Train #1's soak is over.");
    const end = ok(sim.as('conductor', healthSoaked, 1));
    expect(end.audit).toEqual([{ action: 'health.healthy', train: 1, details: {} }]);
    expect(sim.state.trains.find((t) => t.number === 1)).toBeUndefined(); // no longer watched: not loaded
  });

  it('is not started on a line without a health check', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    sim.keep = [1];
    sim.succeedDeploy(1);
    expect(sim.train(1).health).toBeNull();
  });

  it('a watched train does not hold the next deploy', () => {
    const sim = watched();
    sim.verifyAll(3);
    expect(notDeployableReason(sim.state, sim.train(3))).toBeNull();
  });

  it('a rollback away from a watched train ends its watch: its checks would judge the train rolled back to', () => {
    const sim = watched();
    expect(sim.train(2).health?.state).toBe('watching');
    ok(sim.as(ADMIN, rollback, 1));
    const d = sim.succeedJob(1, 'rollback');
    expect(sim.train(2).health?.state).toBe('healthy');
    expect(d.ok && d.audit).toContainEqual({ action: 'health.superseded', train: 2, details: { by: 1, failures: 0, rolledBack: true } });
    expect(announcements(d)).toContain('The health watch of train #2 ended: production was rolled back to train #1.');
    expect(refused(sim.as('conductor', healthChecked, 2, result('failed'), null))).toBe('Train #2 is not watched by a health check.');
  });
});

describe('health: a trip', () => {
  it('blocks the going train and every new train until unblock, and tells the engineer and admins', () => {
    const sim = watched();
    ok(sim.as('conductor', healthChecked, 2, result('failed'), 1));
    const second = ok(sim.as('conductor', healthChecked, 2, result('failed'), 1));
    expect(announcements(second)).toEqual([':warning: Health check failed on train #2 (2 of 3 in a row): error rate 0.2 (healthy if < 0.01).']);
    const d = ok(sim.as('conductor', healthChecked, 2, result('failed'), 1));
    const reason = 'health check failed on train #2: error rate 0.2 (healthy if < 0.01)';
    expect(sim.train(2).health).toMatchObject({ state: 'failed', failures: 3 });
    expect(sim.train(3).blocked).toBe(reason);
    expect(sim.state.healthBlock).toBe(reason);
    expect(d.audit[0]).toEqual({ action: 'health.tripped', train: 2, details: { reason, failures: 3, blocked: 3 } });
    expect(dmsTo(d, BOB)).toHaveLength(1);
    expect(dmsTo(d, ADMIN)).toHaveLength(1);
    expect(dmsTo(d, BOB)[0]!.text).toContain(reason);
    expect(effectsOf(d, 'chat.announce').find((e) => e.broadcast)?.text).toContain('every train created until `/conductor unblock` is blocked');
    expect(effectsOf(d, 'job.start')).toEqual([]); // no autoRollback
    // No more checks: the watch is over.
    expect(refused(sim.as('conductor', healthChecked, 2, result('failed'), 1))).toBe('Train #2 is not watched by a health check.');
    expect(notDeployableReason(sim.state, sim.train(3))).toBe(`The train is blocked: ${reason}.`);
  });

  it('a train created after the trip is blocked too; unblock clears the line', () => {
    const sim = watched({ failuresToTrip: 1 });
    ok(sim.as('conductor', healthChecked, 2, result('failed'), 1));
    const reason = 'health check failed on train #2: error rate 0.2 (healthy if < 0.01)';
    // Derail the going train: rule 3 starts the next one at once, and it is created blocked.
    ok(sim.as(CAROL, derail));
    expect(sim.goingOrFail.number).toBe(4);
    expect(sim.goingOrFail.blocked).toBe(reason);
    const d = ok(sim.as(ADMIN, unblock));
    expect(announcements(d)[0]).toContain('The failed health check no longer blocks new trains.');
    expect(sim.train(4).blocked).toBeNull();
    expect(sim.state.healthBlock).toBeNull();
    ok(sim.as(CAROL, derail));
    expect(sim.goingOrFail.blocked).toBeNull();
  });

  it('with no train going, unblock clears the line itself', () => {
    const sim = watched({ failuresToTrip: 1 });
    ok(sim.as('conductor', healthChecked, 2, result('failed'), 1));
    ok(sim.as(ADMIN, derail));
    sim.state = { ...sim.state, settings: { ...sim.state.settings, mode: 'manual' } };
    ok(sim.as(ADMIN, derail));
    expect(sim.going).toBeUndefined();
    ok(sim.as(ADMIN, unblock));
    expect(sim.state.healthBlock).toBeNull();
  });

  it('with autoRollback, rolls back to the previous healthy train by itself, keeping the reason', () => {
    const sim = watched({ autoRollback: true, failuresToTrip: 2 });
    ok(sim.as('conductor', healthChecked, 2, result('failed'), 1));
    const d = ok(sim.as('conductor', healthChecked, 2, result('failed'), 1));
    expect(effectsOf(d, 'job.start')).toEqual([{ kind: 'job.start', train: 1, jobKind: 'rollback', attempt: 1 }]);
    expect(sim.train(1).jobs.find((j) => j.kind === 'rollback')).toMatchObject({ state: 'queued', requestedBy: 'conductor' });
    expect(sim.train(3).blocked).toBe('health check failed on train #2: error rate 0.2 (healthy if < 0.01)');
    expect(announcements(d).join('\n')).toContain('Rolling back to train #1 automatically.');
  });

  it('with autoRollback but no earlier healthy train, says so', () => {
    const sim = watched({ autoRollback: true, failuresToTrip: 1 });
    const d = ok(sim.as('conductor', healthChecked, 2, result('failed'), null));
    expect(effectsOf(d, 'job.start')).toEqual([]);
    expect(announcements(d).join('\n')).toContain('No automatic rollback: there is no earlier healthy deployed train.');
  });

  it('an unknown result is said once and never trips', () => {
    const sim = watched({ failuresToTrip: 1 });
    const d = ok(sim.as('conductor', healthChecked, 2, result('unknown', 'Prometheus at http://p:9090 did not answer: connection refused'), 1));
    expect(announcements(d)).toEqual([
      ':grey_question: The health check of train #2 could not run: Prometheus at http://p:9090 did not answer: connection refused. An unknown result is not a failure: the watch goes on.',
    ]);
    const again = ok(sim.as('conductor', healthChecked, 2, result('unknown'), 1));
    expect(announcements(again)).toEqual([]);
    expect(sim.train(2).health).toMatchObject({ state: 'watching', failures: 0 });
    expect(sim.state.healthBlock).toBeNull();
  });
});
