/** Rule 13: rollback to an earlier deployed train. */
import { describe, expect, it } from 'vitest';
import { deploy, rollback, unblock } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, announcements, BOB, CAROL, effectsOf, ok, refused, Sim, STRANGER, sha } from '../../support/domain-builders.js';

/** #1 (a1) and #2 (b1) deployed and kept loaded; #3 (c1, engineer Carol) going and on staging. */
function history(withGoing = true): Sim {
  const sim = new Sim();
  sim.keep = [1, 2];
  ok(sim.push(aCommit('a1', ALICE)));
  sim.deliverAndVerify(1);
  ok(sim.as(ALICE, deploy));
  sim.succeedDeploy(1);
  ok(sim.push(aCommit('b1', BOB)));
  sim.deliverAndVerify(2);
  ok(sim.as(BOB, deploy));
  sim.succeedDeploy(2);
  if (!withGoing) return sim;
  ok(sim.push(aCommit('c1', CAROL)));
  sim.succeedBuild(3);
  expect(sim.state.trains.map((t) => [t.number, t.state])).toEqual([
    [1, 'deployed'],
    [2, 'deployed'],
    [3, 'verifying'],
  ]);
  return sim;
}

describe('rule 13: rollback', () => {
  it('runs the rollback job for the earlier train\'s head and blocks the going train with reason "rollback"', () => {
    const sim = history();
    const d = ok(sim.as(CAROL, rollback, 1));
    expect(effectsOf(d, 'job.start')).toEqual([{ kind: 'job.start', train: 1, jobKind: 'rollback', attempt: 1 }]);
    expect(sim.train(1).jobs.find((j) => j.kind === 'rollback')).toMatchObject({ state: 'queued', sha: sha('a1'), requestedBy: CAROL });
    expect(sim.train(3).blocked).toBe('rollback');
    const text = announcements(d)[0]!;
    expect(text).toContain(`${CAROL} is rolling production back to train #1 (${sha('a1').slice(0, 8)}).`);
    expect(text).toContain('Train #3 is blocked ("rollback").');
    expect(text).toContain('revert the bad commit');
    expect(text).toContain('extend the train');
    expect(text).toContain('unblock it');
    expect(d.audit).toEqual([{ action: 'line.rollback', train: 1, details: { headSha: sha('a1'), blocked: 3, from: 2 } }]);

    sim.verifyAll(3);
    expect(refused(sim.as(CAROL, deploy))).toBe('Train #3 cannot deploy yet. The train is blocked: rollback.');
    const r = sim.succeedJob(1);
    expect(announcements(r)).toContain(`Production was rolled back to train #1 (${sha('a1').slice(0, 8)}). It ran train #2 before.`);
    ok(sim.as(CAROL, unblock));
    ok(sim.as(CAROL, deploy));
  });

  it('refusals: the train in production, a train never deployed, an unknown train, a rollback already running', () => {
    const sim = history();
    expect(refused(sim.as(ADMIN, rollback, 2))).toBe('Train #2 is what production runs now: roll back to another deployed train.');
    expect(refused(sim.as(ADMIN, rollback, 3))).toBe('Train #3 was never deployed: only a deployed train can be rolled back to.');
    expect(refused(sim.as(ADMIN, rollback, 99))).toBe('Train #99 was never deployed: only a deployed train can be rolled back to.');
    ok(sim.as(ADMIN, rollback, 1));
    expect(refused(sim.as(ADMIN, rollback, 1))).toBe('A rollback to train #1 is already running.');
    expect(sim.train(1).jobs.filter((j) => j.kind === 'rollback')).toHaveLength(1);
  });

  it('only the engineer or an admin may roll back, and the refusal says so', () => {
    const sim = history();
    expect(refused(sim.as(ALICE, rollback, 1))).toBe(`Only the engineer (${CAROL}) or an admin may roll back.`);
    expect(refused(sim.as(STRANGER, rollback, 1))).toContain('Only the engineer');
    expect(sim.train(3).blocked).toBeNull();
    ok(sim.as(ADMIN, rollback, 1));
  });

  it('with no train going only an admin may roll back, and nothing is blocked', () => {
    const sim = history(false);
    expect(sim.going).toBeUndefined();
    expect(refused(sim.as(ALICE, rollback, 1))).toBe('Only the engineer or an admin may roll back.');
    const d = ok(sim.as(ADMIN, rollback, 1));
    expect(announcements(d)[0]).not.toContain('is blocked');
    expect(d.audit[0]!.details).toMatchObject({ blocked: null });
  });

  it('behaviour.md §9: production follows a successful rollback; rolling forward again and deploying the next train are allowed', () => {
    const sim = history();
    expect(sim.state.production).toMatchObject({ number: 2, headSha: sha('b1'), by: BOB, rolledBackFrom: null });
    ok(sim.as(CAROL, rollback, 1));
    // Until the rollback job succeeds, production still runs #2.
    expect(sim.state.production?.number).toBe(2);
    const done = sim.now;
    sim.succeedJob(1);
    expect(sim.state.production).toEqual({ number: 1, headSha: sha('a1'), since: done, by: CAROL, rolledBackFrom: 2 });
    expect(sim.state.lastDeployed).toEqual({ number: 1, headSha: sha('a1') });
    // The branch did not move: the next train still starts after #2's head.
    expect(sim.state.deployedSha).toBe(sha('b1'));
    expect(refused(sim.as(CAROL, rollback, 1))).toBe('Train #1 is what production runs now: roll back to another deployed train.');

    // Roll forward to #2 again.
    const f = ok(sim.as(CAROL, rollback, 2));
    expect(announcements(f)[0]).toContain(`${CAROL} is rolling production forward to train #2 (${sha('b1').slice(0, 8)}). Until it succeeds, production runs train #1.`);
    const r = sim.succeedJob(2);
    expect(announcements(r)).toContain(`Production was rolled forward to train #2 (${sha('b1').slice(0, 8)}). It ran train #1 before.`);
    expect(sim.state.production).toMatchObject({ number: 2, rolledBackFrom: null, by: CAROL });

    // Deploying the next train moves production on.
    sim.verifyAll(3);
    ok(sim.as(CAROL, unblock));
    ok(sim.as(CAROL, deploy));
    sim.succeedDeploy(3);
    expect(sim.state.production).toMatchObject({ number: 3, headSha: sha('c1'), by: CAROL, rolledBackFrom: null });
    expect(sim.state.lastDeployed).toEqual({ number: 3, headSha: sha('c1') });
  });
});
