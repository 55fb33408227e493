/** Rule 5: `/conductor revert <sha>`; the revert lands on the platform like any commit. */
import { describe, expect, it } from 'vitest';
import { extend, revert } from '../../../src/domain/index.js';
import { ADMIN, ALICE, BOB, STRANGER, Sim, aCommit, aLine, announcements, effectsOf, ok, refused, sha, shortShas } from '../../support/domain-builders.js';

describe('rule 5: revert', () => {
  it('an author reverts their own commit: a git.revert effect, nothing else changes until the revert is pushed', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE, 'add the blue button\n\nlong body'), aCommit('b1', BOB)));
    const before = structuredClone(sim.state);
    const target = sim.train(1).commits[0]!;
    const d = ok(sim.as(ALICE, revert, target, 'a1'));
    expect(effectsOf(d, 'git.revert')).toEqual([{ kind: 'git.revert', sha: sha('a1'), requestedBy: ALICE }]);
    expect(d.audit).toEqual([{ action: 'commit.revert-requested', train: null, details: { sha: sha('a1') } }]);
    expect(announcements(d)).toEqual([`${ALICE} is reverting ${sha('a1').slice(0, 8)} (add the blue button). The revert will land on the platform; then extend the train.`]);
    expect(sim.state).toEqual(before);

    // The revert lands on the platform like any commit; extend takes it.
    ok(sim.push(aCommit('r1', ALICE, 'Revert "add the blue button"')));
    expect(sim.platformShas).toEqual(['r1']);
    ok(sim.as(ALICE, extend));
    expect(shortShas(sim.goingOrFail.commits)).toEqual(['a1', 'b1', 'r1']);
  });

  it('case does not matter when matching the author', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ALICE.toUpperCase(), revert, sim.state.platform[0]!, 'a1'));
  });

  it('someone else\'s commit: admins only, and the refusal names them', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    const target = sim.train(1).commits[0]!;
    expect(refused(sim.as(BOB, revert, target, 'a1'))).toBe(
      `${sha('a1').slice(0, 8)} is ${ALICE}'s commit: you may revert your own commits; only admins may revert someone else's. Admins: ${ADMIN}.`,
    );
    expect(refused(sim.as(STRANGER, revert, target, 'a1'))).toContain('only admins may revert');
    expect(effectsOf(ok(sim.as(ADMIN, revert, target, 'a1')), 'git.revert')).toHaveLength(1);
  });

  it('an unknown commit is refused', () => {
    const sim = new Sim();
    expect(refused(sim.as(ADMIN, revert, null, 'deadbeef'))).toBe('Commit deadbeef is not a commit Conductor knows on main.');
  });
});
