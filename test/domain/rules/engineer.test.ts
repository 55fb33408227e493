/** Rule 11: the engineer. */
import { describe, expect, it } from 'vitest';
import { deploy, engineer, pickEngineer } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, announcements, BOB, CAROL, ctxAt, dmsTo, ok, ROBOT, refused, Sim, STRANGER } from '../../support/domain-builders.js';

const commits = [aCommit('a1', ALICE), aCommit('r1', ROBOT), aCommit('b1', BOB), aCommit('a2', ALICE), aCommit('c1', CAROL, 'x [no-verify]')];

describe('rule 11: choosing the engineer', () => {
  it.each([
    [0, ALICE],
    [0.34, BOB],
    [0.5, BOB],
    [0.67, CAROL],
    [0.999999, CAROL],
  ])('random %d picks %s among the humans (never the robot; [no-verify] authors count)', (r, expected) => {
    expect(
      pickEngineer(
        commits,
        ctxAt(STRANGER, undefined, () => r),
      ),
    ).toBe(expected);
  });

  it('the random source is injected: two values pick two different humans for the same train', () => {
    const low = new Sim();
    low.random = () => 0.1;
    ok(low.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    const high = new Sim();
    high.random = () => 0.9;
    ok(high.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    expect(low.goingOrFail.engineer).toBe(ALICE);
    expect(high.goingOrFail.engineer).toBe(BOB);
  });

  it('a robot is never the engineer, even when drawn first', () => {
    const sim = new Sim();
    sim.random = () => 0;
    ok(sim.push(aCommit('r1', ROBOT), aCommit('r2', ROBOT), aCommit('b1', BOB)));
    expect(sim.goingOrFail.engineer).toBe(BOB);
  });

  it('a train with no human author has no engineer until someone claims it', () => {
    const sim = new Sim();
    const d = ok(sim.push(aCommit('r1', ROBOT), aCommit('r2', ROBOT, 'bump [needs-verify]')));
    expect(sim.goingOrFail.engineer).toBeNull();
    expect(announcements(d).find((t) => t.startsWith('Train #1 created'))).toContain('engineer none (claim it with `/conductor engineer me`)');
    expect(dmsTo(d, ROBOT)).toEqual([]);
  });
});

describe('rule 11: claiming and giving the role', () => {
  it('anyone may claim the role with `engineer me`; the previous engineer is told', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    const d = ok(sim.as(STRANGER, engineer, 'me'));
    expect(sim.goingOrFail.engineer).toBe(STRANGER);
    expect(d.reply).toBe('You are now the engineer of train #1.');
    expect(announcements(d)).toContain(`${STRANGER} is now the engineer of train #1 (was ${ALICE}).`);
    expect(dmsTo(d, ALICE).map((e) => e.text)).toEqual([`${STRANGER} is now the engineer of train #1.`]);
    expect(d.audit).toEqual([{ action: 'train.engineer', train: 1, details: { engineer: STRANGER, previous: ALICE } }]);
  });

  it('someone who claimed a train with no engineer may deploy it', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('r1', ROBOT)));
    ok(sim.as(BOB, engineer, 'me'));
    sim.succeedBuild(1);
    ok(sim.as(BOB, deploy));
    expect(sim.train(1).state).toBe('deploying');
  });

  it('admins may give the role to someone; that person is told', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    const d = ok(sim.as(ADMIN, engineer, CAROL.toUpperCase()));
    expect(sim.goingOrFail.engineer).toBe(CAROL);
    expect(dmsTo(d, CAROL).map((e) => e.text)).toEqual([`${ADMIN} made you the engineer of train #1.`]);
    expect(d.reply).toBe(`${CAROL} is now the engineer of train #1.`);
  });

  it('others may not give it away, and are told who may', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    expect(refused(sim.as(ALICE, engineer, BOB))).toBe(`Only admins may give the engineer role to someone else (anyone may claim it with \`engineer me\`). Admins: ${ADMIN}.`);
    expect(sim.goingOrFail.engineer).toBe(ALICE);
    // Naming oneself is a claim.
    ok(sim.as(BOB, engineer, BOB));
    expect(sim.goingOrFail.engineer).toBe(BOB);
  });

  it('refusals: already the engineer; no train', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    expect(refused(sim.as(ALICE, engineer, 'me'))).toBe(`${ALICE} is already the engineer of train #1.`);
    expect(refused(new Sim().as(ALICE, engineer, 'me'))).toBe('No train is going: there is no engineer role to take.');
  });

  it('the role of a train that is deploying can still be claimed', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    ok(sim.as(BOB, engineer, 'me'));
    expect(sim.train(1).engineer).toBe(BOB);
  });
});
