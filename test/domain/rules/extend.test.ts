/** Rule 6: a problem on a going train: revert, then extend. */
import { describe, expect, it } from 'vitest';
import { extend, revert, start, tick, verify } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, announcements, BOB, CAROL, dmsTo, effectsOf, ok, refused, Sim, STRANGER, sha, shortShas } from '../../support/domain-builders.js';

/** #1 = a1 (Alice), b1 (Bob); engineer Alice; on staging; Alice verified. */
function onStaging(settings: Parameters<typeof aLine>[0] = {}): Sim {
  const sim = new Sim(aLine(settings));
  ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
  sim.succeedBuild(1);
  ok(sim.as(ALICE, verify));
  expect(sim.train(1).engineer).toBe(ALICE);
  return sim;
}

describe('rule 6: revert and extend', () => {
  it('the going train is derailed and replaced by one made of its commits plus the whole platform, revert included', () => {
    const sim = onStaging();
    ok(sim.as(BOB, revert, sim.train(1).commits[1]!, 'b1'));
    ok(sim.push(aCommit('c1', CAROL), aCommit('r1', BOB, 'Revert "change b1"')));
    sim.random = () => 0.99; // would pick someone else if the engineer were drawn again
    const d = ok(sim.as(ALICE, extend));

    const old = d.state.trains.find((t) => t.number === 1)!;
    expect(old).toMatchObject({ state: 'derailed', derailReason: 'extended into train #2' });
    const t2 = sim.goingOrFail;
    expect(t2).toMatchObject({ number: 2, replaces: 1, engineer: ALICE, baseSha: sim.state.deployedSha, headSha: sha('r1'), state: 'delivering' });
    expect(shortShas(t2.commits)).toEqual(['a1', 'b1', 'c1', 'r1']);
    expect(sim.state.platform).toEqual([]);
    expect(sim.state.trains.map((t) => t.number)).toEqual([2]);
    expect(effectsOf(d, 'job.start')).toEqual([{ kind: 'job.start', train: 2, jobKind: 'build', attempt: 1 }]);
    expect(d.audit.map((a) => [a.action, a.train])).toEqual([['train.extended', 2]]);
    expect(d.audit[0]!.details).toMatchObject({ replaces: 1, engineer: ALICE, commits: 4 });
    expect(announcements(d)).toContain(`Train #1 was extended by ${ALICE} into train #2 with 2 more commits; verifications carry over.`);
    // The engineer is not told again that they are the engineer.
    expect(dmsTo(d, ALICE).map((e) => e.text)).toEqual(['Your change is on train #2; it is building now.']);
  });

  it('verified tickets carry over verified; the others are asked again when the new train reaches staging', () => {
    const sim = onStaging();
    ok(sim.push(aCommit('r1', BOB, 'Revert "change b1"')));
    ok(sim.as(ALICE, extend));
    expect(sim.goingOrFail.tickets.map((k) => [k.authorEmail, k.state, k.verifiedBy])).toEqual([[ALICE, 'verified', ALICE]]);

    const d = sim.succeedBuild(2);
    expect(sim.train(2).tickets.map((k) => [k.authorEmail, k.state])).toEqual([
      [ALICE, 'verified'],
      [BOB, 'pending'],
    ]);
    expect(dmsTo(d, BOB).filter((e) => e.askVerify)).toHaveLength(1);
    expect(dmsTo(d, ALICE).filter((e) => e.askVerify)).toHaveLength(0);
  });

  it('an author with a new commit on the extended train owes a new verification, is asked for it on staging, and reminded from then', () => {
    const sim = onStaging({ settings: { reminderMinutes: 30 } });
    sim.advance(45);
    ok(sim.push(aCommit('a2', ALICE, 'fix a1')));
    ok(sim.as(ALICE, extend));
    sim.advance(20);
    const delivered = sim.succeedBuild(2);
    const alice = sim.train(2).tickets.find((k) => k.authorEmail === ALICE)!;
    expect(alice.state).toBe('pending');
    expect(alice.commitShas).toEqual([sha('a1'), sha('a2')]);
    expect(
      dmsTo(delivered, ALICE)
        .filter((e) => e.askVerify)
        .map((e) => e.text),
    ).toEqual([`Train #2 is on staging. Please verify your changes (${sha('a1').slice(0, 8)}, ${sha('a2').slice(0, 8)}), then press Verify or run \`/conductor verify\`.`]);
    // The reminder counts from this delivery, not from train #1's.
    sim.advance(10);
    expect(dmsTo(ok(sim.as('conductor', tick)), ALICE)).toEqual([]);
    sim.advance(25);
    expect(dmsTo(ok(sim.as('conductor', tick)), ALICE).map((e) => e.text)[0]).toMatch(/^Reminder: train #2/);
  });

  it('a train with no engineer stays without one', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('x1', 'renovate@acme.test')));
    ok(sim.as(ADMIN, start));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, extend));
    expect(sim.goingOrFail.engineer).toBeNull();
  });

  it('ignores the cap: the whole platform joins, so the queue stays bounded', () => {
    const sim = onStaging({ settings: { maxCommits: 1 } });
    // The cap put only a1 on #1; b1 waits on the platform.
    expect(shortShas(sim.train(1).commits)).toEqual(['a1']);
    ok(sim.push(aCommit('c1', CAROL), aCommit('c2', CAROL)));
    ok(sim.as(ALICE, extend));
    expect(shortShas(sim.goingOrFail.commits)).toEqual(['a1', 'b1', 'c1', 'c2']);
    expect(sim.state.platform).toEqual([]);
  });

  it("stops the old train's running jobs", () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.startJob(1, 'build'));
    ok(sim.push(aCommit('a2', ALICE)));
    const d = ok(sim.as(ALICE, extend));
    expect(effectsOf(d, 'job.stop')).toEqual([{ kind: 'job.stop', train: 1, jobKind: 'build', attempt: 1 }]);
  });

  it('refuses on an empty platform, with no going train, and for anyone but the engineer or an admin', () => {
    const sim = onStaging();
    expect(refused(sim.as(ALICE, extend))).toContain('The platform is empty');
    ok(sim.push(aCommit('r1', BOB)));
    expect(refused(sim.as(BOB, extend))).toBe(`Only the engineer (${ALICE}) or an admin may extend the train.`);
    expect(refused(sim.as(STRANGER, extend))).toContain('Only the engineer');
    ok(sim.as(ADMIN, extend));
    expect(sim.goingOrFail.number).toBe(2);
    expect(refused(new Sim().as(ADMIN, extend))).toBe('No train is going: there is nothing to extend.');
  });
});
