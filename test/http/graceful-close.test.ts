// Stopping the HTTP server finishes what it started: a request in flight gets its
// answer, idle keep-alive connections do not hold the stop, and a request that
// outlives the grace period is cut then.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { sendJson } from '../../src/http/router.js';
import { startHttpServer } from '../../src/http/server.js';

async function serverWithSlowRoute(ms: number, closeGraceMs?: number) {
  let arrived!: () => void;
  const inside = new Promise<void>((r) => (arrived = r));
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    engine: { deps: {}, lines: new Map() } as unknown as Engine, // not used by these routes
    pool: {} as never,
    log: pino({ level: 'silent' }),
    closeGraceMs,
    extend: (router) =>
      router.add('GET', '/slow', async ({ res }) => {
        arrived();
        await new Promise((r) => setTimeout(r, ms));
        sendJson(res, 200, { ok: true });
      }),
  });
  return { server, inside, url: `http://127.0.0.1:${server.port}` };
}

describe('HTTP server stop', () => {
  it('lets a request in flight finish with its answer, and an idle keep-alive connection does not delay the stop', async () => {
    const { server, inside, url } = await serverWithSlowRoute(300);
    // A keep-alive connection left idle (fetch keeps its sockets open).
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const slow = fetch(`${url}/slow`);
    await inside;

    const started = Date.now();
    const closed = server.close();
    const res = await slow;

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    await closed;
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('cuts a request that outlives the grace period', async () => {
    const { server, inside, url } = await serverWithSlowRoute(10_000, 200);
    const slow = fetch(`${url}/slow`).then(
      () => 'answered',
      () => 'cut',
    );
    await inside;

    const started = Date.now();
    await server.close();

    expect(await slow).toBe('cut');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
