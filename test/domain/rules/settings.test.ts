/** Rules 4 and 14: mode, auto-time and freeze changes (admins only, audited). */
import { describe, expect, it } from 'vitest';
import { changeFreeze, emergency, inAutoTime, setAutoTime, setMode } from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, announcements, monday, OFFICE_HOURS, ok, refused, Sim, shortShas } from '../../support/domain-builders.js';

describe('mode', () => {
  it('switching to manual stops automatic starts; switching back inside auto-time starts a train at once', () => {
    const sim = new Sim();
    const d = ok(sim.as(ADMIN, setMode, 'manual'));
    expect(sim.state.settings.mode).toBe('manual');
    expect(d.audit).toEqual([{ action: 'line.mode', train: null, details: { from: 'schedule', to: 'manual', reason: null } }]);
    expect(d.reply).toBe('The line is now in manual mode: trains start only by hand.');
    expect(announcements(d)).toEqual([`${ADMIN} switched the line to manual mode: trains start only by hand.`]);

    ok(sim.push(aCommit('a1', ALICE), aCommit('a2', ALICE)));
    ok(sim.tick());
    expect(sim.state.trains).toEqual([]);

    const back = ok(sim.as(ADMIN, setMode, 'schedule'));
    expect(shortShas(sim.goingOrFail.commits)).toEqual(['a1', 'a2']);
    expect(back.audit.map((a) => a.action)).toEqual(['line.mode', 'train.created']);
  });

  it('manual mode takes a reason: kept on the line, announced, audited; a new reason replaces the old one', () => {
    const sim = new Sim();
    const d = ok(sim.as(ADMIN, setMode, 'manual', ' release freeze for the audit '));
    expect(sim.state.settings).toMatchObject({ mode: 'manual', manualReason: 'release freeze for the audit' });
    expect(d.reply).toBe('The line is now in manual mode (release freeze for the audit): trains start only by hand.');
    expect(announcements(d)).toEqual([`${ADMIN} switched the line to manual mode (release freeze for the audit): trains start only by hand.`]);
    expect(d.audit).toEqual([{ action: 'line.mode', train: null, details: { from: 'schedule', to: 'manual', reason: 'release freeze for the audit' } }]);
    expect(refused(sim.as(ADMIN, setMode, 'manual', 'release freeze for the audit'))).toBe('The line is already in manual mode (release freeze for the audit).');
    ok(sim.as(ADMIN, setMode, 'manual', 'db migration'));
    expect(sim.state.settings.manualReason).toBe('db migration');
    const back = ok(sim.as(ADMIN, setMode, 'schedule', 'migration done'));
    expect(sim.state.settings).toMatchObject({ mode: 'schedule', manualReason: null });
    expect(back.audit[0]).toEqual({ action: 'line.mode', train: null, details: { from: 'manual', to: 'schedule', reason: 'migration done' } });
    expect(refused(sim.as(ADMIN, setMode, 'schedule'))).toBe('The line is already in schedule mode.');
  });

  it('in manual mode every push acknowledgement warns that trains start only by hand', () => {
    const sim = new Sim();
    ok(sim.as(ADMIN, setMode, 'manual'));
    const d = ok(sim.push(aCommit('a1', ALICE)));
    expect(announcements(d)).toEqual(['1 new commit on the platform (1 waiting). :warning: The line is in manual mode: trains start only by hand.']);
    ok(sim.as(ADMIN, setMode, 'schedule'));
    const quiet = ok(sim.push(aCommit('a2', ALICE)));
    expect(announcements(quiet)[0]).toBe('1 new commit on the platform (1 waiting).');
  });

  it('switching to schedule outside auto-time starts nothing until auto-time begins', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual', autoTime: OFFICE_HOURS } }), monday('07:00'));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, setMode, 'schedule'));
    expect(sim.state.trains).toEqual([]);
    sim.at(monday('09:00'));
    ok(sim.tick());
    expect(sim.goingOrFail.number).toBe(1);
  });

  it('leaving emergency mode clears the reason; switching to the current mode is refused', () => {
    const sim = new Sim();
    ok(sim.as(ADMIN, emergency, 'refs/conductor/backup/web/1'));
    expect(sim.state.settings.manualReason).toContain('emergency reset');
    ok(sim.as(ADMIN, setMode, 'schedule'));
    expect(sim.state.settings).toMatchObject({ mode: 'schedule', manualReason: null });
    expect(refused(sim.as(ADMIN, setMode, 'schedule'))).toBe('The line is already in schedule mode.');
  });

  it('only admins may change the mode', () => {
    const sim = new Sim();
    expect(refused(sim.as(ALICE, setMode, 'manual'))).toBe(`Only admins may change the mode. Admins: ${ADMIN}.`);
    expect(sim.state.settings.mode).toBe('schedule');
  });
});

describe('auto-time', () => {
  it('new windows take effect at once: a queued platform starts when now is inside them', () => {
    const sim = new Sim(aLine({ settings: { autoTime: OFFICE_HOURS } }), monday('20:00'));
    ok(sim.push(aCommit('a1', ALICE)));
    expect(sim.state.trains).toEqual([]);
    const windows = [{ days: ['mon' as const], start: '18:00', end: '22:00' }];
    const d = ok(sim.as(ADMIN, setAutoTime, windows));
    expect(sim.state.settings.autoTime).toEqual(windows);
    expect(d.audit[0]).toMatchObject({ action: 'line.autotime', train: null });
    expect(d.audit[0]!.details).toMatchObject({ windows, timezone: 'UTC' });
    expect(sim.goingOrFail.number).toBe(1);
  });

  it('the time zone can change with the windows', () => {
    const sim = new Sim(aLine({ settings: { autoTime: OFFICE_HOURS } }), monday('20:00'));
    ok(sim.as(ADMIN, setAutoTime, OFFICE_HOURS, 'Asia/Tokyo'));
    expect(sim.state.settings.timezone).toBe('Asia/Tokyo');
    // 20:00 UTC Monday is 05:00 Tuesday in Tokyo: outside; 01:00 UTC Tuesday is 10:00 in Tokyo: inside.
    expect(inAutoTime(sim.state, monday('20:00'))).toBe(false);
    expect(inAutoTime(sim.state, new Date('2026-01-06T01:00:00Z'))).toBe(true);
  });

  it('no windows at all: never automatic', () => {
    const sim = new Sim();
    ok(sim.as(ADMIN, setAutoTime, []));
    ok(sim.push(aCommit('a1', ALICE)));
    expect(sim.state.trains).toEqual([]);
  });

  it('only admins may change auto-time', () => {
    const sim = new Sim();
    expect(refused(sim.as(ALICE, setAutoTime, []))).toBe(`Only admins may change auto-time. Admins: ${ADMIN}.`);
    expect(sim.state.settings.autoTime).toHaveLength(1);
  });
});

describe('freeze dates', () => {
  it('a freeze today stops automatic starts; removing it starts the queued train at once', () => {
    const sim = new Sim();
    const add = ok(sim.as(ADMIN, changeFreeze, 'add', '2026-01-05'));
    expect(sim.state.settings.freezes).toEqual(['2026-01-05']);
    expect(add.audit).toEqual([{ action: 'line.freeze-add', train: null, details: { date: '2026-01-05' } }]);
    ok(sim.push(aCommit('a1', ALICE)));
    expect(sim.state.trains).toEqual([]);
    const rm = ok(sim.as(ADMIN, changeFreeze, 'remove', '2026-01-05'));
    expect(sim.state.settings.freezes).toEqual([]);
    expect(rm.audit.map((a) => a.action)).toEqual(['line.freeze-remove', 'train.created']);
    expect(sim.goingOrFail.number).toBe(1);
  });

  it('freeze dates stay sorted; duplicates and unknown dates are refused', () => {
    const sim = new Sim();
    ok(sim.as(ADMIN, changeFreeze, 'add', '2026-12-25'));
    ok(sim.as(ADMIN, changeFreeze, 'add', '2026-01-01'));
    expect(sim.state.settings.freezes).toEqual(['2026-01-01', '2026-12-25']);
    expect(refused(sim.as(ADMIN, changeFreeze, 'add', '2026-01-01'))).toBe('2026-01-01 is already a freeze date.');
    expect(refused(sim.as(ADMIN, changeFreeze, 'remove', '2026-07-04'))).toBe('2026-07-04 is not a freeze date.');
  });

  it('only admins may change freeze dates', () => {
    const sim = new Sim();
    expect(refused(sim.as(ALICE, changeFreeze, 'add', '2026-12-25'))).toBe(`Only admins may change freeze dates. Admins: ${ADMIN}.`);
    expect(sim.state.settings.freezes).toEqual([]);
  });
});
