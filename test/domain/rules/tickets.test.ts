/** Rule 9: tickets and verification, reopen, reminders. */
import { describe, expect, it } from 'vitest';
import { deploy, isDeployable, needsVerification, notDeployableReason, reopen, verify } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, announcements, BOB, CAROL, dmsTo, effectsOf, ok, POLICY, ROBOT, refused, Sim, STRANGER, sha } from '../../support/domain-builders.js';

const s8 = (x: string) => sha(x).slice(0, 8);

describe('rule 9: who owes a verification', () => {
  it.each([
    ['a human author', true, aCommit('h1', ALICE)],
    ['a robot', false, aCommit('r1', ROBOT)],
    ['a robot, case-insensitively', false, aCommit('r2', ROBOT.toUpperCase())],
    ['[no-verify] from a human', false, aCommit('h2', ALICE, 'docs [no-verify]')],
    ['[NO-VERIFY] in upper case', false, aCommit('h3', ALICE, 'docs [NO-VERIFY]')],
    ['[needs-verify] from a robot', true, aCommit('r3', ROBOT, 'bump db driver [needs-verify]')],
    ['both tags: [needs-verify] wins', true, aCommit('h4', ALICE, '[no-verify] [needs-verify]')],
  ])('%s needs verification: %s', (_name, expected, commit) => {
    expect(needsVerification(commit, POLICY)).toBe(expected);
  });
});

/** #1 = a1, a2 (Alice), b1 (Bob), r1 (robot), n1 (Carol, [no-verify]), r2 (robot, [needs-verify]). Engineer: Alice. */
function mixedTrain(): Sim {
  const sim = new Sim();
  ok(
    sim.push(
      aCommit('a1', ALICE),
      aCommit('b1', BOB),
      aCommit('r1', ROBOT, 'bump lodash'),
      aCommit('a2', ALICE),
      aCommit('n1', CAROL, 'typo [no-verify]'),
      aCommit('r2', ROBOT, 'bump pg [needs-verify]'),
    ),
  );
  expect(sim.goingOrFail.engineer).toBe(ALICE);
  return sim;
}

describe('rule 9: tickets when delivery succeeds', () => {
  it('one ticket per author per train, only for commits that need one; humans are asked to verify by DM', () => {
    const sim = mixedTrain();
    expect(sim.goingOrFail.tickets).toEqual([]);
    const d = sim.succeedBuild(1);
    const t = sim.train(1);
    expect(t.state).toBe('verifying');
    expect(t.deliveredAt).toEqual(sim.now);
    expect(t.tickets.map((k) => [k.authorEmail, k.state, k.commitShas])).toEqual([
      [ALICE, 'pending', [sha('a1'), sha('a2')]],
      [BOB, 'pending', [sha('b1')]],
      [ROBOT, 'pending', [sha('r2')]],
    ]);
    for (const k of t.tickets) expect(k.requestedAt).toEqual(sim.now);
    expect(dmsTo(d, ALICE)).toEqual([
      {
        kind: 'chat.dm',
        to: ALICE,
        train: 1,
        askVerify: true,
        text: `Train #1 is on staging. Please verify your changes (${s8('a1')}, ${s8('a2')}), then press Verify or run \`/conductor verify\`.`,
      },
      // Alice is also the engineer: she is told the robot's [needs-verify] change is hers to check.
      {
        kind: 'chat.dm',
        to: ALICE,
        train: 1,
        askVerify: true,
        text: `Train #1 carries ${ROBOT}'s changes marked [needs-verify]: the engineer or an admin verifies them with \`/conductor verify\`.`,
      },
    ]);
    expect(dmsTo(d, BOB)).toHaveLength(1);
    expect(dmsTo(d, ROBOT)).toEqual([]);
    expect(dmsTo(d, CAROL)).toEqual([]);
    expect(effectsOf(d, 'tickets.open')).toEqual([{ kind: 'tickets.open', train: 1 }]);
    expect(announcements(d)).toContain('Train #1 is on staging. Waiting for 3 verifications.');
    expect(notDeployableReason(sim.state, t)).toBe(`Waiting for 3 verifications from ${ALICE}, ${BOB}, ${ROBOT}.`);
  });

  it('a train with nothing to verify is deployable on arrival and the engineer is told', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('n1', ALICE, 'readme [no-verify]'), aCommit('r1', ROBOT)));
    expect(sim.goingOrFail.engineer).toBe(ALICE); // [no-verify] authors count as human
    const d = sim.succeedBuild(1);
    expect(sim.train(1).tickets).toEqual([]);
    expect(sim.train(1).verifiedAt).toEqual(sim.now);
    expect(effectsOf(d, 'tickets.open')).toEqual([]);
    expect(announcements(d)).toContain('Train #1 is on staging. Nothing to verify.');
    expect(isDeployable(sim.state, sim.train(1))).toBe(true);
    expect(dmsTo(d, ALICE).map((e) => e.text)).toContain('Train #1 is ready to deploy. Press Deploy or run `/conductor deploy`.');
  });

  it('email case does not split an author into two tickets', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('a2', ALICE.toUpperCase())));
    sim.succeedBuild(1);
    expect(sim.train(1).tickets.map((k) => [k.authorEmail, k.commitShas.length])).toEqual([[ALICE, 2]]);
    ok(sim.as(ALICE.toUpperCase(), verify));
    expect(sim.train(1).tickets[0]!.state).toBe('verified');
  });
});

describe('rule 9: verify', () => {
  it('an author verifies their own ticket; the deploy waits until every ticket is verified', () => {
    const sim = mixedTrain();
    sim.succeedBuild(1);
    const d = ok(sim.as(BOB, verify));
    const bob = sim.train(1).tickets.find((k) => k.authorEmail === BOB)!;
    expect(bob).toMatchObject({ state: 'verified', verifiedBy: BOB, verifiedAt: sim.now });
    expect(sim.train(1).commits.find((c) => c.sha === sha('b1'))!.verifiedBy).toBe(BOB);
    expect(d.audit).toEqual([{ action: 'ticket.verified', train: 1, details: { author: BOB } }]);
    expect(d.reply).toBe('Verified your changes on train #1.');
    expect(isDeployable(sim.state, sim.train(1))).toBe(false);
    expect(sim.train(1).verifiedAt).toBeNull();

    ok(sim.as(ALICE, verify, 1));
    // The engineer (or an admin) verifies the robot's [needs-verify] ticket.
    const last = ok(sim.as(ALICE, verify));
    expect(last.reply).toBe(`Verified ${ROBOT}'s changes on train #1.`);
    expect(sim.train(1).tickets.every((k) => k.state === 'verified')).toBe(true);
    expect(sim.train(1).verifiedAt).toEqual(sim.now);
    expect(isDeployable(sim.state, sim.train(1))).toBe(true);
    expect(dmsTo(last, ALICE).map((e) => e.text)).toContain('Train #1 is ready to deploy. Press Deploy or run `/conductor deploy`.');
  });

  it("an admin may verify a robot's ticket", () => {
    const sim = mixedTrain();
    sim.succeedBuild(1);
    ok(sim.as(ADMIN, verify));
    expect(sim.train(1).tickets.find((k) => k.authorEmail === ROBOT)!).toMatchObject({ state: 'verified', verifiedBy: ADMIN });
  });

  it('refusals: twice, no ticket, still building, not a live train, no train', () => {
    const sim = mixedTrain();
    expect(refused(sim.as(BOB, verify))).toBe('Train #1 is still building: you will be asked to verify when it reaches staging.');
    sim.succeedBuild(1);
    ok(sim.as(BOB, verify));
    expect(refused(sim.as(BOB, verify))).toBe('Your changes on train #1 are already verified.');
    expect(refused(sim.as(CAROL, verify))).toMatch(/^You have no verification owed on train #1/);
    expect(refused(sim.as(BOB, verify, 7))).toBe('Train #7 is not a live train.');
    expect(refused(new Sim().as(BOB, verify))).toBe('No train is going: there is nothing to verify.');
  });

  it('a refusal to someone with nothing to verify says who may verify', () => {
    const sim = mixedTrain();
    sim.succeedBuild(1);
    const reply = refused(sim.as(STRANGER, verify));
    expect(reply).toBe("You have no verification owed on train #1: each author verifies their own changes (the engineer or an admin may verify robots' changes).");
    expect(sim.train(1).tickets.filter((k) => k.state === 'verified')).toEqual([]);
  });

  it('verification is over once the deploy started', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    expect(refused(sim.as(ALICE, verify, 1))).toBe('Train #1 is deploying: verification is over.');
  });
});

describe('rule 9: reopen ("found a problem")', () => {
  it('the author reopens a verified ticket: the deploy is blocked again and the engineer is told', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    sim.deliverAndVerify(1);
    expect(isDeployable(sim.state, sim.train(1))).toBe(true);

    const d = ok(sim.as(BOB, reopen, undefined, 'the button is blue'));
    const bob = sim.train(1).tickets.find((k) => k.authorEmail === BOB)!;
    expect(bob).toMatchObject({ state: 'pending', verifiedBy: null, verifiedAt: null });
    expect(sim.train(1).commits.find((c) => c.sha === sha('b1'))!.verifiedBy).toBeNull();
    expect(sim.train(1).verifiedAt).toBeNull();
    expect(isDeployable(sim.state, sim.train(1))).toBe(false);
    expect(notDeployableReason(sim.state, sim.train(1))).toBe(`Waiting for a verification from ${BOB}.`);
    expect(refused(sim.as(ALICE, deploy))).toBe(`Train #1 cannot deploy yet. Waiting for a verification from ${BOB}.`);
    expect(dmsTo(d, ALICE).map((e) => e.text)).toEqual([`${BOB} reopened their verification on train #1: the button is blue.`]);
    expect(d.audit).toEqual([{ action: 'ticket.reopened', train: 1, details: { author: BOB, reason: 'the button is blue' } }]);

    ok(sim.as(BOB, verify));
    expect(isDeployable(sim.state, sim.train(1))).toBe(true);
  });

  it('refusals: not verified yet, not an author, too late', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    sim.succeedBuild(1);
    expect(refused(sim.as(BOB, reopen))).toBe('Your changes on train #1 are not verified yet.');
    expect(refused(sim.as(STRANGER, reopen))).toMatch(/^You have no verification on train #1/);
    sim.verifyAll(1);
    ok(sim.as(ALICE, deploy));
    expect(refused(sim.as(BOB, reopen, 1))).toBe('Train #1 is deploying: too late to reopen. Revert the commit, or roll back.');
  });

  it('only the author may reopen, and the refusal says so', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    sim.deliverAndVerify(1);
    expect(refused(sim.as(ADMIN, reopen))).toBe('You have no verification on train #1: only an author may reopen their own verification.');
    expect(sim.train(1).tickets.every((k) => k.state === 'verified')).toBe(true);
  });
});

describe('rule 9: reminders', () => {
  function waiting(reminderMinutes = 30): Sim {
    const sim = new Sim(aLine({ settings: { reminderMinutes } }));
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB), aCommit('r1', ROBOT, 'bump [needs-verify]')));
    sim.succeedBuild(1);
    return sim;
  }

  it('authors who have not verified get one reminder after reminderMinutes, never twice', () => {
    const sim = waiting();
    ok(sim.as(ALICE, verify));
    sim.advance(29);
    expect(effectsOf(ok(sim.tick()), 'chat.dm')).toEqual([]);
    sim.advance(1);
    const d = ok(sim.tick());
    expect(effectsOf(d, 'chat.dm')).toEqual([{ kind: 'chat.dm', to: BOB, train: 1, askVerify: true, text: `Reminder: train #1 is waiting for you to verify your changes (${s8('b1')}).` }]);
    expect(d.audit).toEqual([{ action: 'ticket.reminded', train: 1, details: { author: BOB } }]);
    expect(sim.train(1).tickets.find((k) => k.authorEmail === BOB)!.remindedAt).toEqual(sim.now);
    sim.advance(120);
    expect(effectsOf(ok(sim.tick()), 'chat.dm')).toEqual([]);
  });

  it('the delay is configurable', () => {
    const sim = waiting(5);
    sim.advance(5);
    expect(dmsTo(ok(sim.tick()), ALICE)).toHaveLength(1);
  });

  it('no reminder for a train still building or already deploying', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    sim.advance(60);
    expect(effectsOf(ok(sim.tick()), 'chat.dm')).toEqual([]);
  });
});
