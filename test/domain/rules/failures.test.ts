/** Rule 12: failed jobs, retry, timeouts. */
import { describe, expect, it } from 'vitest';
import { deploy, derail, jobFinished, jobStarted, notDeployableReason, retry } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, announcements, BOB, dmsTo, effectsOf, ok, refused, Sim, STRANGER } from '../../support/domain-builders.js';

function train1(): Sim {
  const sim = new Sim(aLine({ settings: { timeouts: { build: 30, deploy: 45, rollback: 20 } } }));
  ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
  expect(sim.goingOrFail.engineer).toBe(ALICE);
  return sim;
}

describe('rule 12: a failed build', () => {
  it('is reported in the channel with the link and the engineer, and the train waits', () => {
    const sim = train1();
    const d = sim.failBuild(1);
    const text = `${ALICE}: the build of train #1 failed (https://ci.test/build/1/1). Retry it, or revert the bad commit and extend, or derail.\nThe last lines of its output:\n\`\`\`\nboom\n\`\`\``;
    expect(announcements(d)).toContain(text);
    expect(dmsTo(d, ALICE).map((e) => e.text)).toEqual([
      `The build of train #1 failed (https://ci.test/build/1/1). Retry it, or revert the bad commit and extend, or derail.\nThe last lines of its output:\n\`\`\`\nboom\n\`\`\``,
    ]);
    expect(d.audit).toEqual([{ action: 'job.failed', train: 1, details: { kind: 'build', attempt: 1, timedOut: false } }]);
    expect(sim.train(1).state).toBe('delivering');
    expect(sim.train(1).jobs[0]).toMatchObject({ state: 'failed', output: 'boom' });
    expect(notDeployableReason(sim.state, sim.train(1))).toContain('The build failed');
    // Still going: a push waits on the platform.
    ok(sim.push(aCommit('c1', BOB)));
    expect(sim.state.trains.map((t) => t.number)).toEqual([1]);
  });

  it('retry starts a new attempt of the build; its success delivers the train', () => {
    const sim = train1();
    sim.failBuild(1);
    const r = ok(sim.as(ALICE, retry));
    expect(effectsOf(r, 'job.start')).toEqual([{ kind: 'job.start', train: 1, jobKind: 'build', attempt: 2 }]);
    expect(r.audit).toEqual([{ action: 'job.retried', train: 1, details: { kind: 'build', attempt: 2 } }]);
    expect(sim.train(1).jobs.map((j) => [j.attempt, j.state])).toEqual([
      [1, 'failed'],
      [2, 'queued'],
    ]);
    sim.succeedBuild(1);
    expect(sim.train(1).state).toBe('verifying');
  });

  it('a late result for a failed attempt is refused', () => {
    const sim = train1();
    sim.failBuild(1);
    ok(sim.as(ADMIN, retry));
    expect(refused(sim.as('conductor', jobFinished, { train: 1, kind: 'build', attempt: 1 }, true, 'late'))).toBe('That job has already finished.');
    expect(sim.train(1).state).toBe('delivering');
  });

  it('or derail: the stopped jobs of a derailed train do not come back', () => {
    const sim = train1();
    ok(sim.startJob(1, 'build'));
    sim.keep = [1];
    ok(sim.as(ALICE, derail));
    expect(refused(sim.as('conductor', jobFinished, { train: 1, kind: 'build', attempt: 1 }, true, 'ok'))).toBe('That job has already finished.');
  });

  it('only the engineer or an admin may retry; there must be a failed job', () => {
    const sim = train1();
    expect(refused(sim.as(ALICE, retry))).toBe('There is no failed job to retry.');
    sim.failBuild(1);
    expect(refused(sim.as(STRANGER, retry))).toBe(`Only the engineer (${ALICE}) or an admin may retry the build.`);
    expect(sim.train(1).jobs).toHaveLength(1);
  });

  it('a job is started once', () => {
    const sim = train1();
    ok(sim.startJob(1, 'build'));
    expect(refused(sim.as('conductor', jobStarted, { train: 1, kind: 'build', attempt: 1 }, 'x', null))).toBe('That job is not waiting to start.');
  });
});

describe('rule 12: a failed deploy', () => {
  function deploying(): Sim {
    const sim = train1();
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    return sim;
  }

  it('the train stays deploying, the next train cannot deploy, retry deploys', () => {
    const sim = deploying();
    ok(sim.push(aCommit('c1', BOB)));
    const d = sim.failDeploy(1);
    expect(announcements(d)).toContain(
      `${ALICE}: the deploy of train #1 failed (https://ci.test/deploy/1/1). Retry the deploy, or roll back.\nThe last lines of its output:\n\`\`\`\nboom\n\`\`\``,
    );
    expect(sim.train(1).state).toBe('deploying');
    sim.deliverAndVerify(2);
    expect(notDeployableReason(sim.state, sim.train(2))).toBe('Train #1 is still deploying; this train can deploy when it has finished.');

    const r = ok(sim.as(ALICE, retry));
    expect(effectsOf(r, 'job.start')).toEqual([{ kind: 'job.start', train: 1, jobKind: 'deploy', attempt: 2 }]);
    sim.succeedDeploy(1);
    expect(sim.state.lastDeployed?.number).toBe(1);
    expect(notDeployableReason(sim.state, sim.train(2))).toBeNull();
  });
});

describe('rule 12: timeouts', () => {
  it('a running build that does not report back within its timeout counts as failed', () => {
    const sim = train1();
    ok(sim.startJob(1, 'build'));
    expect(sim.train(1).jobs[0]!.timeoutAt).toEqual(new Date(sim.now.getTime() + 30 * 60_000));
    sim.advance(29);
    const early = ok(sim.tick());
    expect(effectsOf(early, 'job.stop')).toEqual([]);
    expect(sim.train(1).jobs[0]!.state).toBe('running');

    sim.advance(1);
    const d = ok(sim.tick());
    expect(sim.train(1).jobs[0]).toMatchObject({ state: 'failed', finishedAt: sim.now });
    expect(sim.train(1).jobs[0]!.output).toContain('[timed out]');
    expect(effectsOf(d, 'job.stop')).toEqual([{ kind: 'job.stop', train: 1, jobKind: 'build', attempt: 1 }]);
    expect(d.audit).toEqual([{ action: 'job.timed-out', train: 1, details: { kind: 'build', attempt: 1 } }]);
    expect(announcements(d)).toContain(
      `${ALICE}: the build of train #1 timed out after 30 minutes (https://ci.test/build/1/1). Retry it, or revert the bad commit and extend, or derail.\nThe last lines of its output:\n\`\`\`\n[timed out]\n\`\`\``,
    );
    expect(dmsTo(d, ALICE)).toHaveLength(1);

    // The late report is refused; a retry is possible.
    expect(refused(sim.as('conductor', jobFinished, { train: 1, kind: 'build', attempt: 1 }, true, 'late'))).toBe('That job has already finished.');
    ok(sim.as(ALICE, retry));
    // Timed out once: the next tick does not report it again.
    expect(announcements(ok(sim.advance(60).tick()))).toEqual([]);
  });

  it('a deploy times out after its own timeout', () => {
    const sim = train1();
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    ok(sim.startJob(1, 'deploy'));
    sim.advance(44);
    ok(sim.tick());
    expect(sim.train(1).jobs.find((j) => j.kind === 'deploy')!.state).toBe('running');
    sim.advance(1);
    const d = ok(sim.tick());
    // behaviour.md §9: a deploy that did not report back is not "failed" (that invites a second deploy): its outcome is unknown.
    const deployJob = sim.train(1).jobs.find((j) => j.kind === 'deploy')!;
    expect(deployJob.state).toBe('unknown');
    expect(effectsOf(d, 'job.stop')).toEqual([{ kind: 'job.stop', train: 1, jobKind: 'deploy', attempt: 1 }]);
    expect(announcements(d)[0]).toContain(
      `${ALICE}: Outcome unknown: check production. Conductor cannot tell how the deploy of train #1 ended (https://ci.test/deploy/1/1): it did not report back within 45 minutes`,
    );
    expect(announcements(d)[0]).toContain('`/conductor job succeeded 1`');
    expect(effectsOf(d, 'job.start')).toEqual([]);
    expect(sim.train(1).state).toBe('deploying');
  });

  it('a runner reporting a timeout is reported as one', () => {
    const sim = train1();
    const d = sim.finishJob(1, 'build', false, { timedOut: true });
    expect(announcements(d)[0]).toContain('timed out after 30 minutes');
    expect(ok(d).audit[0]!.details).toMatchObject({ timedOut: true });
  });
});
