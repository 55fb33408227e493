import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/http/server.js';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { makeTempDir } from '../support/temp-dirs.js';

const CONFIG = `
timezone: UTC
admins: [admin@example.com]
robots: [bot@example.com]
lines:
  - name: web
    repo: $DIR/web.git
    mode: manual
    build: { command: "echo build $SHA" }
    deploy: { command: "echo deploy $SHA" }
  - name: api
    repo: $DIR/api.git
    build: { command: "true" }
    deploy: { command: "true" }
`;

const TOKEN = 's3cret-token-for-tests';

describe('HTTP API: contracts and bad input', () => {
  let t: RunningApp;
  let base: string;
  const post = (body: string, headers: Record<string, string> = {}) => fetch(`${base}/api/command`, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
  const get = (p: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => fetch(`${base}${p}`, { headers });

  beforeAll(async () => {
    // The repositories must exist before the app starts: make them in a dir the config points at.
    const dir = await makeTempDir('conductor-repos-');
    const log = pino({ level: 'silent' });
    await ensureDemoRepository(path.join(dir, 'web.git'), log);
    await ensureDemoRepository(path.join(dir, 'api.git'), log);
    t = await startTestApp({ files: { 'conductor.yml': CONFIG.replaceAll('$DIR', dir) }, env: { CONDUCTOR_API_TOKEN: TOKEN } });
    base = `http://127.0.0.1:${t.app.port}`;
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('answers health, readiness and metrics', async () => {
    expect((await (await get('/healthz', {})).json()) as any).toEqual({ ok: true });
    const ready = await get('/readyz', {});
    expect(ready.status).toBe(200);
    expect((await ready.json()) as any).toMatchObject({ ok: true, migrations: { pending: [], failed: [] } });
    const metrics = await (await get('/metrics', {})).text();
    expect(metrics).toContain('conductor_platform_commits{line="web"} 0');
    expect(metrics).toContain('# TYPE conductor_outbox_pending gauge');
  });

  it('refuses a missing or wrong bearer token with 401 and changes nothing', async () => {
    expect((await post(JSON.stringify({ user: 'admin@example.com', line: 'web', text: 'mode schedule' }), { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await fetch(`${base}/api/command`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await get('/api/lines/web/status', {})).status).toBe(401);
    const s = (await (await get('/api/lines/web/status')).json()) as any;
    expect(s.mode).toBe('manual');
  });

  it('answers 400 for malformed bodies, naming what is wrong', async () => {
    const cases: [string, string][] = [
      ['{not json', 'not valid JSON'],
      ['[1,2]', 'must be a JSON object'],
      [JSON.stringify({ text: 'status' }), '"user"'],
      [JSON.stringify({ user: 'not-an-email', text: 'status' }), '"user"'],
      [JSON.stringify({ user: 'a@b.c', text: 42 }), '"text"'],
      [JSON.stringify({ user: 'a@b.c', text: 'status', line: 7 }), '"line"'],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect(res.status, body).toBe(400);
      const json = (await res.json()) as any as { ok: boolean; error: string };
      expect(json.ok).toBe(false);
      expect(json.error).toContain(message);
    }
    const big = await post(JSON.stringify({ user: 'a@b.c', text: 'x'.repeat(70_000) }));
    expect(big.status).toBe(413);
  });

  it('answers usage for unknown commands and needs --line where several lines exist', async () => {
    const unknown = (await (await post(JSON.stringify({ user: 'a@b.c', line: 'web', text: 'launch rockets' }))).json()) as any;
    expect(unknown.ok).toBe(false);
    expect(unknown.text).toContain('Unknown command `launch`');
    expect(unknown.text).toContain('/conductor deploy');
    const noLine = (await (await post(JSON.stringify({ user: 'a@b.c', text: 'status' }))).json()) as any;
    expect(noLine).toEqual({ ok: false, text: expect.stringContaining('--line') });
    const viaFlag = (await (await post(JSON.stringify({ user: 'a@b.c', text: 'status --line api' }))).json()) as any;
    expect(viaFlag.ok).toBe(true);
    expect(viaFlag.text).toContain('*api*');
    const missingArg = (await (await post(JSON.stringify({ user: 'a@b.c', line: 'web', text: 'block' }))).json()) as any;
    expect(missingArg.ok).toBe(false);
    expect(missingArg.text).toContain('/conductor block');
  });

  it('refuses unauthorised users politely, says who may, and changes nothing', async () => {
    const before = (await (await get('/api/lines/web/status')).json()) as any;
    const auditBefore = await t.db.prisma.auditEntry.count();
    for (const text of ['mode schedule', 'start', 'emergency', 'freeze add 2026-12-24', 'autotime set mon-fri 09:00-17:00']) {
      const r = (await (await post(JSON.stringify({ user: 'mallory@example.com', line: 'web', text }))).json()) as any;
      expect(r.ok, text).toBe(false);
      expect(r.text, text).toContain('Only admins may');
      expect(r.text, text).toContain('admin@example.com');
    }
    expect((await (await get('/api/lines/web/status')).json()) as any).toEqual(before);
    expect(await t.db.prisma.auditEntry.count()).toBe(auditBefore);
  });

  it('answers 404 for unknown lines and trains, 405 for wrong methods', async () => {
    expect((await get('/api/lines/nope/status')).status).toBe(404);
    expect((await get('/api/lines/web/trains/1')).status).toBe(404);
    expect((await get('/api/lines/web/trains/abc')).status).toBe(404);
    expect((await get('/api/command')).status).toBe(405);
    expect((await get('/nowhere')).status).toBe(404);
  });

  it('shows a train by number in the status shape', async () => {
    const dev = await t.developer(path.join(path.dirname((await t.db.prisma.line.findUniqueOrThrow({ where: { name: 'web' } })).repo), 'web.git'));
    const sha = await dev.commit('carol@example.com', 'A change');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const s = (await (await get('/api/lines/web/status')).json()) as any;
    expect(s.platform).toEqual([{ sha, authorEmail: 'carol@example.com', message: 'A change' }]);
    expect(s.whyIdle).toContain('manual mode');
    const started = (await (await post(JSON.stringify({ user: 'admin@example.com', line: 'web', text: 'start' }))).json()) as any;
    expect(started).toEqual({ ok: true, text: 'Train #1 started with 1 commit.' });
    const train = (await (await get('/api/lines/web/trains/1')).json()) as any;
    expect(train).toMatchObject({ number: 1, headSha: sha, engineer: 'carol@example.com', blocked: null, commits: [{ sha, authorEmail: 'carol@example.com' }] });
    expect(Object.keys(train)).toEqual(expect.arrayContaining(['number', 'state', 'headSha', 'engineer', 'blocked', 'deployable', 'notDeployableReason', 'commits', 'tickets', 'jobs']));
  });

  it('applies a command once per Idempotency-Key, answering the replay with the first reply', async () => {
    const body = JSON.stringify({ user: 'admin@example.com', line: 'api', text: 'freeze add 2027-01-01' });
    const first = (await (await post(body, { 'idempotency-key': 'k-123' })).json()) as any;
    const replay = (await (await post(body, { 'idempotency-key': 'k-123' })).json()) as any;
    expect(first).toEqual({ ok: true, text: '2027-01-01 is now a freeze date. Freeze dates: 2027-01-01.' });
    expect(replay).toEqual(first);
    const without = (await (await post(body)).json()) as any;
    expect(without).toEqual({ ok: false, text: '2027-01-01 is already a freeze date.' });
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'line.freeze-add' } })).toBe(1);
  });

  it('treats only loopback addresses as local when no token is configured', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('10.0.0.5')).toBe(false);
    expect(isLoopback('::ffff:192.168.1.2')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });
});
