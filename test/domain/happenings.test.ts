/** What a decision made happen (src/domain/happenings.ts): what the deciding process counts in /metrics. */
import { describe, expect, it } from 'vitest';
import { type Happening, happenings } from '../../src/domain/happenings.js';
import { type Decision, deploy, derail, extend, markJob, revert, rollback, start, verify } from '../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, BOB, CAROL, ok, Sim, sha } from '../support/domain-builders.js';

/** Runs one step and answers what it made happen, from the engine's before and after: the loaded state and the decision's. */
function step(sim: Sim, act: () => Decision): Happening[] {
  const before = sim.state;
  return happenings(before, ok(act()).state);
}

/** Train #1 (a1 by Alice, b1 by Bob) built, verified and deploying; its deploy job not started yet. */
function deploying(): Sim {
  const sim = new Sim();
  ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
  sim.deliverAndVerify(1);
  ok(sim.as(ALICE, deploy));
  return sim;
}

describe('happenings: what a decision made happen', () => {
  it('a build that ran 7 minutes and succeeded: one job.finished with its duration; nothing for decisions that end no job', () => {
    const sim = new Sim();
    expect(step(sim, () => sim.push(aCommit('a1', ALICE)))).toEqual([]); // train #1 starts, its build is queued
    expect(step(sim, () => sim.startJob(1, 'build'))).toEqual([]);
    sim.advance(7);
    expect(step(sim, () => sim.finishJob(1, 'build', true))).toEqual([{ kind: 'job.finished', train: 1, job: 'build', attempt: 1, result: 'succeeded', seconds: 420, settledLate: false }]);
    expect(step(sim, () => sim.as(ALICE, verify))).toEqual([]);
  });

  it("a deploy that succeeds: its job, and the train's commits in production at the deploy's end", () => {
    const sim = deploying();
    ok(sim.startJob(1, 'deploy'));
    sim.advance(3);
    expect(step(sim, () => sim.finishJob(1, 'deploy', true))).toEqual([
      { kind: 'job.finished', train: 1, job: 'deploy', attempt: 1, result: 'succeeded', seconds: 180, settledLate: false },
      { kind: 'train.deployed', train: 1, at: sim.now, shas: [sha('a1'), sha('b1')] },
    ]);
  });

  it('a deploy that fails, then the derail that follows it: one failed deploy, one derail', () => {
    const sim = deploying();
    ok(sim.startJob(1, 'deploy'));
    sim.advance(1);
    expect(step(sim, () => sim.finishJob(1, 'deploy', false))).toEqual([{ kind: 'job.finished', train: 1, job: 'deploy', attempt: 1, result: 'failed', seconds: 60, settledLate: false }]);
    expect(step(sim, () => sim.as(ALICE, derail, 'broken'))).toEqual([{ kind: 'train.derailed', train: 1 }]);
  });

  it('a derail stops a running build (counted failed, with the time it ran) and one that never started (no duration)', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, start));
    ok(sim.startJob(1, 'build'));
    sim.advance(2);
    expect(step(sim, () => sim.as(ALICE, derail, 'flaky'))).toEqual([
      { kind: 'job.finished', train: 1, job: 'build', attempt: 1, result: 'failed', seconds: 120, settledLate: false },
      { kind: 'train.derailed', train: 1 },
    ]);
    ok(sim.as(ADMIN, start));
    expect(step(sim, () => sim.as(ALICE, derail))).toEqual([
      { kind: 'job.finished', train: 2, job: 'build', attempt: 1, result: 'failed', seconds: null, settledLate: false },
      { kind: 'train.derailed', train: 2 },
    ]);
  });

  it('an extend replaces the train: not a derail', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    sim.succeedBuild(1);
    ok(sim.as(BOB, revert, sim.train(1).commits[1]!, 'b1'));
    ok(sim.push(aCommit('c1', CAROL), aCommit('r1', BOB, 'Revert "change b1"')));
    expect(step(sim, () => sim.as(ALICE, extend))).toEqual([]);
  });

  it('a deploy whose outcome is unknown, then recorded as succeeded: counted unknown, then succeeded once more (settled late, no second duration)', () => {
    const sim = deploying();
    ok(sim.startJob(1, 'deploy'));
    sim.advance(5);
    expect(step(sim, () => sim.reportUnknown(1, 'deploy'))).toEqual([{ kind: 'job.finished', train: 1, job: 'deploy', attempt: 1, result: 'unknown', seconds: 300, settledLate: false }]);
    sim.advance(30);
    expect(step(sim, () => sim.as(ALICE, markJob, 'succeeded', 1))).toEqual([
      { kind: 'job.finished', train: 1, job: 'deploy', attempt: 1, result: 'succeeded', seconds: null, settledLate: true },
      { kind: 'train.deployed', train: 1, at: sim.now, shas: [sha('a1'), sha('b1')] },
    ]);
  });

  it('a rollback that succeeds: its job only (the train was deployed before)', () => {
    const sim = deploying();
    sim.keep = [1];
    sim.succeedDeploy(1);
    ok(sim.push(aCommit('c1', CAROL)));
    sim.deliverAndVerify(2);
    ok(sim.as(CAROL, deploy));
    sim.succeedDeploy(2);
    ok(sim.as(ADMIN, rollback, 1));
    ok(sim.startJob(1, 'rollback'));
    sim.advance(4);
    expect(step(sim, () => sim.finishJob(1, 'rollback', true))).toEqual([
      { kind: 'job.finished', train: 1, job: 'rollback', attempt: 1, result: 'succeeded', seconds: 240, settledLate: false },
    ]);
  });
});
