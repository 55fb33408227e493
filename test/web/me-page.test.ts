// GET /me (docs/behaviour.md §7): my commits, my pending verifications, the
// trains I am the engineer of; "me" is the signed-in email, ignoring case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PagesApp, startPagesApp } from '../support/pages-app.js';
import { signIn, type WebClient } from '../support/web-client.js';

const HOSTILE = 'Escape <img src=x onerror=alert(1)> please';
let p: PagesApp;
let me: WebClient;
let onTrain: string;
let bobs: string;
let waiting: string;

beforeAll(async () => {
  p = await startPagesApp();
  [onTrain, bobs] = (await p.push('web', ['alice@example.com', 'bob@example.com'], HOSTILE)) as [string, string];
  await p.trainIs('web', 1, 'verifying');
  [waiting] = (await p.push('web', ['alice@example.com'], 'Waits for the next train')) as [string];
  // Signed in with another case than the commits carry.
  me = await signIn(p.base, 'Alice@Example.COM');
}, 60_000);
afterAll(() => p?.t.stop());

const section = (html: string, id: string) => html.slice(html.indexOf(`id="${id}"`), html.indexOf('</section>', html.indexOf(`id="${id}"`)));

describe('the /me page', () => {
  it('asks for sign-in first', async () => {
    const res = await fetch(`${p.base}/me`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/auth/login?next=%2Fme');
  });

  it("shows my waiting and on-train commits (not others'), escaped, and my pending verification with a Verify button", async () => {
    const html = await me.html('/me');
    const commits = section(html, 'me-commits');
    expect(commits).toContain(`title="${onTrain}"`);
    expect(commits).toContain(`title="${waiting}"`);
    expect(commits).not.toContain(`title="${bobs}"`);
    expect(commits).toContain('waiting on the <a href="/lines/web">platform</a>');
    expect(commits).toContain('on <a href="/lines/web/trains/1">train #1</a>');
    expect(commits).not.toContain('<img src=x');
    expect(commits).toContain('Escape &lt;img src=x onerror=alert(1)> please');
    const verify = section(html, 'me-verify');
    expect(verify).toContain('href="/lines/web/trains/1">train #1</a>');
    expect(verify).toContain(`title="${onTrain}"`);
    // The button posts `verify 1` to the line's actions (src/web/actions), with the CSRF token.
    expect(verify).toMatch(/<form class="action" method="post" action="\/lines\/web\/actions" data-action data-testid="action-verify-web-1">/);
    expect(verify).toContain('name="command" value="verify 1"');
    expect(verify).toContain(`name="_csrf" value="${me.csrf}"`);
    expect(verify).not.toContain('Verify on the train page');
    expect(html).toContain('<strong class="email">alice@example.com</strong>');
  });

  it('lists the trains I am the engineer of, and drops a verification once done', async () => {
    // The engineer was picked at random among alice and bob: alice takes the role (unless she has it).
    if ((await p.t.status('web')).train.engineer !== 'alice@example.com') expect((await p.t.api('alice@example.com', 'engineer me', 'web')).ok).toBe(true);
    expect((await p.t.api('alice@example.com', 'verify', 'web')).ok).toBe(true);
    const html = await me.html('/me');
    expect(section(html, 'me-engineer')).toContain('href="/lines/web/trains/1">train #1</a>');
    expect(section(html, 'me-verify')).toContain('Nothing to verify.');
    // Bob still owes his verification: it is not mine.
    const bob = await signIn(p.base, 'bob@example.com');
    const his = await bob.html('/me');
    expect(section(his, 'me-verify')).toContain('href="/lines/web/trains/1">train #1</a>');
    expect(section(his, 'me-engineer')).toContain('None.');
  });

  it('shows what was deployed today', async () => {
    expect((await p.t.api('bob@example.com', 'verify', 'web')).ok).toBe(true);
    expect((await p.t.api('alice@example.com', 'deploy', 'web')).ok).toBe(true);
    await p.trainIs('web', 1, 'deployed');
    const commits = section(await me.html('/me'), 'me-commits');
    expect(commits).toMatch(/deployed with <a href="\/lines\/web\/trains\/1">train #1<\/a> at <time/);
  });
});

describe('a page that fails', () => {
  it('answers an HTML page (500) that says so, never JSON, and the next request works again', async () => {
    // A real failure below the page: the ticket table is gone for a moment.
    await p.t.db.pool.query('ALTER TABLE ticket RENAME TO ticket_away');
    try {
      const res = await me.get('/me');
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toContain('<h1>Something went wrong</h1>');
      expect(html).toContain('alice@example.com');
      expect(html).not.toContain('ticket_away');
    } finally {
      await p.t.db.pool.query('ALTER TABLE ticket_away RENAME TO ticket');
    }
    expect((await me.get('/me')).status).toBe(200);
  });
});
