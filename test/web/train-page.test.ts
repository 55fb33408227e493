/**
 * `GET /lines/<line>/trains/<n>` and the job output route on the whole app:
 * a real train built and deployed by the demo line's local runner.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { signIn, type WebClient } from '../support/web-client.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

let t: RunningApp;
let base: string;
let me: WebClient;
beforeAll(async () => {
  t = await startTestApp();
  base = t.app.url;
  me = await signIn(base, 'watcher@example.com');
}, 60_000);
afterAll(() => t?.stop());

const jobIdOf = (html: string): number | null => {
  const m = /data-follow="\/lines\/demo\/trains\/1\/jobs\/(\d+)\/output"/.exec(html);
  return m ? Number(m[1]) : null;
};

describe('the train page', () => {
  test('a train built by the local runner: its running build followed live, then its timeline, jobs, commits and neighbours', async () => {
    const repo = path.join(t.dir, 'data', 'demo.git');
    const dev = await t.developer(repo);
    const sha1 = await dev.commit('carol@example.com', `Add a greeting ${HOSTILE}`);
    await dev.push();
    await t.app.scheduler.fetchNow('demo');

    // The demo build echoes "building <sha>", sleeps 3 s, echoes "built".
    const running = await t.until('the build runs and has written', async () => {
      const html = await me.html('/lines/demo/trains/1');
      return html.includes(`building ${sha1}`) ? html : null;
    });
    expect(running).toContain('data-live="demo"');
    const jobId = jobIdOf(running);
    expect(jobId).not.toBeNull();
    const live = await me.get(`/lines/demo/trains/1/jobs/${jobId}/output`);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(['running', 'succeeded']).toContain(live.headers.get('x-job-state'));
    expect(await live.text()).toContain(`building ${sha1}`);

    // Once the build succeeded, the route answers the recorded output; the page shows it collapsed.
    await t.until('delivered', async () => (await t.status('demo')).train?.state === 'verifying');
    const done = await me.get(`/lines/demo/trains/1/jobs/${jobId}/output`);
    expect(done.headers.get('x-job-state')).toBe('succeeded');
    expect(await done.text()).toMatch(new RegExp(`building ${sha1}\\n[\\s\\S]*built`));

    expect(await t.api('carol@example.com', 'verify')).toMatchObject({ ok: true });
    const engineer = (await t.status('demo')).train.engineer as string;
    expect(await t.api(engineer, 'deploy')).toMatchObject({ ok: true });
    await t.until('deployed', async () => (await t.status('demo')).lastDeployed?.number === 1);

    const html = await me.html('/lines/demo/trains/1');
    expect(html).not.toContain('<img');
    expect(html).toContain(`Add a greeting &lt;img src=x onerror=alert(1)>`);
    expect(html).toContain('state-deployed');
    for (const step of [
      'Conductor started train #1 with 1 commit',
      'The build of train #1 succeeded.',
      'carol@example.com verified their changes on train #1.',
      `started the production deploy of train #1`,
      'Train #1 was deployed to production',
    ]) {
      expect(html).toContain(step);
    }
    expect(html).toMatch(/class="took" title="since the step before"> \+\d/);
    expect(html).toContain('<summary>Last lines of the output</summary>');
    expect(html).toContain(`deploying ${sha1}`);
    expect(html).toMatch(/data-author="carol@example.com"[\s\S]*state-verified[\s\S]*by carol@example.com/);
    expect(html).not.toContain('data-follow'); // nothing runs any more
    expect(html).toContain('no earlier train');
    expect(html).toContain('no later train');

    // The next train links back, and #1 links forward.
    await dev.commit('dave@example.com', 'Fix the footer');
    await dev.push();
    await t.app.scheduler.fetchNow('demo');
    await t.until('train #2', async () => (await t.status('demo')).train?.number === 2);
    expect(await me.html('/lines/demo/trains/1')).toContain('href="/lines/demo/trains/2" rel="next"');
    const second = await me.html('/lines/demo/trains/2');
    expect(second).toContain('href="/lines/demo/trains/1" rel="prev"');
    // Train #1's job is not train #2's.
    expect((await me.get(`/lines/demo/trains/2/jobs/${jobId}/output`)).status).toBe(404);
  }, 60_000);

  test('unknown lines, trains and jobs are 404 pages in the layout; bad numbers too', async () => {
    for (const p of ['/lines/nope/trains/1', '/lines/demo/trains/999', '/lines/demo/trains/0', '/lines/demo/trains/abc', '/lines/demo/trains/1e3']) {
      const res = await me.get(p);
      expect(res.status, p).toBe(404);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await res.text();
      expect(html).toContain('<h1>Not found</h1>');
      expect(html).toContain('watcher@example.com');
    }
    for (const p of ['/lines/demo/trains/1/jobs/999999/output', '/lines/demo/trains/1/jobs/x/output', '/lines/nope/trains/1/jobs/1/output']) {
      expect((await me.get(p)).status, p).toBe(404);
    }
    // A train page past the last page of authors shows the last page; a bad page number the first.
    expect((await me.get('/lines/demo/trains/1?authors=999')).status).toBe(200);
    expect((await me.get('/lines/demo/trains/1?authors=-1%00')).status).toBe(200);
  });

  test('not signed in: the page sends to sign-in and comes back; the output route answers 401', async () => {
    const res = await fetch(`${base}/lines/demo/trains/1`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/auth/login?next=%2Flines%2Fdemo%2Ftrains%2F1');
    const out = await fetch(`${base}/lines/demo/trains/1/jobs/1/output`, { redirect: 'manual' });
    expect(out.status).toBe(401);
  });
});
