// GET /insights (docs/behaviour.md §7) over the real app: a train deployed for
// real (push, build, verify, deploy), then the page's figures, charts,
// selectors and refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';
import { signIn, type WebClient } from '../support/web-client.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
let p: PagesApp;
let me: WebClient;

beforeAll(async () => {
  p = await startPagesApp();
  await p.push('web', ['alice@example.com'], 'First change');
  await p.trainIs('web', 1, 'verifying');
  expect((await p.t.api('alice@example.com', 'verify', 'web')).ok).toBe(true);
  expect((await p.t.api(ADMIN, 'deploy', 'web')).ok).toBe(true);
  await p.trainIs('web', 1, 'deployed');
  // A second train, derailed with a hostile reason: it must stay text.
  await p.push('web', ['bob@example.com'], 'Second change');
  await p.trainIs('web', 2, 'verifying');
  expect((await p.t.api(ADMIN, `derail ${HOSTILE} broke staging`, 'web')).ok).toBe(true);
  me = await signIn(p.base, 'erin@example.com');
}, 60_000);
afterAll(() => p?.t.stop());

describe('the insights page', () => {
  it('asks for sign-in first', async () => {
    const res = await fetch(`${p.base}/insights?line=web`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/auth/login?next=%2Finsights%3Fline%3Dweb');
  });

  it('shows the first line over 30 days: the four keys with their definitions, charts with their tables', async () => {
    const html = await me.html('/insights');
    expect(html).toContain('<a href="/insights" aria-current="page">Insights</a>');
    expect(html).toContain('Insights <span class="muted">· web, last 30 days</span>');
    expect(html).toMatch(/<div data-key="deployment-frequency"><dt>Deployment frequency<\/dt><dd class="figure">0.03 a day<\/dd><dd>1 production deploy, 0.23 a week.<\/dd>/);
    expect(html).toContain('Per commit, from the moment Conductor first saw it on the branch');
    expect(html).toContain('followed, before the next deploy, by a rollback, an emergency reset, a revert of one of their commits, or a tripped health check');
    expect(html).toMatch(/<div data-key="change-failure-rate"><dt>Change failure rate<\/dt><dd class="figure">0 %<\/dd>/);
    // Four charts, each one image with a title and a description.
    expect(html.match(/<svg class="chart"[^>]* role="img" aria-labelledby="(chart-[a-z]+)-title \1-desc"/g)).toHaveLength(4);
    expect(html).toContain('<title id="chart-deploys-title">Production deploys per day</title>');
    // The numbers beside the charts: today's row has the deploy.
    const today = new Date().toISOString().slice(0, 10);
    expect(html).toMatch(new RegExp(`<th scope="row">${today}</th><td>1</td><td>0</td>`));
    expect(html).toContain('No deployed train of this period was followed by');
    // The derail and its reason, as text.
    expect(html).toContain('1 train derailed');
    expect(html).toContain('&lt;img src=x onerror=alert(1)> broke staging');
    expect(html).not.toContain(HOSTILE);
  });

  it('offers the lines and the periods as links, the current ones marked', async () => {
    const html = await me.html('/insights?line=api&days=7');
    expect(html).toContain('<a href="/insights?line=web&amp;days=7">web</a>');
    expect(html).toContain('<a href="/insights?line=api&amp;days=7" aria-current="page">api</a>');
    expect(html).toContain('<a href="/insights?line=api">30 days</a>');
    expect(html).toContain('<a href="/insights?line=api&amp;days=7" aria-current="page">7 days</a>');
    expect(html).toContain('<a href="/insights?line=api&amp;days=90">90 days</a>');
    // api never deployed: dashes, no failure rate.
    expect(html).toMatch(/<div data-key="lead-time"><dt>Lead time for changes<\/dt><dd class="figure">–<\/dd><dd>No commit reached production.<\/dd>/);
    expect(html).toContain('Production deploys per day');
  });

  it('90 days: the trend by week', async () => {
    const html = await me.html('/insights?line=web&days=90');
    expect(html).toContain('Deploys and lead time per week');
    expect(html).toContain('<th scope="col">Week of</th>');
  });

  it('a bad period is a 400 that says why, an unknown line a 404; the name stays text', async () => {
    const bad = await me.get('/insights?line=web&days=1000');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('days: must be a whole number from 1 to 365');
    const unknown = await me.get(`/insights?line=${encodeURIComponent('<b>x</b>')}`);
    expect(unknown.status).toBe(404);
    const text = await unknown.text();
    expect(text).toContain('No line is called &quot;&lt;b>x&lt;/b>&quot;.');
    expect(text).not.toContain('<b>x</b>');
  });
});
