/** behaviour.md §9: a deploy or rollback whose outcome nobody can tell is `unknown` and waits for a person; it never runs again by itself. */
import { describe, expect, it } from 'vitest';
import { deploy, derail, markJob, notDeployableReason, retry, rollback } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, announcements, BOB, dmsTo, effectsOf, ok, refused, Sim, STRANGER, sha } from '../../support/domain-builders.js';

/** Train #1 (Alice's) deploying, its deploy job started. */
function deploying(): Sim {
  const sim = new Sim();
  sim.keep = [1];
  ok(sim.push(aCommit('a1', ALICE)));
  sim.deliverAndVerify(1);
  ok(sim.as(ALICE, deploy));
  ok(sim.startJob(1, 'deploy'));
  return sim;
}

const deployJob = (sim: Sim, n = 1) =>
  sim
    .train(n)
    .jobs.filter((j) => j.kind === 'deploy')
    .at(-1)!;

describe('behaviour.md §9: a deploy whose outcome is unknown', () => {
  it('is recorded as unknown: no retry by itself, the channel and the engineer are asked to check production', () => {
    const sim = deploying();
    const d = ok(sim.reportUnknown(1, 'deploy'));
    expect(deployJob(sim)).toMatchObject({ state: 'unknown', attempt: 1 });
    expect(sim.train(1).state).toBe('deploying');
    expect(effectsOf(d, 'job.start')).toEqual([]);
    expect(announcements(d)[0]).toContain('Outcome unknown: check production.');
    expect(announcements(d)[0]).toContain('It will not run it again by itself');
    expect(announcements(d)[0]).toContain('`/conductor retry`');
    expect(
      dmsTo(d, ALICE)
        .map((e) => e.text)
        .join('\n'),
    ).toContain('Outcome unknown: check production.');
    expect(d.audit).toContainEqual({ action: 'job.unknown', train: 1, details: expect.objectContaining({ kind: 'deploy', attempt: 1 }) });
    expect(notDeployableReason(sim.state, sim.train(1))).toContain('Outcome unknown: check production.');

    // Time passes: the heartbeat never starts it again.
    sim.advance(24 * 60);
    expect(effectsOf(ok(sim.push(aCommit('b1', BOB))), 'job.start')).toEqual([{ kind: 'job.start', train: 2, jobKind: 'build', attempt: 1 }]);
    sim.tick();
    expect(sim.train(1).jobs.filter((j) => j.kind === 'deploy')).toHaveLength(1);
  });

  it('holds the next deploy, and cannot be derailed before someone says how it ended', () => {
    const sim = deploying();
    ok(sim.reportUnknown(1, 'deploy'));
    ok(sim.push(aCommit('b1', BOB)));
    sim.deliverAndVerify(2);
    expect(notDeployableReason(sim.state, sim.train(2))).toBe("The outcome of train #1's deploy is unknown: check production, then its engineer says `retry` or `job succeeded|failed 1`.");
    // Derail takes the going train #2 only: #1's outcome stays for a person to record.
    sim.keep = [1, 2];
    ok(sim.as(ADMIN, derail, 'stuck'));
    expect(sim.train(2).state).toBe('derailed');
    expect(deployJob(sim).state).toBe('unknown');
    expect(sim.train(1).state).toBe('deploying');
  });

  it('derail with only the unknown deploy left says to check production first', () => {
    const sim = deploying();
    ok(sim.reportUnknown(1, 'deploy'));
    expect(refused(sim.as(ALICE, derail, undefined))).toBe(
      "The outcome of train #1's deploy is unknown: check production first, then `/conductor job failed 1` (after which it can be derailed) or `/conductor job succeeded 1`.",
    );
  });

  it('`job succeeded` (engineer or admin) records the deploy: the train is deployed and production runs it', () => {
    const sim = deploying();
    ok(sim.reportUnknown(1, 'deploy'));
    expect(refused(sim.as(STRANGER, markJob, 'succeeded', undefined))).toBe(`Only the engineer (${ALICE}) or an admin may record how the deploy of train #1 ended.`);
    const d = ok(sim.as(ALICE, markJob, 'succeeded', 1));
    expect(sim.train(1).state).toBe('deployed');
    expect(deployJob(sim).state).toBe('succeeded');
    expect(deployJob(sim).output).toContain(`${ALICE} recorded that it succeeded`);
    expect(sim.state.production).toMatchObject({ number: 1, headSha: sha('a1') });
    expect(announcements(d)[0]).toBe(`${ALICE} checked production and recorded that the deploy of train #1 succeeded.`);
    expect(d.audit.map((e) => e.action)).toEqual(['job.marked', 'job.succeeded', 'train.deployed']);
    expect(effectsOf(d, 'job.start')).toEqual([]);
  });

  it("`job failed` records a failure; then `retry` (a person's decision) runs the deploy again", () => {
    const sim = deploying();
    ok(sim.reportUnknown(1, 'deploy'));
    ok(sim.as(ADMIN, markJob, 'failed', undefined));
    expect(deployJob(sim).state).toBe('failed');
    expect(sim.train(1).state).toBe('deploying');
    const r = ok(sim.as(ALICE, retry));
    expect(effectsOf(r, 'job.start')).toEqual([{ kind: 'job.start', train: 1, jobKind: 'deploy', attempt: 2 }]);
  });

  it('`retry` straight away is also a person deciding: a new attempt, said so in the channel', () => {
    const sim = deploying();
    ok(sim.reportUnknown(1, 'deploy'));
    const r = ok(sim.as(ALICE, retry));
    expect(effectsOf(r, 'job.start')).toEqual([{ kind: 'job.start', train: 1, jobKind: 'deploy', attempt: 2 }]);
    expect(announcements(r)[0]).toContain('after checking production (the previous outcome was unknown)');
  });

  it('a real result arriving late settles the unknown job', () => {
    const sim = deploying();
    ok(sim.reportUnknown(1, 'deploy'));
    ok(sim.finishJob(1, 'deploy', true));
    expect(sim.train(1).state).toBe('deployed');
    expect(deployJob(sim).output).toContain('no record of the outcome');
  });

  it('refuses `job` when no job is unknown, or when the named train has none', () => {
    const sim = deploying();
    expect(refused(sim.as(ALICE, markJob, 'succeeded', undefined))).toContain('No job has an unknown outcome');
    ok(sim.reportUnknown(1, 'deploy'));
    expect(refused(sim.as(ALICE, markJob, 'succeeded', 7))).toBe('Train #7 has no job with an unknown outcome.');
  });

  it('a deploy that does not report back within its timeout becomes unknown, never failed', () => {
    const sim = deploying();
    sim.advance(59);
    ok(sim.tick());
    expect(deployJob(sim).state).toBe('running');
    sim.advance(1);
    const d = ok(sim.tick());
    expect(deployJob(sim).state).toBe('unknown');
    expect(effectsOf(d, 'job.stop')).toHaveLength(1);
    expect(effectsOf(d, 'job.start')).toEqual([]);
  });
});

describe('behaviour.md §9: other jobs whose outcome is unknown', () => {
  it('a build is counted as failed (building again is safe), and says why', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    const d = ok(sim.reportUnknown(1, 'build'));
    const build = sim.train(1).jobs[0]!;
    expect(build.state).toBe('failed');
    expect(build.output).toContain('outcome unknown');
    expect(announcements(d)[0]).toContain('the build of train #1 failed');
  });

  it('a rollback: unknown until someone checks; `job succeeded <train>` puts production there; `rollback` may run it again', () => {
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
    ok(sim.as(ADMIN, rollback, 1));
    const d = ok(sim.reportUnknown(1, 'rollback'));
    expect(announcements(d)[0]).toContain('Conductor cannot tell how the rollback to train #1 ended');
    expect(announcements(d)[0]).toContain('`/conductor rollback 1`');
    expect(sim.state.production?.number).toBe(2);
    // Running it again is allowed (a person decides)...
    ok(sim.as(ADMIN, rollback, 1));
    ok(sim.reportUnknown(1, 'rollback'));
    // ...and so is saying it worked.
    ok(sim.as(ADMIN, markJob, 'succeeded', 1));
    expect(sim.state.production).toMatchObject({ number: 1, rolledBackFrom: 2 });
  });
});
