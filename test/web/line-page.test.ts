/**
 * `GET /lines/<line>` on the whole app (two lines), and the job output route
 * refusing a job of another line.
 */
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { makeTempDir } from '../support/temp-dirs.js';
import { signIn, type WebClient } from '../support/web-client.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const ADMIN = 'admin@example.com';

let t: RunningApp;
let me: WebClient;
let repos: { web: string; api: string };
beforeAll(async () => {
  const dir = await makeTempDir('conductor-line-page-');
  repos = { web: path.join(dir, 'web.git'), api: path.join(dir, 'api.git') };
  for (const r of Object.values(repos)) await ensureDemoRepository(r, pino({ level: 'silent' }));
  t = await startTestApp({
    files: {
      'conductor.yml': `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${repos.web}
    pollSeconds: 3600
    autoTime: [{ days: [mon, tue, wed, thu, fri], start: "09:30", end: "17:00" }]
    freeze: ["2099-12-24", "2000-01-01"]
    build: { command: "echo web-build-$SHA; sleep 30" }
    deploy: { command: "true" }
  - name: api
    repo: ${repos.api}
    pollSeconds: 3600
    build: { command: "echo api-build; sleep 30" }
    deploy: { command: "true" }
`,
    },
  });
  me = await signIn(t.app.url, 'watcher@example.com');
}, 60_000);
afterAll(() => t?.stop());

describe('the line page', () => {
  test('mode and reason, platform with authors and age, auto-time grid, freezes; then the current train and the train list', async () => {
    expect(await t.api(ADMIN, `mode manual ${HOSTILE}`, 'web')).toMatchObject({ ok: true });
    const dev = await t.developer(repos.web);
    await dev.commit('carol@example.com', `Carol's change ${HOSTILE}`);
    await dev.commit('dave@example.com', 'Dave fixes the footer');
    await dev.push();
    await t.app.scheduler.fetchNow('web');

    let html = await me.html('/lines/web');
    expect(html).toContain('data-live="web"');
    expect(html).not.toContain('<img');
    expect(html).toContain(`manual mode: &lt;img src=x onerror=alert(1)>`);
    expect(html).toContain('2 commits by 2 authors, the oldest waiting for');
    expect(html).toContain(`Carol's change &lt;img`);
    expect(html).toContain('No train deployed yet.');
    expect(html).toContain('class="hour hour-part" data-hour="9" title="mon 09:00');
    expect(html).toContain('class="hour hour-in" data-hour="16" title="fri 16:00');
    expect(html).toMatch(/<th scope="row">sat<\/th>(<td class="hour hour-out" data-hour="\d+"><\/td>){24}<\/tr>/);
    expect(html).toContain('<li>2099-12-24</li>');
    expect(html).not.toContain('2000-01-01');

    expect(await t.api(ADMIN, 'start', 'web')).toMatchObject({ ok: true });
    html = await me.html('/lines/web');
    expect(html).toContain('<a href="/lines/web/trains/1">Train #1</a>');
    expect(html).toContain('2 commits by 2 · engineer');
    expect(html).toMatch(/<tr data-train="1"><td><a href="\/lines\/web\/trains\/1">#1<\/a><\/td><td><span class="state state-delivering">/);
    expect(html).toContain('Nothing is waiting.');
  }, 60_000);

  test('the train list is paginated with ?before=', async () => {
    // 22 trains on the api line: each started by hand and derailed.
    const dev = await t.developer(repos.api);
    expect(await t.api(ADMIN, 'mode manual', 'api')).toMatchObject({ ok: true });
    for (let i = 1; i <= 22; i++) {
      await dev.commit('erin@example.com', `change ${i}`);
      await dev.push();
      await t.app.scheduler.fetchNow('api');
      expect(await t.api(ADMIN, 'start', 'api')).toMatchObject({ ok: true });
      expect(await t.api(ADMIN, `derail ${i} test`, 'api')).toMatchObject({ ok: true });
    }
    const first = await me.html('/lines/api');
    expect(first.match(/<tr data-train="/g)).toHaveLength(20);
    expect(first).toContain('<tr data-train="22">');
    expect(first).not.toContain('<tr data-train="2">');
    expect(first).toContain('href="/lines/api?before=3#trains"');
    const older = await me.html('/lines/api?before=3');
    expect(older.match(/<tr data-train="/g)).toHaveLength(2);
    expect(older).toContain('← newest trains');
    expect(older).not.toContain('older trains');
    // A bad cursor starts at the newest.
    expect((await me.html('/lines/api?before=abc')).match(/<tr data-train="/g)).toHaveLength(20);
  }, 120_000);

  test('the output route refuses a job of another line', async () => {
    const page = await t.until('web build running', async () => {
      const html = await me.html('/lines/web/trains/1');
      return html.includes('data-follow=') ? html : null;
    });
    const jobId = /\/jobs\/(\d+)\/output/.exec(page)![1]!;
    const mine = await me.get(`/lines/web/trains/1/jobs/${jobId}/output`);
    expect(mine.status).toBe(200);
    expect(await mine.text()).toContain('web-build-');
    const other = await me.get(`/lines/api/trains/1/jobs/${jobId}/output`);
    expect(other.status).toBe(404);
    expect(await other.text()).not.toContain('web-build');
  });

  test('an unknown line is a 404 page; not signed in goes to sign-in', async () => {
    const res = await me.get('/lines/nope');
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('No line is called “nope”.');
    const anon = await fetch(`${t.app.url}/lines/web`, { redirect: 'manual' });
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe('/auth/login?next=%2Flines%2Fweb');
  });
});
