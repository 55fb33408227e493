/**
 * Rules 1, 2 and 3: commits reach the platform; one train at a time; a train
 * begins whenever possible (schedule mode, inside auto-time, nothing going).
 */
import { describe, expect, it } from 'vitest';
import { commitsArrived, deploy, goingTrain, isDeployable, notDeployableReason, SYSTEM_ACTOR } from '../../../src/domain/index.js';
import { ALICE, aCommit, aLine, announcements, BASE_SHA, BOB, CAROL, DAVE, effectsOf, monday, OFFICE_HOURS, ok, refused, Sim, sha, shortShas } from '../../support/domain-builders.js';

/** A line with train #1 going (commit c0 by Alice). */
function withTrainGoing(sim = new Sim()): Sim {
  ok(sim.push(aCommit('c0', ALICE)));
  expect(sim.goingOrFail.number).toBe(1);
  return sim;
}

/** Train #1 built, verified and its deploy started (ALICE is its engineer). */
function deployTrain1(sim: Sim) {
  sim.deliverAndVerify(1);
  return ok(sim.as(ALICE, deploy));
}

describe('rule 1: commits reach the platform', () => {
  it('records pushed commits on the platform, oldest first, and moves the known head', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    const d = ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    expect(sim.platformShas).toEqual(['a1', 'b1']);
    expect(sim.state.knownHeadSha).toBe(sha('b1'));
    expect(d.audit).toEqual([{ action: 'commits.arrived', train: null, details: { count: 2, headSha: sha('b1'), rewritten: false } }]);
    expect(announcements(d)[0]).toMatch(/^2 new commits on the platform \(2 waiting\)/);
  });

  it('history before the line was added never rides a train: the first train starts after the deployed head', () => {
    const sim = new Sim(aLine({ deployedSha: sha('head0'), knownHeadSha: sha('head0') }));
    ok(sim.push(aCommit('c1', ALICE)));
    const t = sim.goingOrFail;
    expect(t.baseSha).toBe(sha('head0'));
    expect(shortShas(t.commits)).toEqual(['c1']);
  });

  it('a delivery with no new commit records nothing and starts nothing', () => {
    const sim = new Sim();
    const d = ok(sim.as(SYSTEM_ACTOR, commitsArrived, [], BASE_SHA, false));
    expect(d.audit).toEqual([]);
    expect(sim.state.platform).toEqual([]);
    expect(sim.state.trains).toEqual([]);
    expect(d.reply).toBe('Recorded 0 new commits.');
  });

  it('a rewritten branch (force push) is announced and audited', () => {
    const sim = new Sim();
    const d = ok(sim.as(SYSTEM_ACTOR, commitsArrived, [], sha('new1'), true));
    expect(announcements(d)[0]).toContain('was rewritten (force push)');
    expect(d.audit.map((a) => a.action)).toEqual(['branch.rewritten']);
    expect(sim.state.knownHeadSha).toBe(sha('new1'));
  });

  it('waiting commits a force push took off the branch leave the platform (to be kept as removed) and never ride a train', () => {
    const sim = withTrainGoing();
    ok(sim.push(aCommit('p1', BOB), aCommit('p2', CAROL), aCommit('p3', DAVE)));
    const d = ok(sim.as(SYSTEM_ACTOR, commitsArrived, [aCommit('p2b', CAROL)], sha('p2b'), true, [], [sha('p2'), sha('p3'), sha('not-waiting')]));
    expect(shortShas(sim.state.platform)).toEqual(['p1', 'p2b']);
    expect(d.audit.find((a) => a.action === 'commits.removed')?.details).toMatchObject({ shas: [sha('p2'), sha('p3')], by: 'force push' });
    expect(announcements(d).some((m) => m.includes('A force push took 2 waiting commits off main') && m.includes(CAROL))).toBe(true);
    // The going train keeps its commits.
    expect(sim.goingOrFail.commits.map((c) => c.sha)).toEqual([sha('c0')]);
  });
});

describe('rule 3: a train begins whenever possible', () => {
  it('a push inside auto-time with nothing going starts a train at once with all platform commits', () => {
    const sim = new Sim();
    const d = ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB), aCommit('a2', ALICE)));
    const t = sim.goingOrFail;
    expect(t).toMatchObject({ number: 1, state: 'delivering', headSha: sha('a2'), baseSha: BASE_SHA, createdBy: SYSTEM_ACTOR });
    expect(shortShas(t.commits)).toEqual(['a1', 'b1', 'a2']);
    expect(sim.state.platform).toEqual([]);
    expect(sim.state.nextTrainNumber).toBe(2);
    expect(effectsOf(d, 'job.start')).toEqual([{ kind: 'job.start', train: 1, jobKind: 'build', attempt: 1 }]);
    expect(d.audit.map((a) => a.action)).toEqual(['commits.arrived', 'train.created']);
    expect(effectsOf(d, 'chat.card')).toEqual([{ kind: 'chat.card', train: 1 }]);
  });

  it('example 1: train going; four commits pushed; train deploys; a new train starts with those four commits', () => {
    const sim = withTrainGoing();
    ok(sim.push(aCommit('p1', ALICE), aCommit('p2', BOB), aCommit('p3', CAROL), aCommit('p4', DAVE)));
    expect(sim.state.trains.map((t) => t.number)).toEqual([1]);
    expect(sim.platformShas).toEqual(['p1', 'p2', 'p3', 'p4']);

    deployTrain1(sim);
    // Rule 2: #1 stopped going when its deploy started, so #2 is created now…
    const t2 = sim.goingOrFail;
    expect(t2.number).toBe(2);
    expect(shortShas(t2.commits)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(t2.baseSha).toBe(sha('c0'));
    expect(sim.state.platform).toEqual([]);

    // …and the deploy finishing does not disturb it.
    ok(sim.succeedDeploy(1));
    expect(sim.state.trains.map((t) => [t.number, t.state])).toEqual([[2, 'delivering']]);
    expect(shortShas(sim.train(2).commits)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(sim.state.deployedSha).toBe(sha('c0'));
    expect(sim.state.lastDeployed).toEqual({ number: 1, headSha: sha('c0') });
  });

  it('example 2: train going; nothing pushed; train deploys; wait; one commit pushed; a new train starts with that one commit', () => {
    const sim = withTrainGoing();
    deployTrain1(sim);
    expect(sim.going).toBeUndefined();
    ok(sim.succeedDeploy(1));
    expect(sim.state.trains).toEqual([]);

    sim.advance(90);
    ok(sim.tick());
    expect(sim.state.trains).toEqual([]);

    ok(sim.push(aCommit('n1', BOB)));
    const t2 = sim.goingOrFail;
    expect(t2.number).toBe(2);
    expect(shortShas(t2.commits)).toEqual(['n1']);
    expect(t2.baseSha).toBe(sha('c0'));
  });

  it('example 3: two pushed; train deploys outside auto-time, so none starts; five more pushed; auto-time begins; one train with all seven', () => {
    const sim = new Sim(aLine({ settings: { autoTime: OFFICE_HOURS } }), monday('16:00'));
    withTrainGoing(sim);
    ok(sim.push(aCommit('p1', ALICE), aCommit('p2', BOB)));
    sim.deliverAndVerify(1);

    sim.at(monday('17:30')); // outside auto-time
    ok(sim.as(ALICE, deploy));
    expect(sim.going).toBeUndefined();
    ok(sim.succeedDeploy(1));
    expect(sim.state.trains).toEqual([]);
    expect(sim.platformShas).toEqual(['p1', 'p2']);

    sim.at(monday('20:00'));
    ok(sim.push(aCommit('p3', CAROL), aCommit('p4', DAVE), aCommit('p5', ALICE)));
    ok(sim.push(aCommit('p6', BOB), aCommit('p7', CAROL)));
    ok(sim.tick());
    expect(sim.state.trains).toEqual([]);
    expect(sim.platformShas).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']);

    sim.at(new Date('2026-01-06T09:00:00Z')); // Tuesday: auto-time begins
    const d = ok(sim.tick());
    const t2 = sim.goingOrFail;
    expect(t2.number).toBe(2);
    expect(shortShas(t2.commits)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']);
    expect(sim.state.platform).toEqual([]);
    expect(d.audit.map((a) => a.action)).toEqual(['train.created']);
  });

  it('outside auto-time a push only queues', () => {
    const sim = new Sim(aLine({ settings: { autoTime: OFFICE_HOURS } }), monday('08:59'));
    ok(sim.push(aCommit('a1', ALICE)));
    expect(sim.state.trains).toEqual([]);
    sim.at(monday('09:00'));
    ok(sim.tick());
    expect(shortShas(sim.goingOrFail.commits)).toEqual(['a1']);
  });

  it('the auto-time window excludes its end', () => {
    const sim = new Sim(aLine({ settings: { autoTime: OFFICE_HOURS } }), monday('17:00'));
    ok(sim.push(aCommit('a1', ALICE)));
    expect(sim.state.trains).toEqual([]);
  });

  it('with a train going, pushes wait on the platform', () => {
    const sim = withTrainGoing();
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.tick());
    expect(sim.state.trains.map((t) => t.number)).toEqual([1]);
    expect(sim.platformShas).toEqual(['a1']);
  });

  it('manual mode never starts a train by itself, inside auto-time or not', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE)));
    sim.advance(60 * 24);
    ok(sim.tick());
    expect(sim.state.trains).toEqual([]);
    expect(sim.platformShas).toEqual(['a1']);
  });

  it('a freeze date stops automatic starts even inside a window', () => {
    const sim = new Sim(aLine({ settings: { freezes: ['2026-01-05'] } }));
    ok(sim.push(aCommit('a1', ALICE)));
    expect(sim.state.trains).toEqual([]);
    sim.at(new Date('2026-01-06T00:00:00Z'));
    ok(sim.tick());
    expect(sim.goingOrFail.number).toBe(1);
  });

  it.each([
    [1, ['a1'], ['b1', 'a2', 'c1']],
    [2, ['a1', 'b1'], ['a2', 'c1']],
    [4, ['a1', 'b1', 'a2', 'c1'], []],
    [10, ['a1', 'b1', 'a2', 'c1'], []],
  ])('maxCommits %i caps an automatic train to the oldest commits', (cap, onTrain, left) => {
    const sim = new Sim(aLine({ settings: { maxCommits: cap } }));
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB), aCommit('a2', ALICE), aCommit('c1', CAROL)));
    expect(shortShas(sim.goingOrFail.commits)).toEqual(onTrain);
    expect(sim.platformShas).toEqual(left);
    expect(sim.state.trains).toHaveLength(1);
  });

  it('with a cap, the rest of the platform becomes the next train when the deploy starts', () => {
    const sim = new Sim(aLine({ settings: { maxCommits: 2 } }));
    ok(sim.push(aCommit('a1', ALICE), aCommit('a2', ALICE), aCommit('a3', ALICE)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    expect(shortShas(sim.goingOrFail.commits)).toEqual(['a3']);
  });
});

describe('rule 2: one train at a time per line', () => {
  it('the next train is created when the previous deploy starts, and cannot deploy before that deploy has finished', () => {
    const sim = withTrainGoing();
    ok(sim.push(aCommit('b1', BOB)));
    deployTrain1(sim);
    expect(sim.train(1).state).toBe('deploying');
    expect(goingTrain(sim.state)?.number).toBe(2);

    sim.deliverAndVerify(2);
    const t2 = sim.train(2);
    expect(isDeployable(sim.state, t2)).toBe(false);
    expect(notDeployableReason(sim.state, t2)).toBe('Train #1 is still deploying; this train can deploy when it has finished.');
    expect(refused(sim.as(BOB, deploy))).toContain('Train #1 is still deploying');

    const done = sim.succeedDeploy(1);
    expect(isDeployable(sim.state, sim.train(2))).toBe(true);
    // The engineer of #2 hears that it is ready now.
    expect(effectsOf(done, 'chat.dm').some((e) => e.to === BOB && e.text.includes('#2 is ready to deploy'))).toBe(true);
    ok(sim.as(BOB, deploy));
    expect(sim.train(2).state).toBe('deploying');
  });

  it('a train is going from creation until its deploy starts', () => {
    const sim = withTrainGoing();
    expect(goingTrain(sim.state)?.state).toBe('delivering');
    sim.succeedBuild(1);
    expect(goingTrain(sim.state)?.state).toBe('verifying');
    sim.verifyAll(1);
    ok(sim.as(ALICE, deploy));
    expect(goingTrain(sim.state)).toBeUndefined();
  });

  it("a train created while another deploys starts from that train's head", () => {
    const sim = withTrainGoing();
    deployTrain1(sim);
    ok(sim.push(aCommit('b1', BOB)));
    expect(sim.train(2).baseSha).toBe(sha('c0'));
    expect(sim.state.deployedSha).toBe(BASE_SHA);
  });

  it('never two going trains: pushes while a train is going never create another', () => {
    const sim = withTrainGoing();
    for (let i = 1; i <= 5; i++) ok(sim.push(aCommit(`x${i}`, BOB)));
    expect(sim.state.trains.filter((t) => t.state === 'delivering' || t.state === 'verifying')).toHaveLength(1);
  });
});
