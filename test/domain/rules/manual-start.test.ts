/** Rule 4: trains started by hand (`/conductor start [sha]`). */
import { describe, expect, it } from 'vitest';
import { deploy, start } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, BOB, CAROL, dmsTo, effectsOf, monday, OFFICE_HOURS, ok, refused, Sim, sha, shortShas } from '../../support/domain-builders.js';

function manualLine(maxCommits: number | null = null): Sim {
  const sim = new Sim(aLine({ settings: { mode: 'manual', maxCommits } }));
  ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB), aCommit('a2', ALICE), aCommit('c1', CAROL)));
  expect(sim.state.trains).toEqual([]);
  return sim;
}

describe('rule 4: starting a train by hand', () => {
  it('in manual mode an admin starts a train with the whole platform at any time', () => {
    const sim = manualLine();
    const d = ok(sim.as(ADMIN, start));
    const t = sim.goingOrFail;
    expect(t).toMatchObject({ number: 1, state: 'delivering', createdBy: ADMIN, headSha: sha('c1') });
    expect(shortShas(t.commits)).toEqual(['a1', 'b1', 'a2', 'c1']);
    expect(sim.state.platform).toEqual([]);
    expect(effectsOf(d, 'job.start')).toEqual([{ kind: 'job.start', train: 1, jobKind: 'build', attempt: 1 }]);
    expect(d.reply).toBe('Train #1 started with 4 commits.');
    expect(d.audit.map((a) => a.action)).toEqual(['train.created']);
  });

  it.each([
    ['a1', ['a1'], ['b1', 'a2', 'c1']],
    ['b1', ['a1', 'b1'], ['a2', 'c1']],
    ['a2', ['a1', 'b1', 'a2'], ['c1']],
    ['c1', ['a1', 'b1', 'a2', 'c1'], []],
  ])('`start %s` takes the platform up to and including that commit', (at, onTrain, left) => {
    const sim = manualLine();
    const d = ok(sim.as(ADMIN, start, at));
    expect(shortShas(sim.goingOrFail.commits)).toEqual(onTrain);
    expect(sim.goingOrFail.headSha).toBe(sha(at));
    expect(sim.platformShas).toEqual(left);
    if (left.length)
      expect(d.reply).toBe(
        `Train #1 started with ${onTrain.length} commit${onTrain.length === 1 ? '' : 's'}; ${left.length} commit${left.length === 1 ? ' stays' : 's stay'} on the platform.`,
      );
  });

  it('`start <sha>` accepts a full sha and upper case', () => {
    const sim = manualLine();
    ok(sim.as(ADMIN, start, sha('b1').toUpperCase()));
    expect(shortShas(sim.goingOrFail.commits)).toEqual(['a1', 'b1']);
  });

  it('`start <sha>` ignores the cap (the admin chose the commit); `start` alone respects it', () => {
    const sim = manualLine(2);
    ok(sim.as(ADMIN, start, 'a2'));
    expect(shortShas(sim.goingOrFail.commits)).toEqual(['a1', 'b1', 'a2']);
    const other = manualLine(2);
    ok(other.as(ADMIN, start));
    expect(shortShas(other.goingOrFail.commits)).toEqual(['a1', 'b1']);
    expect(other.platformShas).toEqual(['a2', 'c1']);
  });

  it('`start <sha>` refuses a commit that is not on the platform, and an ambiguous prefix', () => {
    const sim = manualLine();
    expect(refused(sim.as(ADMIN, start, 'ffff'))).toBe('Commit ffff is not on the platform. See `/conductor queue`.');
    const amb = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(amb.push(aCommit('ab1', ALICE), aCommit('ab2', BOB)));
    expect(refused(amb.as(ADMIN, start, 'ab'))).toContain('matches 2 commits');
    expect(amb.state.trains).toEqual([]);
  });

  it('in schedule mode a manual start is allowed outside auto-time only', () => {
    const outside = new Sim(aLine({ settings: { autoTime: OFFICE_HOURS } }), monday('18:00'));
    ok(outside.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    expect(outside.state.trains).toEqual([]);
    ok(outside.as(ADMIN, start, 'a1'));
    expect(shortShas(outside.goingOrFail.commits)).toEqual(['a1']);
    expect(outside.platformShas).toEqual(['b1']);

    // Inside auto-time: trains start by themselves, `start` is refused.
    const inside = new Sim(aLine({ settings: { autoTime: OFFICE_HOURS } }), monday('18:00'));
    ok(inside.push(aCommit('a1', ALICE)));
    inside.at(monday('10:00'));
    expect(refused(inside.as(ADMIN, start))).toContain('inside auto-time');
    expect(inside.state.trains).toEqual([]);
  });

  it('refuses while a train is going, and on an empty platform', () => {
    const sim = manualLine();
    ok(sim.as(ADMIN, start, 'a1'));
    expect(refused(sim.as(ADMIN, start))).toBe('Train #1 is still going: derail it or wait until it deploys.');
    const empty = new Sim(aLine({ settings: { mode: 'manual' } }));
    expect(refused(empty.as(ADMIN, start))).toBe('The platform is empty: there is nothing to put on a train.');
  });

  it('only admins may start, and the refusal names them', () => {
    const sim = manualLine();
    expect(refused(sim.as(ALICE, start))).toBe(`Only admins may start a train by hand. Admins: ${ADMIN}.`);
    expect(sim.state.trains).toEqual([]);
  });

  it('the engineer and the authors are told', () => {
    const sim = manualLine();
    sim.random = () => 0.99; // the last of the humans: carol
    const d = ok(sim.as(ADMIN, start));
    expect(sim.goingOrFail.engineer).toBe(CAROL);
    expect(dmsTo(d, CAROL).map((e) => e.text)).toEqual([
      'You are the engineer of train #1. You will start its production deploy once it is verified.',
      'Your change is on train #1; it is building now.',
    ]);
    expect(dmsTo(d, ALICE).map((e) => e.text)).toEqual(['Your 2 changes are on train #1; it is building now.']);
  });

  it('after a manual train deploys in manual mode, nothing starts by itself', () => {
    const sim = manualLine();
    ok(sim.as(ADMIN, start, 'a1'));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    expect(sim.going).toBeUndefined();
    ok(sim.succeedDeploy(1));
    ok(sim.tick());
    expect(sim.state.trains).toEqual([]);
    expect(sim.platformShas).toEqual(['b1', 'a2', 'c1']);
  });
});
