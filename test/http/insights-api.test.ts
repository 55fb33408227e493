// GET /api/lines/<line>/insights?days= (docs/behaviour.md §5, §7) over real
// HTTP: the SPEC shape, the period, and the command API's auth rule (a bearer
// token when one is configured, else the loopback interface only).
import http from 'node:http';
import os from 'node:os';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/http/server.js';
import { ADMIN, engineHarness, type Harness } from '../support/engine-harness.js';

const TOKEN = 'insights-api-token-for-tests';
const ALICE = 'alice@example.com';
const T = Date.parse('2026-11-20T09:00:00Z');

/** An address of this machine that is not loopback: a request to it does not come from 127.0.0.1. */
const external = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

let h: Harness;
let withToken: Awaited<ReturnType<typeof startHttpServer>>;
let loopbackOnly: Awaited<ReturnType<typeof startHttpServer>>;
/** No token, listening on the machine's other interface only (never on every interface). */
let onExternal: Awaited<ReturnType<typeof startHttpServer>> | undefined;

beforeAll(async () => {
  h = await engineHarness({
    start: new Date(T),
    lines: [
      { name: 'web', mode: 'manual' },
      { name: 'api', mode: 'manual' },
    ],
  });
  await h.push('web', [ALICE]);
  h.set(new Date(T + 30 * 60_000));
  expect((await h.cmd(ADMIN, 'start', 'web')).ok).toBe(true);
  await h.finishJob('web', 1, 'build');
  expect((await h.cmd(ALICE, 'verify', 'web')).ok).toBe(true);
  expect((await h.cmd(ADMIN, 'deploy', 'web')).ok).toBe(true);
  h.set(new Date(T + 60 * 60_000));
  await h.finishJob('web', 1, 'deploy');
  h.set(new Date(T + 24 * 3600_000));
  const log = pino({ level: 'silent' });
  withToken = await startHttpServer({ port: 0, host: '127.0.0.1', engine: h.engine, pool: h.db.pool, log, apiToken: TOKEN });
  loopbackOnly = await startHttpServer({ port: 0, host: '127.0.0.1', engine: h.engine, pool: h.db.pool, log });
  if (external) onExternal = await startHttpServer({ port: 0, host: external, engine: h.engine, pool: h.db.pool, log });
}, 60_000);
afterAll(async () => {
  await withToken?.close();
  await loopbackOnly?.close();
  await onExternal?.close();
  await h?.close();
});

function get(host: string, port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
}

describe('GET /api/lines/<line>/insights', () => {
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('answers the SPEC shape (default 30 days), with the page’s extra figures', async () => {
    const { status, body } = await get('127.0.0.1', withToken.port, '/api/lines/web/insights', bearer);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      days: 30,
      deployments: 1,
      deploymentsPerDay: 0.03,
      // The commit was first seen at T and deployed at T+1h.
      leadTimeSeconds: { p50: 3600, p90: 3600 },
      changeFailureRate: 0,
      timeToRestoreSeconds: { p50: null },
      line: 'web',
      bucket: 'day',
      steps: { deploySeconds: { p50: 1800, p90: 1800 } },
    });
    expect(body.trend).toHaveLength(31);
  });

  it('takes days=7, 90, 365; refuses anything else with 400; an unknown line is 404', async () => {
    for (const days of [7, 90, 365]) expect((await get('127.0.0.1', withToken.port, `/api/lines/web/insights?days=${days}`, bearer)).body.days).toBe(days);
    const none = await get('127.0.0.1', withToken.port, '/api/lines/api/insights?days=7', bearer);
    expect(none.body).toMatchObject({ deployments: 0, deploymentsPerDay: 0, leadTimeSeconds: { p50: null, p90: null }, changeFailureRate: null, timeToRestoreSeconds: { p50: null } });
    for (const bad of ['0', '366', 'x', '7.5', '-1']) {
      const r = await get('127.0.0.1', withToken.port, `/api/lines/web/insights?days=${bad}`, bearer);
      expect(r.status, bad).toBe(400);
      expect(r.body.error).toContain('days: must be a whole number from 1 to 365');
    }
    expect((await get('127.0.0.1', withToken.port, '/api/lines/nope/insights', bearer)).status).toBe(404);
  });

  it('with a token: 401 without it or with a wrong one', async () => {
    expect((await get('127.0.0.1', withToken.port, '/api/lines/web/insights')).status).toBe(401);
    expect((await get('127.0.0.1', withToken.port, '/api/lines/web/insights', { authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('without a token: loopback answers', async () => {
    expect((await get('127.0.0.1', loopbackOnly.port, '/api/lines/web/insights')).status).toBe(200);
  });

  it.skipIf(!external)('without a token: another interface gets 403', async () => {
    const r = await get(external!, onExternal!.port, '/api/lines/web/insights');
    expect(r.status).toBe(403);
    expect(r.body.error).toContain('loopback');
  });
});
