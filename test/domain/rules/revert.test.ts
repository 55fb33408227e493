/** Rule 5: `/conductor revert <sha>`; the revert lands on the platform like any commit. */
import { describe, expect, it } from 'vitest';
import { extend, revert, revertAuthorName, revertFailed } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, announcements, BOB, effectsOf, ok, refused, Sim, STRANGER, sha, shortShas } from '../../support/domain-builders.js';

describe('rule 5: revert', () => {
  it('an author reverts their own commit: a git.revert effect, nothing else changes until the revert is pushed', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE, 'add the blue button\n\nlong body'), aCommit('b1', BOB)));
    const before = structuredClone(sim.state);
    const target = sim.train(1).commits[0]!;
    const d = ok(sim.as(ALICE, revert, target, 'a1'));
    expect(effectsOf(d, 'git.revert')).toEqual([{ kind: 'git.revert', sha: sha('a1'), requestedBy: ALICE, requestedByName: 'alice' }]);
    // Announced before the revert is attempted: a failure is told after it.
    expect(d.effects.map((e) => e.kind)).toEqual(['chat.announce', 'git.revert']);
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

  it("someone else's commit: admins only, and the refusal names them", () => {
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

describe("behaviour.md §10: the revert commit's author name", () => {
  it.each([
    [{ slackName: 'Alice A.', lastCommitName: 'Alice Archer' }, 'Alice A.'],
    [{ slackName: '  ', lastCommitName: 'Alice Archer' }, 'Alice Archer'],
    [{ slackName: null, lastCommitName: 'Alice Archer' }, 'Alice Archer'],
    [{ slackName: 'alice@acme.test', lastCommitName: 'alice@acme.test' }, 'alice'],
    [{ lastCommitName: 'Alice <x>' }, 'Alice x'],
    [{}, 'alice'],
  ])('%o → %s', (known, name) => {
    expect(revertAuthorName(ALICE, known)).toBe(name);
  });

  it('the name chosen by the engine travels with the effect', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    const d = ok(sim.as(ALICE, revert, sim.train(1).commits[0]!, 'a1', { authorName: 'Alice Archer' }));
    expect(effectsOf(d, 'git.revert')).toEqual([{ kind: 'git.revert', sha: sha('a1'), requestedBy: ALICE, requestedByName: 'Alice Archer' }]);
  });
});

describe('a revert that fails after it was accepted', () => {
  it('is told once in the channel and to the requester, and audited', () => {
    const sim = new Sim();
    const reason = 'Reverting a100000000 would change nothing: its changes are no longer on main.';
    const d = ok(sim.as('conductor', revertFailed, sha('a1'), ALICE, reason));
    expect(announcements(d)).toEqual([`The revert of ${sha('a1').slice(0, 8)} that ${ALICE} asked for was not made. ${reason}`]);
    expect(effectsOf(d, 'chat.dm')).toEqual([{ kind: 'chat.dm', to: ALICE, train: null, text: `Your revert of ${sha('a1').slice(0, 8)} was not made. ${reason}`, askVerify: false }]);
    expect(d.audit).toEqual([{ action: 'commit.revert-failed', train: null, details: { sha: sha('a1'), requestedBy: ALICE, reason } }]);
  });
});
