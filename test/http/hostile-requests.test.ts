import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/http/router.js';
import { captureLog } from '../store/capture-log.js';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { rawRequest } from '../support/raw-http.js';

const TOKEN = 'hostile-requests-token';

describe('HTTP: no request stops the server', () => {
  let t: RunningApp;
  let port: number;
  const captured = captureLog();
  const alive = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    t = await startTestApp({
      env: { CONDUCTOR_API_TOKEN: TOKEN },
      app: {
        log: captured.log,
        extendRoutes: (router) => {
          router.add('GET', '/test/throws', () => {
            throw new Error('a handler bug');
          });
          router.add('GET', '/test/rejects', async () => {
            await Promise.resolve();
            throw new TypeError('an async handler bug');
          });
          router.add('GET', '/test/refuses', () => {
            throw new HttpError(418, 'refused on purpose');
          });
        },
      },
    });
    port = t.app.port;
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  const badPaths = [
    '/api/lines/%C0%AE/status',
    '/api/lines/%/status',
    '/api/lines/%zz/status',
    '/api/lines/web%/status',
    '/api/lines/%ED%A0%80/status',
    '/api/lines/demo/trains/%E0%80%80',
    '/api/lines/%00/status',
    '/%',
    '/healthz%',
    '/%zz/anything',
  ];

  it.each(badPaths)('answers 400 with a JSON error to %s, with or without a token, and keeps serving', async (target) => {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const res = await rawRequest(port, 'GET', target, { headers });
      expect(res.status, `${target}: ${res.headers}`).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: expect.any(String) });
    }
    // Logged with the reason.
    expect(captured.entries.some((e) => e.msg === 'request refused' && e.status === 400 && typeof e.reason === 'string' && e.url === target)).toBe(true);
    await alive();
  });

  it.each(['//', '//[', '//a:b@c/healthz', '*', 'http://[::1', `/${'a'.repeat(20_000)}`])('answers a 4xx to the odd target %s (new URL throws on some) and keeps serving', async (target) => {
    const res = await rawRequest(port, 'GET', target);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await alive();
  });

  it('answers 400 to a malformed path on POST routes too', async () => {
    const res = await rawRequest(port, 'POST', '/api/command%', { body: '{}' });
    expect(res.status).toBe(400);
    await alive();
  });

  it('answers a body over the limit with 413 every time, never a reset', async () => {
    const big = Buffer.alloc(6 * 1024 * 1024, 0x61);
    for (let i = 0; i < 4; i++) {
      // With a Content-Length, and with chunked encoding (the size is only known while reading).
      const declared = await rawRequest(port, 'POST', '/api/command', { body: big, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(declared.reset).toBe(false);
      expect(declared.status).toBe(413);
      const chunked = await postChunked(port, '/api/command', big);
      expect(chunked).toBe(413);
    }
    await alive();
  });

  it('answers a big body sent to a route that does not read it (404, 405, 401) without a reset', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x62);
    for (let i = 0; i < 3; i++) {
      for (const [method, target, status] of [
        ['POST', '/nowhere', 404],
        ['PUT', '/api/command', 405],
        ['POST', '/api/command', 401],
      ] as const) {
        const res = await rawRequest(port, method, target, { body: big });
        expect(res.reset, `${method} ${target}`).toBe(false);
        expect(res.status).toBe(status);
      }
    }
    await alive();
  });

  it('answers a request the HTTP parser refuses (a raw 0xFF byte in the target) with a JSON 400, never a reset', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x7b);
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(port, 'POST', '/api/command?a=\u00ff', { body: big });
      expect(res.reset).toBe(false);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({ ok: false, error: 'malformed HTTP request' });
    }
    await alive();
  });

  it('answers 500 to a handler that throws, with a request id in the log, and keeps serving', async () => {
    for (const p of ['/test/throws', '/test/rejects']) {
      const res = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { 'x-request-id': 'req-1234' } });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ ok: false, error: 'internal error; see the log' });
    }
    expect((await fetch(`http://127.0.0.1:${port}/test/refuses`)).status).toBe(418);
    const failed = captured.entries.filter((e) => e.msg === 'request failed' && e.requestId === 'req-1234');
    expect(failed.map((e) => (e.err as { message: string }).message)).toEqual(['a handler bug', 'an async handler bug']);
    await alive();
  });
});

/** A chunked POST through fetch (a stream body has no Content-Length). */
async function postChunked(port: number, path: string, body: Buffer): Promise<number> {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let at = 0; at < body.length; at += 256 * 1024) c.enqueue(body.subarray(at, at + 256 * 1024));
      c.close();
    },
  });
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    body: stream,
    headers: { authorization: `Bearer ${TOKEN}` },
    duplex: 'half',
  } as RequestInit);
  await res.text();
  return res.status;
}

describe('process guards', () => {
  it('keep the process serving after an unhandled rejection and an uncaught exception, and log both', async () => {
    const script = `
      import pino from 'pino';
      import { installProcessGuards } from './src/process-guards.ts';
      installProcessGuards(pino(), { stop: () => { console.log('STOPPED'); process.exit(3); } });
      Promise.reject(new Error('nobody awaited me'));
      setTimeout(() => { throw new Error('thrown in a timer'); }, 10);
      setTimeout(() => { console.log('STILL ALIVE'); process.exit(0); }, 300);
    `;
    const { code, out } = await runTsx(script);
    expect(out).toContain('nobody awaited me');
    expect(out).toContain('thrown in a timer');
    expect(out).toContain('STILL ALIVE');
    expect(code).toBe(0);
  }, 30_000);

  it('stop cleanly when uncaught exceptions keep coming', async () => {
    const script = `
      import pino from 'pino';
      import { installProcessGuards } from './src/process-guards.ts';
      installProcessGuards(pino(), { maxUncaught: 3, stop: () => { console.log('STOPPED'); process.exit(3); } });
      for (let i = 0; i < 5; i++) setTimeout(() => { throw new Error('again ' + i); }, 5 * i);
      setTimeout(() => process.exit(0), 1000);
    `;
    const { code, out } = await runTsx(script);
    expect(out).toContain('uncaught exceptions keep coming');
    expect(out).toContain('STOPPED');
    expect(code).toBe(3);
  }, 30_000);
});

function runTsx(script: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('close', (code) => resolve({ code, out }));
  });
}
