/**
 * An event stream lives for hours: Node's request timeouts must not cut it.
 * `server.requestTimeout` (300 s by default) bounds receiving a request only,
 * and a GET is received once its headers are in. Checked here with timeouts
 * shortened to fractions of a second, on the real route and real sessions.
 */
import http from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Router } from '../../src/http/router.js';
import { Sessions } from '../../src/web/auth/session.js';
import { LiveEvents } from '../../src/web/live/events.js';
import { openEvents } from '../support/sse-client.js';
import { cookieOf } from '../support/web-client.js';

describe('an event stream outlives the HTTP server timeouts', () => {
  let server: http.Server;
  let base: string;
  let live: LiveEvents;
  beforeAll(async () => {
    const sessions = new Sessions({ secret: 'a-test-secret-of-at-least-32-characters!', publicUrl: 'http://127.0.0.1' });
    live = new LiveEvents(sessions, { heartbeatMs: 200 });
    const router = new Router();
    live.routes(router);
    router.add('POST', '/sign-in', async ({ req, res }) => {
      await sessions.signIn(req, res, 'alice@example.com');
      res.end();
    });
    server = http.createServer({ requestTimeout: 500, headersTimeout: 400, keepAliveTimeout: 300, connectionsCheckingInterval: 50 }, (req, res) => {
      const found = router.match(req.method ?? 'GET', new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
      if (!found || !('route' in found)) return void res.writeHead(404).end();
      void Promise.resolve(found.route.handler({ req, res, params: found.params, log: pino({ level: 'silent' }) })).catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    live.stop();
    await new Promise((r) => server.close(r));
  });

  test('still open and receiving after three times the request timeout', async () => {
    const cookie = cookieOf(await fetch(`${base}/sign-in`, { method: 'POST' }));
    const s = await openEvents(base, { cookie });
    expect(s.status).toBe(200);
    let ended = false;
    void s.ended.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(ended).toBe(false);
    live.publish({ id: 1, line: 'web', train: 2 });
    const e = await s.next((m) => m.event === 'change', 1_000);
    expect(JSON.parse(e.data!)).toEqual({ line: 'web', train: 2 });
    expect(s.messages.filter((m) => m.type === 'comment').length).toBeGreaterThanOrEqual(5);
    s.close();
  });
});
