/** Rule 10: deployability and the production deploy. */
import { describe, expect, it } from 'vitest';
import { block, deploy, isDeployable, type LineState, notDeployableReason, verify } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, announcements, BOB, dmsTo, effectsOf, ok, ROBOT, refused, Sim, STRANGER, sha } from '../../support/domain-builders.js';

/** #1 = a1 (Alice, engineer), b1 (Bob). */
function train1(): Sim {
  const sim = new Sim();
  ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
  return sim;
}

const reason = (sim: Sim, n = 1) => notDeployableReason(sim.state, sim.train(n));

describe('rule 10: when a train is deployable', () => {
  it.each<[string, (sim: Sim) => void, string | null]>([
    ['build queued', () => {}, 'The build has not started yet.'],
    ['build running', (sim) => ok(sim.startJob(1, 'build')), 'The build and staging deploy are still running.'],
    ['build failed', (sim) => sim.failBuild(1), 'The build failed: retry it, or revert the bad commit and extend, or derail the train.'],
    ['on staging, nobody verified', (sim) => sim.succeedBuild(1), `Waiting for 2 verifications from ${ALICE}, ${BOB}.`],
    ['on staging, Bob verified', (sim) => (sim.succeedBuild(1), ok(sim.as(BOB, verify))), `Waiting for a verification from ${ALICE}.`],
    ['all verified', (sim) => sim.deliverAndVerify(1), null],
    ['all verified but blocked', (sim) => (sim.deliverAndVerify(1), ok(sim.as(ALICE, block, 'db migration'))), 'The train is blocked: db migration.'],
    ['blocked and unverified: blocked first', (sim) => (sim.succeedBuild(1), ok(sim.as(ALICE, block, 'wait'))), 'The train is blocked: wait.'],
    ['deploying', (sim) => (sim.deliverAndVerify(1), ok(sim.as(ALICE, deploy))), 'Train #1 is already deploying.'],
  ])('%s → %s', (_name, arrange, expected) => {
    const sim = train1();
    arrange(sim);
    expect(reason(sim)).toBe(expected);
    expect(isDeployable(sim.state, sim.train(1))).toBe(expected === null);
  });

  it('deployed and derailed trains say so', () => {
    const sim = train1();
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    const d = ok(sim.finishJob(1, 'deploy', true));
    const t1 = d.state.trains.find((t) => t.number === 1)!;
    expect(notDeployableReason(d.state, t1)).toBe('Train #1 is already deployed.');
    const derailed = { ...t1, state: 'derailed' as const, derailReason: 'oops' };
    expect(notDeployableReason(d.state as LineState, derailed)).toBe('Train #1 was derailed (oops).');
  });

  it('"ready to deploy" is said once, when the train becomes deployable', () => {
    const sim = train1();
    sim.succeedBuild(1);
    expect(dmsTo(ok(sim.as(BOB, verify)), ALICE)).toEqual([]);
    const ready = ok(sim.as(ALICE, verify));
    expect(dmsTo(ready, ALICE).map((e) => e.text)).toEqual(['Train #1 is ready to deploy. Press Deploy or run `/conductor deploy`.']);
    expect(announcements(ready)).toContain(`Train #1 is ready to deploy; waiting for ${ALICE} to deploy.`);
    sim.advance(60);
    expect(dmsTo(ok(sim.tick()), ALICE)).toEqual([]);
  });
});

describe('rule 10: the deploy', () => {
  it('the engineer starts the deploy of a deployable train', () => {
    const sim = train1();
    sim.deliverAndVerify(1);
    const d = ok(sim.as(ALICE, deploy));
    expect(sim.train(1)).toMatchObject({ state: 'deploying', deployStartedAt: sim.now });
    expect(effectsOf(d, 'job.start')).toEqual([{ kind: 'job.start', train: 1, jobKind: 'deploy', attempt: 1 }]);
    expect(sim.train(1).jobs.find((j) => j.kind === 'deploy')).toMatchObject({ state: 'queued', sha: sha('b1'), requestedBy: ALICE });
    expect(d.audit).toEqual([{ action: 'train.deploy-started', train: 1, details: { headSha: sha('b1') } }]);
    expect(announcements(d)).toContain(`Train #1 is deploying to production (started by ${ALICE}).`);
  });

  it('when the deploy job succeeds the train is deployed and every human author gets a DM', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB), aCommit('r1', ROBOT)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    const d = sim.succeedDeploy(1);
    const t1 = d.state.trains.find((t) => t.number === 1)!;
    expect(t1).toMatchObject({ state: 'deployed', deployedAt: sim.now });
    expect(d.state.deployedSha).toBe(sha('r1'));
    expect(d.state.lastDeployed).toEqual({ number: 1, headSha: sha('r1') });
    expect(dmsTo(d, ALICE).map((e) => e.text)).toEqual(['Your changes on train #1 are in production.']);
    expect(dmsTo(d, BOB)).toHaveLength(1);
    expect(dmsTo(d, ROBOT)).toEqual([]);
    expect(d.audit.map((a) => a.action)).toEqual(['job.succeeded', 'train.deployed']);
    expect(sim.state.trains).toEqual([]); // not loaded any more
  });

  it('an admin may deploy; another author or a stranger may not, and is told who may', () => {
    const sim = train1();
    sim.deliverAndVerify(1);
    expect(refused(sim.as(BOB, deploy))).toBe(`Only the engineer (${ALICE}) or an admin may deploy.`);
    expect(refused(sim.as(STRANGER, deploy))).toBe(`Only the engineer (${ALICE}) or an admin may deploy.`);
    expect(sim.train(1).state).toBe('verifying');
    ok(sim.as(ADMIN, deploy));
    expect(sim.train(1).state).toBe('deploying');
  });

  it('a train with no human author has no engineer: admins may deploy it', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('r1', ROBOT)));
    expect(sim.goingOrFail.engineer).toBeNull();
    const d = sim.succeedBuild(1);
    expect(announcements(d)).toContain('Train #1 is ready to deploy. It has no engineer: claim it with `/conductor engineer me`; admins may deploy it.');
    expect(refused(sim.as(ALICE, deploy))).toBe('Only the engineer or an admin may deploy.');
    ok(sim.as(ADMIN, deploy));
    expect(sim.train(1).state).toBe('deploying');
  });

  it('only when deployable: the refusal says why', () => {
    const sim = train1();
    expect(refused(sim.as(ALICE, deploy))).toBe('Train #1 cannot deploy yet. The build has not started yet.');
    sim.succeedBuild(1);
    expect(refused(sim.as(ADMIN, deploy))).toBe(`Train #1 cannot deploy yet. Waiting for 2 verifications from ${ALICE}, ${BOB}.`);
    expect(sim.train(1).state).toBe('verifying');
    expect(refused(new Sim().as(ADMIN, deploy))).toBe('No train is going: there is nothing to deploy.');
  });

  it('a double deploy is refused and never starts a second deploy job', () => {
    const sim = train1();
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    expect(refused(sim.as(ALICE, deploy))).toBe('Train #1 is already deploying.');
    expect(refused(sim.as(ADMIN, deploy))).toBe('Train #1 is already deploying.');
    // Even with the next train already created, the second click does not deploy it.
    ok(sim.push(aCommit('c1', BOB)));
    expect(refused(sim.as(ALICE, deploy))).toMatch(/^(Only the engineer|Train #2 cannot deploy yet)/);
    expect(sim.train(1).jobs.filter((j) => j.kind === 'deploy')).toHaveLength(1);
    expect(sim.train(2).jobs.filter((j) => j.kind === 'deploy')).toHaveLength(0);
  });

  it('a deploy job result for a finished job is refused: nothing deploys twice', () => {
    const sim = train1();
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    sim.keep = [1];
    sim.succeedDeploy(1);
    const again = sim.finishJob(1, 'deploy', true);
    expect(refused(again)).toBe('That job has already finished.');
  });
});
