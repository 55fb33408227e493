import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startTestApp } from '../support/app-harness.js';

/**
 * The README's demo, as a newcomer runs it: no config file, the demo line on a
 * local bare repository, shell build/deploy commands, built-in tickets.
 */
describe('end to end: the demo line', () => {
  let t: RunningApp;
  beforeAll(async () => {
    t = await startTestApp();
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('runs pushed commits through a train to production, then starts the next train by itself', async () => {
    const repo = path.join(t.dir, 'data', 'demo.git');
    const initial = await t.status('demo');
    expect(initial).toMatchObject({ line: 'demo', mode: 'schedule', inAutoTime: true, platform: [], train: null, lastDeployed: null });

    const dev = await t.developer(repo);
    const sha1 = await dev.commit('carol@example.com', 'Add a greeting');
    const sha2 = await dev.commit('dave@example.com', 'Fix the footer');
    await dev.push();

    // The poller finds the commits and a train starts at once (schedule mode, 24/7 auto-time).
    const train1 = await t.until('train #1', async () => ((await t.status('demo')).train?.number === 1 ? (await t.status('demo')).train : null));
    expect(train1.commits.map((c: { sha: string }) => c.sha)).toEqual([sha1, sha2]);
    expect(['carol@example.com', 'dave@example.com']).toContain(train1.engineer);

    // The demo build runs a shell command in a work tree of the head for ~3 s.
    const verifying = await t.until('delivery', async () => {
      const s = await t.status('demo');
      return s.train.state === 'verifying' ? s.train : null;
    });
    expect(verifying.jobs).toEqual([expect.objectContaining({ kind: 'build', state: 'succeeded' })]);
    expect(verifying.tickets).toEqual([
      { authorEmail: 'carol@example.com', state: 'pending' },
      { authorEmail: 'dave@example.com', state: 'pending' },
    ]);

    const engineer = verifying.engineer as string;
    expect((await t.api(engineer, 'deploy')).text).toMatch(/cannot deploy yet.*Waiting for 2 verifications/);
    expect(await t.api('carol@example.com', 'verify')).toEqual({ ok: true, text: 'Verified your changes on train #1.' });
    expect(await t.api('dave@example.com', 'verify')).toEqual({ ok: true, text: 'Verified your changes on train #1.' });
    expect((await t.status('demo')).train).toMatchObject({ deployable: true, notDeployableReason: null });

    // A commit pushed while the train is going waits for the next one.
    const sha3 = await dev.commit('erin@example.com', 'Tune the cache');
    await dev.push();
    await t.until('commit on the platform', async () => (await t.status('demo')).platform.length === 1);

    expect(await t.api(engineer, 'deploy')).toEqual({ ok: true, text: 'Deploy of train #1 started.' });
    const train2 = await t.until('train #2 starts by itself', async () => {
      const s = await t.status('demo');
      return s.train?.number === 2 ? s.train : null;
    });
    expect(train2.commits.map((c: { sha: string }) => c.sha)).toEqual([sha3]);

    const deployed = await t.until('train #1 deployed', async () => {
      const s = await t.status('demo');
      return s.lastDeployed?.number === 1 ? s : null;
    });
    expect(deployed.lastDeployed).toEqual({ number: 1, headSha: sha2 });

    // What people would read in Slack went to the log chat, in order.
    // Delivered by the outbox after the commit: wait for the last of them rather than race it.
    await t.until('the deploy is announced', async () => t.app.chat.messages.some((m) => m.text.startsWith('Train #1 is deployed to production')));
    const said = t.app.chat.messages.map((m) => m.text);
    expect(said).toContain('Train #1 is deployed to production (' + sha2.slice(0, 8) + ').');
    expect(t.app.chat.messages.filter((m) => m.kind === 'dm' && m.to === 'carol@example.com').map((m) => m.text)).toEqual(
      expect.arrayContaining([expect.stringContaining('please verify'.replace('please', 'Please'))]),
    );

    const history = await t.api('carol@example.com', 'history 50');
    expect(history.text.split('\n').some((l) => l.includes('Train #1 was deployed to production ('))).toBe(true);
  }, 90_000);
});
