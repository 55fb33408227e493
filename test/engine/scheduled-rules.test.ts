import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { tick } from '../../src/engine/inputs.js';
import { Leader } from '../../src/scheduler/leader.js';
import { ADMIN, engineHarness, type Harness } from '../support/engine-harness.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const MINUTE = 60_000;

describe('engine: rules driven by the scheduler tick, on real PostgreSQL', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('fails a job that does not report back within its timeout, and stops it', async () => {
    h = await engineHarness();
    await h.push('web', [ALICE]);
    const job = await h.db.prisma.job.findFirstOrThrow();
    const { jobStarted } = await import('../../src/engine/inputs.js');
    expect((await jobStarted(h.engine, job.id, 'local-1', null)).ok).toBe(true);
    h.advance(9 * MINUTE);
    expect((await tick(h.engine, 'web')).ok).toBe(false); // nothing to do yet
    h.advance(2 * MINUTE);
    expect((await tick(h.engine, 'web')).ok).toBe(true);
    const s = await h.status();
    expect(s.train!.jobs).toEqual([expect.objectContaining({ kind: 'build', state: 'failed' })]);
    expect(s.train!.notDeployableReason).toContain('The build failed');
    const effects = await h.outbox();
    expect(effects.some((e) => e.kind === 'job.stop')).toBe(true);
    expect(effects.some((e) => e.kind === 'chat.announce' && String(e.text).includes('timed out after 10 minutes'))).toBe(true);
    // A late result for the timed-out job changes nothing.
    const late = await h.finishJob('web', 1, 'build', true);
    expect(late.ok).toBe(false);
    expect((await h.status()).train!.state).toBe('delivering');
  });

  it('reminds authors who have not verified once, after reminderMinutes', async () => {
    h = await engineHarness();
    await h.push('web', [ALICE, BOB]);
    await h.finishJob('web', 1, 'build');
    await h.cmd(BOB, 'verify');
    h.advance(29 * MINUTE);
    await tick(h.engine, 'web');
    expect((await h.outbox('chat.dm')).filter((d) => String(d.text).startsWith('Reminder'))).toEqual([]);
    h.advance(2 * MINUTE);
    await tick(h.engine, 'web');
    h.advance(60 * MINUTE);
    await tick(h.engine, 'web');
    const reminders = (await h.outbox('chat.dm')).filter((d) => String(d.text).startsWith('Reminder'));
    expect(reminders.map((d) => d.to)).toEqual([ALICE]);
    expect(reminders[0]!.askVerify).toBe(true);
  });

  it('catches up at the first tick after downtime: auto-time began while no process ran', async () => {
    // Office hours only; commits pushed at night wait; the process "comes back" at 09:30.
    h = await engineHarness({ lines: [{ name: 'web', autoTime: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }] }], start: new Date('2026-11-23T07:00:00Z') });
    await h.push('web', [ALICE, BOB]);
    expect((await h.status()).train).toBeNull();
    expect((await h.status()).whyIdle).toContain('Outside auto-time; the next window opens Mon 09:00 (UTC)');
    h.set(new Date('2026-11-23T09:30:00Z'));
    expect((await tick(h.engine, 'web')).ok).toBe(true);
    expect((await h.status()).train).toMatchObject({ number: 1, state: 'delivering' });
    expect((await h.status()).train!.commits).toHaveLength(2);
  });

  it('rolls back to an earlier deployed train and blocks the going train', async () => {
    h = await engineHarness();
    const deployTrain = async (n: number, author: string) => {
      await h.push('web', [author]);
      await h.finishJob('web', n, 'build');
      await h.cmd(author, 'verify');
      await h.cmd(author, 'deploy');
      await h.finishJob('web', n, 'deploy');
    };
    await deployTrain(1, ALICE);
    await deployTrain(2, BOB);
    await h.push('web', [ALICE]);
    expect((await h.cmd(BOB, 'rollback 1')).text).toContain('Only the engineer (alice@example.com) or an admin may roll back');
    expect((await h.cmd(ALICE, 'rollback 2')).text).toContain('is what production runs now');
    expect((await h.cmd(ALICE, 'rollback 7')).text).toContain('was never deployed');
    expect(await h.cmd(ALICE, 'rollback 1')).toEqual({ ok: true, text: 'Rolling back to train #1.' });
    const s = await h.status();
    expect(s.train).toMatchObject({ number: 3, blocked: 'rollback' });
    const one = await h.db.prisma.job.findFirstOrThrow({ where: { kind: 'rollback' }, include: { train: true } });
    expect(one.train.number).toBe(1);
    expect(one.sha).toBe(one.train.headSha);
    const announce = (await h.outbox('chat.announce')).map((e) => String(e.text));
    expect(announce.some((t) => t.includes('rolling production back to train #1') && t.includes('Next: revert'))).toBe(true);
    await h.finishJob('web', 1, 'rollback');
    expect((await h.outbox('chat.announce')).some((e) => String(e.text).includes('Production was rolled back to train #1'))).toBe(true);

    // behaviour.md §9: what production runs is saved with the line, shown in status, and rolling forward is allowed.
    const after = await h.status();
    expect(after.lastDeployed).toMatchObject({ number: 1 });
    expect(after.production).toMatchObject({ number: 1, headSha: one.train.headSha, by: ALICE, rolledBackFrom: 2 });
    expect((await h.cmd(ALICE, 'status')).text).toContain('Production runs train #1 (');
    expect((await h.cmd(ALICE, 'status')).text).toContain('rolled back from train #2');
    expect((await h.cmd(ALICE, 'rollback 1')).text).toContain('is what production runs now');
    expect(await h.cmd(ALICE, 'rollback 2')).toEqual({ ok: true, text: 'Rolling forward to train #2.' });
    await h.finishJob('web', 2, 'rollback');
    expect((await h.status()).production).toMatchObject({ number: 2, rolledBackFrom: null });
  });

  it('applies a job result once, however often it is delivered', async () => {
    h = await engineHarness();
    await h.push('web', [ALICE]);
    const first = await h.finishJob('web', 1, 'build');
    const again = await h.finishJob('web', 1, 'build');
    expect(first.ok).toBe(true);
    expect(again).toEqual(first);
    expect(await h.db.prisma.auditEntry.count({ where: { action: 'job.succeeded' } })).toBe(1);
  });

  it('lets exactly one process hold the scheduler lock, and hands it over when that process goes', async () => {
    h = await engineHarness();
    const log = pino({ level: 'silent' });
    const a = new Leader(h.db.url, log);
    const b = new Leader(h.db.url, log);
    try {
      expect(await a.tryAcquire()).toBe(true);
      expect(await b.tryAcquire()).toBe(false);
      await a.release(); // its connection closes, as when a process dies
      expect(await b.tryAcquire()).toBe(true);
      expect(await a.tryAcquire()).toBe(false);
    } finally {
      await a.release();
      await b.release();
    }
  });

  it('records mode, auto-time and freeze changes in the database and the audit log', async () => {
    h = await engineHarness();
    expect((await h.cmd(ADMIN, 'autotime set mon-fri 09:00-17:00 Europe/Paris')).text).toBe('Auto-time is now mon-fri 09:00-17:00 (Europe/Paris).');
    expect((await h.cmd(ADMIN, 'freeze add 2026-12-24')).ok).toBe(true);
    expect((await h.cmd(ADMIN, 'mode manual')).ok).toBe(true);
    const line = await h.db.prisma.line.findUniqueOrThrow({ where: { name: 'web' } });
    expect(line).toMatchObject({ mode: 'manual', timezone: 'Europe/Paris', freezes: ['2026-12-24'] });
    expect(line.autoTime).toEqual([{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }]);
    const history = (await h.cmd(BOB, 'history 3')).text.split('\n');
    expect(history).toHaveLength(3);
    expect(history[0]).toContain(`${ADMIN} switched the line from schedule to manual mode.`);
    expect(history[1]).toContain(`${ADMIN} added the freeze date 2026-12-24.`);
    expect(history[2]).toContain(`${ADMIN} changed auto-time from mon-sun 00:00-24:00 (UTC) to mon-fri 09:00-17:00 (Europe/Paris).`);
  });
});
