import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, engineHarness, type Harness } from '../support/engine-harness.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

describe('engine: a train from push to production on real PostgreSQL', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await engineHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('creates, delivers, verifies and deploys a train, then starts the next', async () => {
    const [a1, b1] = await h.push('web', [ALICE, BOB]);
    let s = await h.status();
    expect(s.platform).toEqual([]);
    expect(s.train).toMatchObject({ number: 1, state: 'delivering', headSha: b1, engineer: ALICE, deployable: false });
    expect(s.train!.commits.map((c) => c.sha)).toEqual([a1, b1]);
    expect(s.train!.jobs).toEqual([expect.objectContaining({ kind: 'build', state: 'queued' })]);

    await h.finishJob('web', 1, 'build');
    s = await h.status();
    expect(s.train).toMatchObject({ state: 'verifying', deployable: false });
    expect(s.train!.tickets).toEqual([
      { authorEmail: ALICE, state: 'pending' },
      { authorEmail: BOB, state: 'pending' },
    ]);
    expect(s.train!.notDeployableReason).toContain('Waiting for 2 verifications');

    expect((await h.cmd(ALICE, 'verify')).ok).toBe(true);
    expect((await h.cmd(BOB, 'deploy')).text).toContain('Only the engineer');
    expect((await h.cmd(BOB, 'verify')).ok).toBe(true);
    s = await h.status();
    expect(s.train).toMatchObject({ deployable: true, notDeployableReason: null });

    const [c1] = await h.push('web', [BOB]);
    s = await h.status();
    expect(s.platform.map((c) => c.sha)).toEqual([c1]);

    const deploy = await h.cmd(ALICE, 'deploy');
    expect(deploy).toEqual({ ok: true, text: 'Deploy of train #1 started.' });
    expect((await h.cmd(ALICE, 'deploy')).ok).toBe(false); // a double click never deploys twice

    // Rule 2/3: the next train starts as soon as the deploy begins, with the queued commit.
    s = await h.status();
    expect(s.train).toMatchObject({ number: 2, state: 'delivering', headSha: c1 });
    await h.finishJob('web', 2, 'build');
    await h.cmd(BOB, 'verify');
    s = await h.status();
    expect(s.train!.notDeployableReason).toContain('Train #1 is still deploying');

    await h.finishJob('web', 1, 'deploy');
    s = await h.status();
    expect(s.lastDeployed).toEqual({ number: 1, headSha: b1 });
    expect(s.train).toMatchObject({ number: 2, deployable: true });

    const audit = await h.db.prisma.auditEntry.findMany({ orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['commits.arrived', 'train.created', 'job.succeeded', 'ticket.verified', 'train.deploy-started', 'train.deployed']));
    const commits = await h.db.prisma.commit.findMany({ orderBy: { position: 'asc' } });
    expect(commits.map((c) => c.state)).toEqual(['deployed', 'deployed', 'train']);
  });

  it('refuses without changing anything and answers usage for unknown input', async () => {
    const before = await h.status();
    const r = await h.cmd('stranger@example.com', 'frobnicate');
    expect(r.ok).toBe(false);
    expect(r.text).toContain('Unknown command');
    expect((await h.cmd('stranger@example.com', 'mode manual')).text).toContain(`Only admins may change the mode. Admins: ${ADMIN}`);
    expect(await h.status()).toEqual(before);
    expect(await h.db.prisma.auditEntry.count()).toBe(0);
  });
});
