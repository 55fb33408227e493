/**
 * Replies read as a person in Slack reads them: no contradictions, no doubled
 * sentences or periods, plurals that agree (issue 8 §4). Exact sentences.
 */
import { describe, expect, it } from 'vitest';
import { block, changeFreeze, deploy, derail, notDeployableReason, reopen, setAutoTime, setMode, start, verify } from '../../src/domain/index.js';
import { statusText, trainText, whyIdle } from '../../src/engine/views.js';
import { ADMIN, ALICE, aCommit, aLine, announcements, BASE_SHA, BOB, dmsTo, monday, OFFICE_HOURS, ok, Sim, sha } from '../support/domain-builders.js';

const base = BASE_SHA.slice(0, 8);

describe('status', () => {
  it('an empty line: the platform is said to be empty once, and production is the head Conductor started from', () => {
    const sim = new Sim();
    expect(statusText(sim.state, sim.now).split('\n')).toEqual([
      '*web* (main): schedule mode; auto-time mon-sun 00:00-24:00 (UTC).',
      'No train is running.',
      'Nothing is waiting on the platform.',
      `Production: ${base}, the branch head when Conductor started watching (no train deployed yet).`,
    ]);
  });

  it('manual mode shows its reason; auto-time off reads "off", not "never"; one waiting commit agrees', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual', manualReason: 'release freeze', autoTime: [] } }));
    ok(sim.push(aCommit('a1', ALICE)));
    expect(statusText(sim.state, sim.now).split('\n')).toEqual([
      '*web* (main): :warning: manual mode (release freeze); auto-time off (no windows).',
      'No train is running.',
      'Platform: 1 commit is waiting.',
      'The line is in manual mode (release freeze): trains start only when an admin runs `/conductor start`.',
      `Production: ${base}, the branch head when Conductor started watching (no train deployed yet).`,
    ]);
  });

  it('outside auto-time: one commit waits (not "1 commit wait")', () => {
    const sim = new Sim(aLine({ settings: { autoTime: OFFICE_HOURS } }), monday('20:00'));
    ok(sim.push(aCommit('a1', ALICE)));
    expect(whyIdle(sim.state, sim.now)).toBe('Outside auto-time; the next window opens Tue 09:00 (UTC); 1 commit waits. An admin may start a train by hand with `/conductor start`.');
  });

  it('after a deploy, production is that train', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    sim.succeedDeploy(1);
    // behaviour.md §9: which train, since when, by whom.
    expect(statusText(sim.state, sim.now).split('\n').at(-1)).toBe(
      `Production runs train #1 (${sha('a1').slice(0, 8)}), since ${sim.now.toISOString().slice(0, 16).replace('T', ' ')} UTC, by ${ALICE}.`,
    );
  });
});

describe('commands', () => {
  it('start: what stays on the platform agrees in number', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    expect(ok(sim.as(ADMIN, start, 'a1')).reply).toBe('Train #1 started with 1 commit; 1 commit stays on the platform.');
  });

  it('a reason that ends with a period is not given a second one', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, start));
    const b = ok(sim.as(ADMIN, block, 'Waiting for QA.'));
    expect(b.reply).toBe('Train #1 blocked: Waiting for QA.');
    expect(announcements(b)[0]).toBe(`Train #1 was blocked by ${ADMIN}: Waiting for QA. :warning: The line is in manual mode: trains start only by hand.`);
    expect(trainText(sim.state, sim.train(1)).split('\n')[0]).toBe(
      `Train #1: delivering, 1 commit, head ${sha('a1').slice(0, 8)}, engineer ${ALICE}, blocked: Waiting for QA. The build has not started yet.`,
    );
    sim.succeedBuild(1);
    expect(notDeployableReason(sim.state, sim.train(1))).toBe('The train is blocked: Waiting for QA.');
    const d = ok(sim.as(ADMIN, derail, 'Flaky tests!'));
    expect(announcements(d)[0]).toBe(`Train #1 was derailed by ${ADMIN}: Flaky tests! Its commit is back on the platform. :warning: The line is in manual mode: trains start only by hand.`);
  });

  it('reopen with or without a reason reads as one sentence each', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    expect(sim.goingOrFail.engineer).toBe(ALICE);
    sim.succeedBuild(1);
    ok(sim.as(BOB, verify));
    const why = ok(sim.as(BOB, reopen, undefined, 'the login is broken.'));
    expect(announcements(why)).toEqual([`${BOB} found a problem with their changes on train #1: the login is broken. The deploy waits until they verify again.`]);
    expect(dmsTo(why, ALICE).map((e) => e.text)).toEqual([`${BOB} reopened their verification on train #1: the login is broken.`]);
    ok(sim.as(BOB, verify));
    const plain = ok(sim.as(BOB, reopen));
    expect(announcements(plain)).toEqual([`${BOB} found a problem with their changes on train #1. The deploy waits until they verify again.`]);
    expect(dmsTo(plain, ALICE).map((e) => e.text)).toEqual([`${BOB} reopened their verification on train #1.`]);
  });

  it('auto-time off says what it means; freeze changes say what changed', () => {
    const sim = new Sim();
    const off = ok(sim.as(ADMIN, setAutoTime, []));
    expect(off.reply).toBe('Auto-time is now off: there are no windows, so trains start only when an admin runs `/conductor start`.');
    expect(announcements(off)).toEqual([`${ADMIN} turned auto-time off: there are no windows, so trains start only when an admin runs \`/conductor start\`.`]);
    expect(ok(sim.as(ADMIN, changeFreeze, 'add', '2026-12-24')).reply).toBe('2026-12-24 is now a freeze date. Freeze dates: 2026-12-24.');
    expect(ok(sim.as(ADMIN, changeFreeze, 'remove', '2026-12-24')).reply).toBe('2026-12-24 is no longer a freeze date. Freeze dates: none.');
    expect(ok(sim.as(ADMIN, setMode, 'manual')).reply).toBe('The line is now in manual mode: trains start only by hand.');
  });
});

describe('engine: autotime show', () => {
  it('says "off" once when there are no windows, and the mode with its reason', async () => {
    const { engineHarness } = await import('../support/engine-harness.js');
    const h = await engineHarness();
    try {
      expect((await h.cmd('admin@example.com', 'autotime show')).text).toBe(
        'Auto-time: mon-sun 00:00-24:00 (UTC). Right now: inside auto-time (the windows cover the whole week). Freeze dates: none. The line is in schedule mode.',
      );
      await h.cmd('admin@example.com', 'autotime clear');
      await h.cmd('admin@example.com', 'mode manual db migration');
      expect((await h.cmd('admin@example.com', 'autotime show')).text).toBe(
        'Auto-time is off: there are no windows, so trains start only when an admin runs `/conductor start`. Freeze dates: none. The line is in manual mode (db migration).',
      );
    } finally {
      await h.close();
    }
  });
});

describe('help', () => {
  it('derail and mode say how to hold commits and that mode takes a reason', async () => {
    const { usageFor } = await import('../../src/commands/usage.js');
    expect(usageFor('derail')).toBe(
      '`/conductor derail [reason]` — Destroy the going train; its commits go back to the platform. In schedule mode inside auto-time a new train takes them at once: to hold them, run `mode manual` first. (engineer or admin)',
    );
    expect(usageFor('mode')).toBe(
      '`/conductor mode manual|schedule [reason]` — Switch between starting trains by hand only and starting them inside auto-time; the reason shows in status, on the card and in history. (admins)',
    );
  });
});
