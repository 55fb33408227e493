/**
 * A session ends 12 hours after sign-in however active it is: with the clock
 * moved past that, the same (still sealed, still unexpired-by-the-browser)
 * cookie no longer signs anyone in, and a page sends the person to sign in again.
 */
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import { h } from 'preact';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadAssets } from '../../src/web/assets.js';
import { SESSION_HOURS, Sessions } from '../../src/web/auth/session.js';
import { page, type WebContext } from '../../src/web/context.js';

let now = Date.parse('2026-03-02T09:00:00Z');
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const log = pino({ level: 'silent' });
  const sessions = new Sessions({ secret: 'a-session-secret-of-at-least-32-characters!', publicUrl: base, clock: () => now });
  // No engine: this page reads nothing from it.
  const web: WebContext = { sessions, assets: loadAssets(), log, publicUrl: base, engine: undefined as never, secret: 'a-session-secret-of-at-least-32-characters!' };
  const home = page(web, ({ me }) => ({ title: 'Home', body: h('p', null, `signed in as ${me.email}`) }));
  server.on('request', async (req, res) => {
    if (req.url === '/in') {
      await sessions.signIn(req, res, 'Ada@Example.com');
      res.end('ok');
    } else await home({ req, res, params: {}, log });
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('after 12 hours the cookie no longer signs in: the page sends me to sign in again', async () => {
  const signIn = await fetch(`${base}/in`);
  const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
  const ok = await fetch(`${base}/x?y=1`, { headers: { cookie }, redirect: 'manual' });
  expect(ok.status).toBe(200);
  expect(await ok.text()).toContain('signed in as ada@example.com');

  now += SESSION_HOURS * 3600_000 - 60_000; // still inside
  expect((await fetch(`${base}/x?y=1`, { headers: { cookie }, redirect: 'manual' })).status).toBe(200);

  now += 2 * 60_000; // past 12 hours
  const expired = await fetch(`${base}/x?y=1`, { headers: { cookie }, redirect: 'manual' });
  expect(expired.status).toBe(303);
  expect(expired.headers.get('location')).toBe('/auth/login?next=%2Fx%3Fy%3D1');
});
