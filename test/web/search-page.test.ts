// GET /search?q= (docs/behaviour.md §7): where is my change? Over the real app,
// real git and PostgreSQL, signed in through the local form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';
import { signIn, type WebClient } from '../support/web-client.js';

const HOSTILE = 'Fix <img src=x onerror=alert(1)> in checkout';
let p: PagesApp;
let me: WebClient;
let alice: string;
let bob: string;
let carol: string;

beforeAll(async () => {
  p = await startPagesApp();
  [alice, bob] = (await p.push('web', ['alice@example.com', 'bob@example.com'], HOSTILE)) as [string, string];
  await p.trainIs('web', 1, 'verifying');
  [carol] = (await p.push('web', ['carol@example.com'], 'Add the dark mode toggle')) as [string];
  me = await signIn(p.base, 'dave@example.com');
}, 60_000);
afterAll(() => p?.t.stop());

const location = async (q: string) => {
  const res = await me.get(`/search?q=${encodeURIComponent(q)}`);
  return { status: res.status, location: res.headers.get('location') };
};

describe('the search page', () => {
  it('asks for sign-in first, and comes back to the same search', async () => {
    const res = await fetch(`${p.base}/search?q=abcd`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/auth/login?next=%2Fsearch%3Fq%3Dabcd');
  });

  it('a full SHA, or an unambiguous prefix of 7+, goes straight to its train (303); a platform commit to its line', async () => {
    expect(await location(alice)).toEqual({ status: 303, location: '/lines/web/trains/1' });
    expect(await location(alice.slice(0, 10).toUpperCase())).toEqual({ status: 303, location: '/lines/web/trains/1' });
    expect(await location(carol)).toEqual({ status: 303, location: '/lines/web' });
  });

  it('a short prefix, an email or words list the commits with where they are, escaped', async () => {
    const byPrefix = await me.html(`/search?q=${alice.slice(0, 5)}`);
    expect(byPrefix).toContain(`title="${alice}"`);
    expect(byPrefix).toContain('href="/lines/web/trains/1">train #1</a>');
    const byEmail = await me.html('/search?q=BOB%40Example.com');
    expect(byEmail).toContain(`title="${bob}"`);
    expect(byEmail).not.toContain(`title="${alice}"`);
    expect(byEmail).toContain('state-verifying');
    const byWords = await me.html('/search?q=checkout+FIX');
    expect(byWords).toContain('2 matches');
    expect(byWords).not.toContain('<img src=x');
    expect(byWords).toContain('Fix &lt;img src=x onerror=alert(1)> in checkout');
    const waiting = await me.html('/search?q=dark+mode');
    expect(waiting).toContain('waiting on the <a href="/lines/web">platform</a>');
    // The header's search box holds the query.
    expect(waiting).toMatch(/id="q"[^>]*value="dark mode"/);
  });

  it('no query shows the form and a hint; no match says so; a bad query is a 400 page with the reason', async () => {
    const empty = await me.get('/search');
    expect(empty.status).toBe(200);
    expect(await empty.text()).toContain('Type a SHA');
    expect(await me.html('/search?q=nothing+like+this')).toContain('No commit matches');
    for (const [q, reason] of [
      ['a\u0000b', 'control character'],
      ['x'.repeat(201), 'longer than 200'],
    ] as const) {
      const res = await me.get(`/search?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('text/html');
      const html = await res.text();
      expect(html).toContain(reason);
      expect(html).toContain('action="/search"');
      // Shown back bounded and without control characters.
      expect(html).not.toContain('\u0000');
      expect(html).not.toContain('x'.repeat(201));
    }
    const hostile = await me.get(`/search?q=${encodeURIComponent('<script>alert(1)</script>\u0001')}`);
    expect(hostile.status).toBe(400);
    expect(await hostile.text()).not.toContain('<script>alert(1)');
  });

  it('a deployed commit says with which train and when; an emergency reset marks what it removed', async () => {
    for (const who of ['alice@example.com', 'bob@example.com']) expect((await p.t.api(who, 'verify', 'web')).ok).toBe(true);
    expect(await p.t.api(ADMIN, 'deploy', 'web')).toMatchObject({ ok: true });
    await p.trainIs('web', 1, 'deployed');
    const deployed = await me.html('/search?q=alice%40example.com');
    expect(deployed).toMatch(/deployed with <a href="\/lines\/web\/trains\/1">train #1<\/a> at <time datetime="[^"]+">/);
    // A train started at once with carol's commit (schedule mode): derail it and reset.
    expect(await p.t.api(ADMIN, 'emergency testing the search page', 'web')).toMatchObject({ ok: true });
    await p.t.until('carol removed', async () => (await me.html('/search?q=carol%40example.com')).includes('removed by an emergency reset or a force push'));
    // A removed commit has no train to go to: its full SHA lists it.
    const res = await me.get(`/search?q=${carol}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('removed by an emergency reset');
  });
});
