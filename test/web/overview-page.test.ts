// GET / (docs/behaviour.md §7): every line as a card, what needs a person first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';
import { signIn, type WebClient } from '../support/web-client.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
let p: PagesApp;
let me: WebClient;

beforeAll(async () => {
  p = await startPagesApp();
  await p.push('web', ['alice@example.com', 'bob@example.com'], 'A change');
  await p.trainIs('web', 1, 'verifying');
  await p.push('api', ['carol@example.com'], 'Waits in manual mode');
  expect((await p.t.api(ADMIN, `mode manual ${HOSTILE} hold the API`, 'api')).ok).toBe(true);
  me = await signIn(p.base, 'frank@example.com');
}, 60_000);
afterAll(() => p?.t.stop());

const card = (html: string, line: string) => {
  const start = html.indexOf(`data-line="${line}"`);
  return html.slice(start, html.indexOf('</li>', start));
};

describe('the overview page', () => {
  it('asks for sign-in first', async () => {
    const res = await fetch(`${p.base}/`, { redirect: 'manual' });
    expect(res.status).toBe(303);
  });

  it('shows each line: the going train with engineer, verified x/y and why not deployable; manual mode with its reason; why nothing moves', async () => {
    const html = await me.html('/');
    expect(html).toContain('data-live="*"');
    const web = card(html, 'web');
    expect(web).toContain('schedule mode');
    expect(web).toContain('in auto-time');
    expect(web).toMatch(/Going train: <a href="\/lines\/web\/trains\/1">#1<\/a> <span class="state state-verifying">verifying<\/span>/);
    expect(web).toMatch(/Engineer: (alice|bob)@example\.com · verified 0\/2/);
    expect(web).toContain('Not deployable:');
    expect(web).toContain('No train deployed yet.');
    const api = card(html, 'api');
    expect(api).toContain('manual mode');
    // The reason is said once: "why nothing is moving" carries it when nothing moves.
    expect(api.split('hold the API').length - 1).toBe(1);
    expect(api).not.toContain('Manual mode: ');
    expect(api).toContain('1 commit waiting');
    expect(api).toContain('Why nothing is moving: </strong>The line is in manual mode');
    expect(api).toContain('<code>/conductor start</code>');
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('Needs attention');
  });

  it('puts a deployable train, then a blocked one, in "Needs attention"; production after the deploy', async () => {
    for (const who of ['alice@example.com', 'bob@example.com']) expect((await p.t.api(who, 'verify', 'web')).ok).toBe(true);
    let html = await me.html('/');
    expect(html).toContain('Needs attention');
    expect(html).toMatch(/class="attn attn-ok"><strong>web<\/strong> <a href="\/lines\/web\/trains\/1">train #1<\/a>: Ready to deploy: (alice|bob)@example\.com may start it\./);
    expect(html).toContain('class="card card-ok" data-line="web"');
    expect((await p.t.api(ADMIN, `block ${HOSTILE}`, 'web')).ok).toBe(true);
    html = await me.html('/');
    expect(html).toContain('class="attn attn-warn"');
    expect(html).toContain('Blocked: &lt;img src=x onerror=alert(1)>');
    expect(html).not.toContain(HOSTILE);
    expect((await p.t.api(ADMIN, 'unblock', 'web')).ok).toBe(true);
    expect((await p.t.api(ADMIN, 'deploy', 'web')).ok).toBe(true);
    await p.trainIs('web', 1, 'deployed');
    html = await me.html('/');
    const web = card(html, 'web');
    expect(web).toMatch(/Production runs <a href="\/lines\/web\/trains\/1">train #1<\/a> \(<code class="sha" title="[0-9a-f]{40}">[0-9a-f]{8}<\/code>\) since <time/);
    expect(web).toContain('Last train: <a href="/lines/web/trains/1">#1</a>');
    expect(web).toContain('Why nothing is moving: </strong>Nothing is waiting on the platform.');
  });
});
