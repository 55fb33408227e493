/** Rule 7: derail the going train. */
import { describe, expect, it } from 'vitest';
import { deploy, derail, notDeployableReason, start, verify } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, announcements, BOB, CAROL, effectsOf, monday, OFFICE_HOURS, ok, refused, Sim, STRANGER, sha, shortShas } from '../../support/domain-builders.js';

/** Train #1 (a1, b1; engineer Alice) going, then c1 and a2 pushed onto the platform. */
function scenario(settings: Parameters<typeof aLine>[0] = {}, now?: Date): Sim {
  const sim = new Sim(aLine(settings), now);
  ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
  if (!sim.going) ok(sim.as(ADMIN, start));
  ok(sim.push(aCommit('c1', CAROL), aCommit('a2', ALICE)));
  expect(sim.goingOrFail.engineer).toBe(ALICE);
  return sim;
}

describe('rule 7: derail', () => {
  it('in manual mode: the train ends derailed, its commits go back to the FRONT of the platform, nothing restarts', () => {
    const sim = scenario({ settings: { mode: 'manual' } });
    const d = ok(sim.as(ALICE, derail, 'flaky tests'));
    const t1 = d.state.trains.find((t) => t.number === 1)!;
    expect(t1).toMatchObject({ state: 'derailed', derailReason: 'flaky tests' });
    expect(t1.derailedAt).toEqual(sim.now);
    expect(sim.platformShas).toEqual(['a1', 'b1', 'c1', 'a2']);
    expect(sim.state.trains).toEqual([]); // the derailed train is not loaded any more
    expect(d.audit).toEqual([{ action: 'train.derailed', train: 1, details: { reason: 'flaky tests', afterFailedDeploy: false } }]);
    // Rule 8: in manual mode every channel message carries the warning.
    expect(announcements(d)).toContain(
      `Train #1 was derailed by ${ALICE}: flaky tests. Its 2 commits are back on the platform. :warning: The line is in manual mode: trains start only by hand.`,
    );
  });

  it('stops the running jobs', () => {
    const sim = scenario({ settings: { mode: 'manual' } });
    ok(sim.startJob(1, 'build'));
    const d = ok(sim.as(ALICE, derail));
    expect(effectsOf(d, 'job.stop')).toEqual([{ kind: 'job.stop', train: 1, jobKind: 'build', attempt: 1 }]);
    const job = d.state.trains.find((t) => t.number === 1)!.jobs[0]!;
    expect(job.state).toBe('failed');
    expect(job.output).toContain('[stopped by Conductor]');
  });

  it('a job of a derailed train that never ran is stopped too; there is nothing to stop once the build is over', () => {
    const queued = scenario({ settings: { mode: 'manual' } });
    expect(effectsOf(ok(queued.as(ALICE, derail)), 'job.stop')).toHaveLength(1);
    const built = scenario({ settings: { mode: 'manual' } });
    built.succeedBuild(1);
    expect(effectsOf(ok(built.as(ALICE, derail)), 'job.stop')).toEqual([]);
  });

  it('in schedule mode inside auto-time a new train starts at once with the returned commits and the platform', () => {
    const sim = scenario();
    const d = ok(sim.as(ALICE, derail, 'bad build'));
    const t2 = sim.goingOrFail;
    expect(t2.number).toBe(2);
    expect(shortShas(t2.commits)).toEqual(['a1', 'b1', 'c1', 'a2']);
    expect(sim.state.platform).toEqual([]);
    expect(d.audit.map((a) => a.action)).toEqual(['train.derailed', 'train.created']);
    expect(effectsOf(d, 'job.start')).toEqual([{ kind: 'job.start', train: 2, jobKind: 'build', attempt: 1 }]);
    // The reply says what happens next, and how to hold the commits instead (behaviour.md §10).
    const listed = ['a1', 'b1', 'c1', 'a2'].map((c, i) => `${sha(c).slice(0, 8)} (${[ALICE, BOB, CAROL, ALICE][i]})`).join(', ');
    expect(d.reply).toBe(
      `Train #1 derailed. The line is in schedule mode inside auto-time, so train #2 starts now with these 4 commits: ${listed}. ` +
        'To hold commits on the platform instead, switch to manual mode first (`/conductor mode manual [reason]`), then derail.',
    );
  });

  it('in manual mode the reply says the commits wait; one returned commit reads in the singular', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, start));
    const d = ok(sim.as(ADMIN, derail, 'oops'));
    expect(d.reply).toBe('Train #1 derailed: 1 commit waits on the platform.');
    expect(announcements(d)[0]).toBe(`Train #1 was derailed by ${ADMIN}: oops. Its commit is back on the platform. :warning: The line is in manual mode: trains start only by hand.`);
  });

  it('in schedule mode outside auto-time the commits just wait', () => {
    const sim = scenario({ settings: { autoTime: OFFICE_HOURS } }, monday('20:00'));
    expect(ok(sim.as(ALICE, derail)).reply).toBe('Train #1 derailed: 4 commits wait on the platform.');
    expect(sim.state.trains).toEqual([]);
    expect(sim.platformShas).toEqual(['a1', 'b1', 'c1', 'a2']);
  });

  it('the tickets carry over to the train that next contains the commits, with their verification state', () => {
    const sim = scenario({ settings: { mode: 'manual' } });
    sim.succeedBuild(1);
    ok(sim.as(ALICE, verify));
    ok(sim.as(ALICE, derail));
    const a1 = sim.state.platform.find((c) => c.sha.startsWith('a1'))!;
    expect(a1.verifiedBy).toBe(ALICE);

    ok(sim.as(ADMIN, start));
    const t2 = sim.goingOrFail;
    // While building, the carried verification is already shown.
    expect(t2.tickets.map((k) => [k.authorEmail, k.state])).toEqual([[ALICE, 'pending']]);
    sim.succeedBuild(2);
    const tickets = Object.fromEntries(sim.train(2).tickets.map((k) => [k.authorEmail, k.state]));
    // Alice verified a1 only; a2 (pushed later) still needs her; Bob and Carol never verified.
    expect(tickets).toEqual({ [ALICE]: 'pending', [BOB]: 'pending', [CAROL]: 'pending' });
  });

  it('a fully verified author stays verified on the next train', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    ok(sim.as(ADMIN, start));
    sim.succeedBuild(1);
    ok(sim.as(ALICE, verify));
    ok(sim.as(ALICE, derail));
    ok(sim.as(ADMIN, start));
    expect(sim.goingOrFail.tickets.map((k) => [k.authorEmail, k.state])).toEqual([[ALICE, 'verified']]);
    sim.succeedBuild(2);
    expect(sim.train(2).tickets.map((k) => [k.authorEmail, k.state, k.verifiedBy])).toEqual([
      [ALICE, 'verified', ALICE],
      [BOB, 'pending', null],
    ]);
  });

  it('refuses with no going train; a train deploying normally cannot be derailed', () => {
    const empty = new Sim();
    expect(refused(empty.as(ADMIN, derail))).toBe('No train is going: there is nothing to derail.');
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    expect(refused(sim.as(ALICE, derail))).toBe('Train #1 is deploying: it can be derailed only if its deploy fails.');
    expect(sim.train(1).state).toBe('deploying');
  });

  it('after a failed production deploy, derail frees the line: that train and the going one, commits back in order', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, start));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    ok(sim.push(aCommit('b1', BOB)));
    ok(sim.as(ADMIN, start));
    ok(sim.finishJob(1, 'deploy', false));
    sim.deliverAndVerify(2);
    // Without this, no later train could ever deploy: train #1 holds the line.
    expect(notDeployableReason(sim.state, sim.train(2))).toContain('Train #1 is still deploying');
    const d = ok(sim.as(ALICE, derail, 'deploy is broken'));
    expect(d.state.trains.filter((t) => t.number <= 2).map((t) => [t.number, t.state])).toEqual([
      [1, 'derailed'],
      [2, 'derailed'],
    ]);
    expect(d.state.platform.map((c) => c.sha)).toEqual([sha('a1'), sha('b1')]);
    expect(d.reply).toBe('Trains #1 and #2 derailed: 2 commits wait on the platform.');
    expect(d.audit.map((a) => [a.train, a.details.afterFailedDeploy])).toEqual([
      [1, true],
      [2, false],
    ]);
  });

  it('only the engineer or an admin may derail', () => {
    const sim = scenario({ settings: { mode: 'manual' } });
    expect(refused(sim.as(BOB, derail))).toBe(`Only the engineer (${ALICE}) or an admin may derail the train.`);
    expect(refused(sim.as(STRANGER, derail))).toContain('Only the engineer');
    ok(sim.as(ADMIN, derail, 'admin says so'));
    expect(sim.platformShas).toEqual(['a1', 'b1', 'c1', 'a2']);
  });

  it('a reason is optional', () => {
    const sim = scenario({ settings: { mode: 'manual' } });
    const d = ok(sim.as(ALICE, derail, '   '));
    expect(d.state.trains.find((t) => t.number === 1)!.derailReason).toBe('no reason given');
  });
});
