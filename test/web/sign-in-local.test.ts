import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { signIn } from '../support/web-client.js';

let app: RunningApp;
let base: string;
beforeAll(async () => {
  app = await startTestApp();
  base = app.app.url;
});
afterAll(() => app?.stop());

describe('the local sign-in (no issuer configured)', () => {
  test('a page asks for sign-in and comes back to where it was asked', async () => {
    const res = await fetch(`${base}/lines/demo?x=1`, { redirect: 'manual' });
    // Unknown routes are 404 for everyone; the overview is a page.
    const home = await fetch(`${base}/`, { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/auth/login?next=%2F');
    expect([303, 404]).toContain(res.status);
  });

  test('the form says it is the local mode, and signing in shows the lines with my email', async () => {
    const form = await fetch(`${base}/auth/login?next=/`);
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('Local mode');
    expect(html).toContain('action="/auth/local"');
    const me = await signIn(base, 'Alice@Example.com');
    const page = await me.html('/');
    expect(page).toContain('alice@example.com');
    expect(page).toContain('href="/lines/demo"');
  });

  test('the session cookie is sealed, HttpOnly, SameSite=Lax, 12 hours, not Secure on http', async () => {
    const res = await fetch(`${base}/auth/local`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({ email: 'bob@example.com', next: '/history' }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/history');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('conductor_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i);
    expect(cookie).toMatch(/Max-Age=4\d{4}/); // 12 h = 43200 s, minus iron-session's 60 s skew
    expect(cookie).not.toContain('bob@example.com');
  });

  test('a sign-in post without our Origin, or to another site after sign-in, is refused', async () => {
    for (const origin of [undefined, 'null', 'https://evil.example']) {
      const res = await fetch(`${base}/auth/local`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
        body: new URLSearchParams({ email: 'mallory@example.com' }),
      });
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    const res = await fetch(`${base}/auth/local`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({ email: 'carol@example.com', next: '//evil.example/x' }),
    });
    expect(res.headers.get('location')).toBe('/');
  });

  test('a bad email gets the form again with the reason, and no session', async () => {
    const res = await fetch(`${base}/auth/local`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({ email: '<script>alert(1)</script>' }),
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('That is not an email address');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script>alert(1)&lt;/script>');
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  test('every page carries the security headers', async () => {
    const me = await signIn(base, 'dave@example.com');
    for (const res of [await me.get('/'), await fetch(`${base}/auth/login`)]) {
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
    }
  });

  test('sign out needs the CSRF token and our Origin, then ends the session', async () => {
    const me = await signIn(base, 'erin@example.com');
    expect((await me.post('/auth/logout', { _csrf: 'wrong' })).status).toBe(403);
    expect((await me.post('/auth/logout', {}, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await me.get('/')).status).toBe(200);
    const out = await me.post('/auth/logout');
    expect(out.status).toBe(303);
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith('conductor_session='))!;
    expect(cleared).toMatch(/Max-Age=0/);
  });

  test('assets are content-hashed and cached for a year; an unknown one is 404', async () => {
    const me = await signIn(base, 'frank@example.com');
    const page = await me.html('/');
    const css = /href="(\/assets\/app\.[0-9a-f]{12}\.css)"/.exec(page)![1]!;
    const js = /src="(\/assets\/app\.[0-9a-f]{12}\.js)"/.exec(page)![1]!;
    for (const url of [css, js]) {
      const res = await fetch(`${base}${url}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toContain('immutable');
    }
    expect((await fetch(`${base}/assets/app.000000000000.js`)).status).toBe(404);
  });
});
