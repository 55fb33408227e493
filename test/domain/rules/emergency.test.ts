/** Rule 8: emergency reset. */
import { describe, expect, it } from 'vitest';
import { deploy, emergency, start } from '../../../src/domain/index.js';
import {
  ADMIN,
  ALICE,
  aCommit,
  aLine,
  announcements,
  BASE_SHA,
  BOB,
  CAROL,
  dmsTo,
  effectsOf,
  monday,
  OFFICE_HOURS,
  ok,
  ROBOT,
  refused,
  Sim,
  sha,
  shortShas,
} from '../../support/domain-builders.js';

const BACKUP = 'refs/conductor/backup/web/20260105T120000Z';

describe('rule 8: emergency reset', () => {
  it('manual mode; the going train is derailed; the branch goes back to just before it; the train and platform are removed', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB)));
    ok(sim.startJob(1, 'build'));
    ok(sim.push(aCommit('c1', CAROL), aCommit('a2', ALICE)));
    const d = ok(sim.as(ADMIN, emergency, BACKUP, 'prod on fire'));

    expect(sim.state.settings.mode).toBe('manual');
    expect(sim.state.settings.manualReason).toBe(`emergency reset by ${ADMIN}: prod on fire`);
    const t1 = d.state.trains.find((t) => t.number === 1)!;
    expect(t1).toMatchObject({ state: 'derailed', derailReason: 'emergency reset: prod on fire' });
    expect(effectsOf(d, 'job.stop')).toEqual([{ kind: 'job.stop', train: 1, jobKind: 'build', attempt: 1 }]);
    expect(effectsOf(d, 'git.reset')).toEqual([{ kind: 'git.reset', targetSha: BASE_SHA, backupRef: BACKUP, removedShas: [sha('a1'), sha('b1'), sha('c1'), sha('a2')] }]);
    expect(sim.state.platform).toEqual([]);
    expect(sim.state.trains).toEqual([]);
    expect(sim.state.knownHeadSha).toBe(BASE_SHA);

    const text = announcements(d)[0]!;
    expect(text).toContain(`Emergency reset by ${ADMIN}: prod on fire.`);
    expect(text).toContain('Train #1 was derailed.');
    expect(text).toContain(BACKUP);
    expect(text).toContain('These 4 commits are taken off the branch (the backup ref keeps them):');
    for (const c of ['a1', 'b1', 'c1', 'a2']) expect(text).toContain(sha(c).slice(0, 8));

    expect(dmsTo(d, ALICE).map((e) => e.text)).toEqual([
      `An emergency reset took your 2 commits off main: ${sha('a1').slice(0, 8)}, ${sha('a2').slice(0, 8)}. Nothing is lost: the old head is saved at ${BACKUP}, which holds them; push them again when the line is healthy.`,
    ]);
    expect(dmsTo(d, BOB)[0]!.text).toBe(
      `An emergency reset took your commit off main: ${sha('b1').slice(0, 8)}. Nothing is lost: the old head is saved at ${BACKUP}, which holds it; push it again when the line is healthy.`,
    );
    expect(d.reply).toBe(`Emergency reset: the branch goes back to ${BASE_SHA.slice(0, 8)}; 4 commits are taken off it (saved at ${BACKUP}); the line is now in manual mode.`);
    expect(dmsTo(d, BOB)).toHaveLength(1);
    expect(dmsTo(d, BOB)[0]!.text).toContain(sha('b1').slice(0, 8));
    expect(dmsTo(d, CAROL)[0]!.text).toContain(sha('c1').slice(0, 8));
    expect(d.audit).toEqual([
      {
        action: 'line.emergency',
        train: 1,
        details: { reason: 'prod on fire', targetSha: BASE_SHA, backupRef: BACKUP, removed: [sha('a1'), sha('b1'), sha('c1'), sha('a2')] },
      },
    ]);
  });

  it('a going train created while another deploys is reset to just before it: the deploying train is kept', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    ok(sim.push(aCommit('b1', BOB)));
    expect(sim.goingOrFail.number).toBe(2);
    const d = ok(sim.as(ADMIN, emergency, BACKUP));
    expect(effectsOf(d, 'git.reset')[0]).toMatchObject({ targetSha: sha('a1'), removedShas: [sha('b1')] });
    expect(sim.state.trains.map((t) => [t.number, t.state])).toEqual([[1, 'deploying']]);
  });

  it('with no train going, the branch goes back to the last deployed commit and the platform is removed', () => {
    const sim = new Sim(aLine({ settings: { autoTime: OFFICE_HOURS } }), monday('10:00'));
    ok(sim.push(aCommit('a1', ALICE)));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    ok(sim.succeedDeploy(1));
    sim.at(monday('18:00'));
    ok(sim.push(aCommit('b1', BOB), aCommit('b2', BOB)));
    expect(sim.going).toBeUndefined();

    const d = ok(sim.as(ADMIN, emergency, BACKUP));
    expect(effectsOf(d, 'git.reset')).toEqual([{ kind: 'git.reset', targetSha: sha('a1'), backupRef: BACKUP, removedShas: [sha('b1'), sha('b2')] }]);
    expect(announcements(d)[0]).toContain('No train was going.');
    expect(d.audit[0]).toMatchObject({ action: 'line.emergency', train: null });
    expect(sim.state.platform).toEqual([]);
    expect(sim.state.settings.mode).toBe('manual');
  });

  it('with nothing to remove, it still resets and switches to manual', () => {
    const sim = new Sim();
    const d = ok(sim.as(ADMIN, emergency, BACKUP));
    expect(effectsOf(d, 'git.reset')).toEqual([{ kind: 'git.reset', targetSha: BASE_SHA, backupRef: BACKUP, removedShas: [] }]);
    expect(announcements(d)[0]).toContain('No commits were taken off the branch.');
    expect(d.reply).toBe(`Emergency reset: the branch goes back to ${BASE_SHA.slice(0, 8)}; no commit is taken off it; the line is now in manual mode.`);
    expect(effectsOf(d, 'chat.dm')).toEqual([]);
    expect(sim.state.settings.mode).toBe('manual');
  });

  it('afterwards: pushes warn about manual mode and wait; an admin starts the emergency train by hand', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, emergency, BACKUP, 'bad release'));
    const pushed = ok(sim.push(aCommit('e1', BOB, 'hotfix')));
    expect(announcements(pushed)[0]).toContain(`The line is in manual mode (emergency reset by ${ADMIN}: bad release): trains start only by hand.`);
    ok(sim.tick());
    expect(sim.state.trains).toEqual([]);
    ok(sim.as(ADMIN, start));
    const t = sim.goingOrFail;
    expect(shortShas(t.commits)).toEqual(['e1']);
    expect(t.baseSha).toBe(BASE_SHA);
    expect(t.number).toBe(2);
  });

  it("a robot's commits are taken off too, but the robot gets no DM", () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE), aCommit('r1', ROBOT)));
    const d = ok(sim.as(ADMIN, emergency, BACKUP));
    expect(effectsOf(d, 'git.reset')[0]!.removedShas).toEqual([sha('a1'), sha('r1')]);
    expect(effectsOf(d, 'chat.dm').map((e) => e.to)).toEqual([ALICE]);
  });

  it('lists at most 20 removed commits in the channel', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(...Array.from({ length: 25 }, (_, i) => aCommit(`f${i}`, ALICE))));
    const d = ok(sim.as(ADMIN, emergency, BACKUP));
    expect(effectsOf(d, 'git.reset')[0]!.removedShas).toHaveLength(25);
    expect(announcements(d)[0]).toContain('… and 5 more (see the backup ref)');
  });

  it('only admins may run it, and the refusal names them', () => {
    const sim = new Sim();
    ok(sim.push(aCommit('a1', ALICE)));
    expect(refused(sim.as(ALICE, emergency, BACKUP))).toBe(`Only admins may run an emergency reset. Admins: ${ADMIN}.`);
    expect(sim.state.settings.mode).toBe('schedule');
    expect(sim.goingOrFail.number).toBe(1);
  });

  it('a train whose production deploy failed is wiped too: the branch goes back to before it', () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, start));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    ok(sim.push(aCommit('b1', BOB)));
    ok(sim.as(ADMIN, start));
    ok(sim.finishJob(1, 'deploy', false));
    const base = sim.train(1).baseSha;
    const d = ok(sim.as(ADMIN, emergency, BACKUP));
    expect(d.effects.filter((e) => e.kind === 'git.reset')).toEqual([{ kind: 'git.reset', targetSha: base, backupRef: BACKUP, removedShas: [sha('a1'), sha('b1')] }]);
    expect(d.state.trains.filter((t) => t.number <= 2).map((t) => t.state)).toEqual(['derailed', 'derailed']);
  });
});
