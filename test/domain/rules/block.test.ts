/** Rule 11: block and unblock. */
import { describe, expect, it } from 'vitest';
import { block, deploy, isDeployable, notDeployableReason, unblock, verify } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, announcements, BOB, ok, refused, Sim, STRANGER } from '../../support/domain-builders.js';

function train1(): Sim {
  const sim = new Sim();
  ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
  expect(sim.goingOrFail.engineer).toBe(ALICE);
  return sim;
}

describe('rule 11: block / unblock', () => {
  it('a blocked train does everything except deploy', () => {
    const sim = train1();
    const d = ok(sim.as(ALICE, block, '  waiting for the DB migration '));
    expect(sim.goingOrFail.blocked).toBe('waiting for the DB migration');
    expect(d.audit).toEqual([{ action: 'train.blocked', train: 1, details: { reason: 'waiting for the DB migration' } }]);
    expect(announcements(d)).toContain(`Train #1 was blocked by ${ALICE}: waiting for the DB migration.`);

    // It still builds and is verified…
    sim.succeedBuild(1);
    expect(sim.train(1).state).toBe('verifying');
    ok(sim.as(ALICE, verify));
    ok(sim.as(BOB, verify));
    expect(sim.train(1).tickets.every((k) => k.state === 'verified')).toBe(true);
    // …but does not deploy.
    expect(isDeployable(sim.state, sim.train(1))).toBe(false);
    expect(refused(sim.as(ALICE, deploy))).toBe('Train #1 cannot deploy yet. The train is blocked: waiting for the DB migration.');
    expect(refused(sim.as(ADMIN, deploy))).toContain('The train is blocked');

    const u = ok(sim.as(ALICE, unblock));
    expect(sim.train(1).blocked).toBeNull();
    expect(u.audit).toEqual([{ action: 'train.unblocked', train: 1, details: { was: 'waiting for the DB migration' } }]);
    expect(notDeployableReason(sim.state, sim.train(1))).toBeNull();
    ok(sim.as(ALICE, deploy));
  });

  it('a block needs a reason: an empty one never leaves a train that looks blocked but deploys', () => {
    const sim = train1();
    sim.deliverAndVerify(1);
    expect(refused(sim.as(ALICE, block, '   '))).toBe('A block needs a reason: `/conductor block <reason>`.');
    expect(sim.train(1).blocked).toBeNull();
    expect(notDeployableReason(sim.state, sim.train(1))).toBeNull();
  });

  it('only the engineer or an admin may block or unblock, and the refusal says so', () => {
    const sim = train1();
    expect(refused(sim.as(BOB, block, 'no'))).toBe(`Only the engineer (${ALICE}) or an admin may block the train.`);
    expect(sim.goingOrFail.blocked).toBeNull();
    ok(sim.as(ADMIN, block, 'change freeze'));
    expect(refused(sim.as(STRANGER, unblock))).toBe(`Only the engineer (${ALICE}) or an admin may unblock the train.`);
    expect(sim.goingOrFail.blocked).toBe('change freeze');
    ok(sim.as(ADMIN, unblock));
    expect(sim.goingOrFail.blocked).toBeNull();
  });

  it('refusals: nothing going; not blocked', () => {
    expect(refused(new Sim().as(ADMIN, block, 'x'))).toBe('No train is going: there is nothing to block.');
    expect(refused(new Sim().as(ADMIN, unblock))).toBe('No train is going: there is nothing to unblock.');
    expect(refused(train1().as(ALICE, unblock))).toBe('Train #1 is not blocked.');
  });
});
