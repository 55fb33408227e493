/**
 * The web pages' buttons (src/domain/allowed-actions.ts): shown exactly when the
 * real rule would accept the command from this person now, and the confirmation
 * mark that refuses a confirmation the line has outgrown.
 */
import { describe, expect, it } from 'vitest';
import { lineActions, revertableAuthors, type TrainActions, trainActions } from '../../src/domain/allowed-actions.js';
import { confirmationMark } from '../../src/domain/confirmation.js';
import { block, deploy, derail, engineer, extend, type LineState, reopen, retry, setMode, start, unblock, verify } from '../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, BOB, CAROL, ok, Sim, STRANGER } from '../support/domain-builders.js';

/** #1 = a1 (Alice), b1 (Bob), on staging; Bob is the engineer. */
function onStaging(): Sim {
  const sim = new Sim();
  ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
  sim.succeedBuild(1);
  if (sim.train(1).engineer !== BOB) ok(sim.as(ADMIN, engineer, BOB));
  return sim;
}

const shown = (a: TrainActions): string[] =>
  Object.entries(a)
    .filter(([, v]) => v)
    .map(([k]) => k)
    .sort();

describe('the buttons of a train page', () => {
  it('each person sees only what the rules accept from them', () => {
    const sim = onStaging();
    const as = (who: string, n = 1) => shown(trainActions(sim.state, sim.ctx(who), n));
    // An author: verify their changes, and take the engineer role; no deploy, no derail.
    expect(as(ALICE)).toEqual(['claimEngineer', 'verify']);
    // Someone with no change on the train: only claim the engineer role.
    expect(as(STRANGER)).toEqual(['claimEngineer']);
    // The engineer: verify their own changes, block, derail; not deploy before everyone verified; no extend with an empty platform.
    expect(as(BOB)).toEqual(['block', 'derail', 'verify']);
    // An admin: give the role away too.
    expect(as(ADMIN)).toEqual(['block', 'claimEngineer', 'derail', 'giveEngineer']);
  });

  it('Deploy appears for the engineer once the train is deployable, and never for someone else', () => {
    const sim = onStaging();
    ok(sim.as(ALICE, verify));
    ok(sim.as(BOB, verify));
    expect(trainActions(sim.state, sim.ctx(BOB), 1).deploy).toBe(true);
    expect(trainActions(sim.state, sim.ctx(ADMIN), 1).deploy).toBe(true);
    expect(trainActions(sim.state, sim.ctx(ALICE), 1).deploy).toBe(false);
    // Found a problem: for an author whose changes are verified.
    expect(trainActions(sim.state, sim.ctx(ALICE), 1).reopen).toBe(true);
    expect(trainActions(sim.state, sim.ctx(STRANGER), 1).reopen).toBe(false);
    // Blocked: Unblock replaces Block, and Deploy goes.
    ok(sim.as(BOB, block, 'wait for QA'));
    const blocked = trainActions(sim.state, sim.ctx(BOB), 1);
    expect([blocked.block, blocked.unblock, blocked.deploy]).toEqual([false, true, false]);
  });

  it('extend when commits wait on the platform; retry when the build failed; nothing on an older page', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    sim.failBuild(1);
    ok(sim.as(ADMIN, engineer, BOB));
    expect(trainActions(sim.state, sim.ctx(BOB), 1).retry).toBe(true);
    expect(trainActions(sim.state, sim.ctx(ALICE), 1).retry).toBe(false);
    expect(trainActions(sim.state, sim.ctx(BOB), 1).extend).toBe(false);
    ok(sim.push(aCommit('b2', BOB)));
    expect(trainActions(sim.state, sim.ctx(BOB), 1).extend).toBe(true);
    expect(trainActions(sim.state, sim.ctx(ALICE), 1).extend).toBe(false);
    // The page of a train that is not the one the commands act on offers none of them.
    expect(shown(trainActions(sim.state, sim.ctx(ADMIN), 7))).toEqual([]);
  });

  it('rollback on the page of an earlier deployed train, for the engineer or an admin; not on what production runs', () => {
    const sim = onStaging();
    sim.keep = [1, 2]; // as the train page loads its own train
    sim.verifyAll(1);
    ok(sim.as(BOB, deploy));
    sim.succeedDeploy(1);
    ok(sim.push(aCommit('c2', ALICE)));
    sim.deliverAndVerify(2);
    ok(sim.as(ADMIN, deploy));
    sim.succeedDeploy(2);
    const s = sim.state;
    expect(trainActions(s, sim.ctx(ADMIN), 1).rollback).toBe(true);
    expect(trainActions(s, sim.ctx(STRANGER), 1).rollback).toBe(false);
    expect(trainActions(s, sim.ctx(ADMIN), 2).rollback).toBe(false);
  });

  it('revert: your own commits; admins anyone', () => {
    const sim = onStaging();
    const commits = sim.train(1).commits;
    expect([...revertableAuthors(sim.state, sim.ctx(ALICE), commits)]).toEqual([ALICE]);
    expect([...revertableAuthors(sim.state, sim.ctx(STRANGER), commits)]).toEqual([]);
    expect([...revertableAuthors(sim.state, sim.ctx(ADMIN), commits)].sort()).toEqual([ALICE, BOB]);
  });
});

describe('the buttons of a line page', () => {
  it('start, emergency and mode are for admins; start only when a train may start by hand', () => {
    const sim = new Sim();
    ok(sim.as(ADMIN, setMode, 'manual', 'release week'));
    ok(sim.push(aCommit('a1', ALICE)));
    expect(lineActions(sim.state, sim.ctx(ADMIN))).toEqual({ start: true, emergency: true, modeManual: true, modeSchedule: true });
    expect(lineActions(sim.state, sim.ctx(ALICE))).toEqual({ start: false, emergency: false, modeManual: false, modeSchedule: false });
    ok(sim.as(ADMIN, setMode, 'schedule'));
    // In schedule mode inside auto-time the train started by itself: no Start, and already in schedule mode.
    expect(lineActions(sim.state, sim.ctx(ADMIN))).toMatchObject({ start: false, modeSchedule: false, modeManual: true });
  });
});

describe('the confirmation mark', () => {
  it('stays while nothing changes and changes when the train does (blocked, extended by a push)', () => {
    const sim = onStaging();
    const mark = () => confirmationMark(sim.state, 'derail', { reason: 'flaky', now: sim.now });
    const first = mark();
    expect(mark()).toBe(first);
    expect(confirmationMark(sim.state, 'derail', { reason: 'other', now: sim.now })).not.toBe(first);
    ok(sim.as(BOB, block, 'wait'));
    const blocked = mark();
    expect(blocked).not.toBe(first);
    ok(sim.push(aCommit('c2', ALICE)));
    expect(mark()).not.toBe(blocked);
  });
});

describe('dry runs on a light copy of the line', () => {
  /** What the rules answer on the whole state, for the page of the going train. */
  function onWholeState(s: LineState, sim: Sim, who: string, n: number) {
    const ctx = sim.ctx(who);
    return {
      verify: verify(s, ctx, n).ok,
      reopen: reopen(s, ctx, n).ok,
      deploy: deploy(s, ctx).ok,
      claimEngineer: engineer(s, ctx, 'me').ok,
      unblock: unblock(s, ctx).ok,
      retry: retry(s, ctx).ok,
      extend: extend(s, ctx).ok,
      derail: derail(s, ctx, 'r').ok,
    };
  }

  it('answer as the rules do on the whole state, in every situation of a train and for every kind of person', () => {
    const situations: [string, (sim: Sim) => void][] = [
      ['building', () => {}],
      ['build failed', (sim) => sim.failBuild(1)],
      ['on staging', (sim) => sim.succeedBuild(1)],
      ['on staging, platform waiting', (sim) => (sim.succeedBuild(1), ok(sim.push(aCommit('p1', CAROL))))],
      ['verified', (sim) => sim.deliverAndVerify(1)],
      ['verified and blocked', (sim) => (sim.deliverAndVerify(1), ok(sim.as(ADMIN, block, 'hold')))],
      ['Alice verified', (sim) => (sim.succeedBuild(1), ok(sim.as(ALICE, verify)))],
    ];
    for (const [name, arrange] of situations) {
      const sim = new Sim();
      ok(sim.push(...Array.from({ length: 30 }, (_, i) => aCommit(`c${i}`, [ALICE, BOB][i % 2]!))));
      if (sim.train(1).engineer !== BOB) ok(sim.as(ADMIN, engineer, BOB));
      arrange(sim);
      for (const who of [ADMIN, ALICE, BOB, CAROL, STRANGER]) {
        const page = trainActions(sim.state, sim.ctx(who), 1);
        const whole = onWholeState(sim.state, sim, who, 1);
        for (const [k, v] of Object.entries(whole)) expect(page[k as keyof TrainActions], `${name}, ${who}, ${k}`).toBe(v);
      }
    }
  });

  it('start up to a commit: as the rule answers on the whole platform', () => {
    const sim = new Sim();
    ok(sim.as(ADMIN, setMode, 'manual'));
    ok(sim.push(...Array.from({ length: 20 }, (_, i) => aCommit(`c${i}`, ALICE))));
    expect(lineActions(sim.state, sim.ctx(ADMIN)).start).toBe(start(sim.state, sim.ctx(ADMIN), sim.state.platform[0]!.sha).ok);
    expect(lineActions(sim.state, sim.ctx(ADMIN)).start).toBe(true);
  });
});
