// JSON for scripts (docs/behaviour.md §5): GET /api/lines, /api/search, /api/history
// on a real engine and PostgreSQL, over real HTTP.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/http/server.js';
import { ADMIN, engineHarness, type Harness } from '../support/engine-harness.js';

const TOKEN = 'read-api-token-for-tests';
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

describe('GET /api/lines, /api/search, /api/history', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let base: string;
  let webShas: string[];
  let apiShas: string[];
  const get = async (p: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => {
    const res = await fetch(`${base}${p}`, { headers });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    h = await engineHarness({ lines: [{ name: 'web' }, { name: 'api', mode: 'manual' }] });
    // web: a train starts with alice's and bob's commits; then one more waits on the platform.
    webShas = await h.push('web', [ALICE, BOB], 'Fix the 100% CPU loop in "checkout_v2"');
    webShas.push(...(await h.push('web', [BOB], 'Add dark mode')));
    await h.finishJob('web', 1, 'build');
    expect((await h.cmd(ALICE, 'verify', 'web')).ok).toBe(true);
    apiShas = await h.push('api', ['Carol@Example.com'], 'Add dark mode toggle to the API docs');
    server = await startHttpServer({ port: 0, host: '127.0.0.1', engine: h.engine, pool: h.db.pool, log: pino({ level: 'silent' }), apiToken: TOKEN });
    base = `http://127.0.0.1:${server.port}`;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await h?.close();
  });

  it('/api/lines: one summary per line with the fields of the overview', async () => {
    const { status, body } = await get('/api/lines');
    expect(status).toBe(200);
    expect(body).toEqual({
      lines: [
        {
          line: 'web',
          mode: 'schedule',
          manualReason: null,
          manualSetBy: null,
          inAutoTime: true,
          whyIdle: null,
          train: {
            number: 1,
            state: 'verifying',
            engineer: expect.any(String),
            verified: { done: 1, total: 2 },
            deployable: false,
            notDeployableReason: expect.any(String),
            // Added for the overview page: /api/lines only ever gains fields.
            headSha: webShas[1],
            commitCount: 2,
            blocked: null,
            jobProblem: null,
          },
          platformSize: 1,
          production: null,
        },
        {
          line: 'api',
          mode: 'manual',
          manualReason: null,
          manualSetBy: null,
          inAutoTime: true,
          whyIdle: expect.stringContaining('manual mode'),
          train: null,
          platformSize: 1,
          production: null,
        },
      ],
    });
  });

  it('/api/search: a SHA prefix, any case, answers the SPEC shape', async () => {
    const { status, body } = await get(`/api/search?q=${webShas[0]!.slice(0, 7).toUpperCase()}`);
    expect(status).toBe(200);
    expect(body.results).toContainEqual({
      sha: webShas[0],
      authorEmail: ALICE,
      message: expect.stringContaining('100% CPU'),
      line: 'web',
      where: 'train',
      train: 1,
      trainState: 'verifying',
      deployedAt: null,
    });
    for (const r of body.results) expect(r.sha.startsWith(webShas[0]!.slice(0, 7)) || r.message.toLowerCase().includes(webShas[0]!.slice(0, 7))).toBe(true);
    const exact = await get(`/api/search?q=${webShas[2]}`);
    expect(exact.body.results).toEqual([
      { sha: webShas[2], authorEmail: BOB, message: expect.stringContaining('Add dark mode'), line: 'web', where: 'platform', train: null, trainState: null, deployedAt: null },
    ]);
  });

  it('/api/search: an author email, exact and ignoring case, newest first', async () => {
    const { body } = await get('/api/search?q=BOB%40example.com');
    expect(body.results.map((r: any) => r.sha)).toEqual([webShas[2], webShas[1]]);
    expect((await get('/api/search?q=carol%40example.com')).body.results.map((r: any) => r.sha)).toEqual(apiShas);
    expect((await get('/api/search?q=ob%40example.com')).body.results).toEqual([]);
  });

  it('/api/search: every word must occur, ignoring case, across lines', async () => {
    const both = await get('/api/search?q=dark+MODE');
    expect(both.body.results.map((r: any) => [r.line, r.sha])).toEqual([
      ['api', apiShas[0]],
      ['web', webShas[2]],
    ]);
    expect((await get('/api/search?q=dark+toggle')).body.results.map((r: any) => r.sha)).toEqual(apiShas);
    expect((await get('/api/search?q=dark+nothing')).body.results).toEqual([]);
  });

  it('/api/search: % _ and quotes are literal text, never patterns or SQL', async () => {
    // "100%" matches only the message that holds "100%", not every message starting "100".
    expect((await get('/api/search?q=100%25')).body.results.map((r: any) => r.sha).sort()).toEqual([webShas[0], webShas[1]].sort());
    expect((await get('/api/search?q=%25')).body.results).toHaveLength(2);
    expect((await get('/api/search?q=_')).body.results).toHaveLength(2); // checkout_v2 only
    expect((await get('/api/search?q=%22checkout_v2%22')).body.results).toHaveLength(2);
    expect((await get(`/api/search?q=${encodeURIComponent("x' OR '1'='1")}`)).body.results).toEqual([]);
    expect((await get('/api/search?q=%5C')).body.results).toEqual([]);
    expect((await get('/api/search?q=checkout%5Fv2')).status).toBe(200);
  });

  it('/api/search: a missing, empty, too long or control-character q is a 400 that says why', async () => {
    for (const q of ['', '?q=', '?q=%20%20', `?q=${'a'.repeat(201)}`, '?q=a%00b', '?q=%0A%01']) {
      const { status, body } = await get(`/api/search${q}`);
      expect(status, q).toBe(400);
      expect(body.ok).toBe(false);
      expect(body.error).toMatch(/^q /);
    }
    expect((await get(`/api/search?q=${'a'.repeat(200)}`)).status).toBe(200);
  });

  it('/api/history: entries in the words of /conductor history, with filters', async () => {
    await h.cmd(ADMIN, 'block waiting for the DB migration', 'web');
    await h.cmd(ADMIN, 'unblock', 'web');
    await h.cmd(ADMIN, 'mode schedule', 'api');
    const { status, body } = await get('/api/history');
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['entries', 'next']);
    expect(body.next).toBeNull();
    // Schedule mode starts a train on api at once: the newest entry.
    expect(body.entries[0]).toMatchObject({ line: 'api', action: 'train.created', train: 1 });
    expect(body.entries[1]).toEqual({
      at: h.now().toISOString(),
      line: 'api',
      actor: ADMIN,
      action: 'line.mode',
      train: null,
      text: `${ADMIN} switched the line from manual to schedule mode.`,
    });
    expect(body.entries[2]).toMatchObject({ line: 'web', action: 'train.unblocked', train: 1, text: `${ADMIN} unblocked train #1 (it was blocked: waiting for the DB migration).` });
    const web = await get('/api/history?line=web&actor=ADMIN%40example.com');
    expect(web.body.entries.map((e: any) => e.action)).toEqual(['train.unblocked', 'train.blocked']);
    const exact = await get('/api/history?action=train.blocked');
    expect(exact.body.entries.map((e: any) => e.action)).toEqual(['train.blocked']);
    const family = await get('/api/history?action=train.');
    expect(family.body.entries.length).toBeGreaterThanOrEqual(3);
    expect(family.body.entries.every((e: any) => e.action.startsWith('train.'))).toBe(true);
    const system = await get('/api/history?actor=conductor&line=web');
    expect(system.body.entries.length).toBeGreaterThan(0);
    expect(system.body.entries.every((e: any) => e.actor === 'conductor' && e.line === 'web')).toBe(true);
    expect(system.body.entries.find((e: any) => e.action === 'train.created').text).toMatch(/^Conductor started train #1 with 2 commits/);
  });

  it('/api/history: pages follow `next` to the end, without repeats or gaps', async () => {
    const all = (await get('/api/history?limit=200')).body.entries;
    expect(all.length).toBeGreaterThanOrEqual(5);
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/api/history?limit=2${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`;
      const { status, body } = await get(q);
      expect(status).toBe(200);
      expect(body.entries.length).toBeLessThanOrEqual(2);
      seen.push(...body.entries);
      cursor = body.next;
      pages++;
    } while (cursor !== null && pages < 50);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(all);
  });

  it('/api/history: a wrong parameter is a 400 naming it', async () => {
    const cases: [string, string][] = [
      ['line=nope', 'line'],
      ['actor=not-an-email', 'actor'],
      ['action=%25', 'action'],
      ['action=train.derailed%27', 'action'],
      ['before=abc', 'before'],
      ['before=-1', 'before'],
      ['before=99999999999999999999', 'before'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=1.5', 'limit'],
      ['line=web%00', 'line'],
    ];
    for (const [q, name] of cases) {
      const { status, body } = await get(`/api/history?${q}`);
      expect(status, q).toBe(400);
      expect(body.error, q).toMatch(new RegExp(`^${name}:`));
    }
  });

  it('all three need the bearer token when one is set', async () => {
    for (const p of ['/api/lines', '/api/search?q=abcd', '/api/history']) {
      expect((await get(p, {})).status, p).toBe(401);
      expect((await get(p, { authorization: 'Bearer wrong' })).status, p).toBe(401);
    }
  });

  it('a deployed commit says so: its train, the train state and when; the line shows production', async () => {
    expect((await h.cmd(BOB, 'verify', 'web')).ok).toBe(true);
    expect((await h.cmd(ALICE, 'deploy', 'web')).ok).toBe(true);
    await h.finishJob('web', 1, 'deploy');
    const { body } = await get(`/api/search?q=${webShas[1]}`);
    expect(body.results).toEqual([
      { sha: webShas[1], authorEmail: BOB, message: expect.any(String), line: 'web', where: 'deployed', train: 1, trainState: 'deployed', deployedAt: h.now().toISOString() },
    ]);
    const web = (await get('/api/lines')).body.lines[0];
    expect(web.production).toEqual({ number: 1, headSha: webShas[1], since: h.now().toISOString(), by: ALICE, rolledBackFrom: null });
  });
});

describe('the read API without a token', () => {
  // Non-loopback callers are refused by the same `authorise` as the command API (its address rule is tested in
  // api.test.ts); tests send traffic to loopback addresses only.
  it('answers loopback callers', async () => {
    const h = await engineHarness();
    const server = await startHttpServer({ port: 0, host: '127.0.0.1', engine: h.engine, pool: h.db.pool, log: pino({ level: 'silent' }) });
    try {
      for (const p of ['/api/lines', '/api/search?q=abcd', '/api/history']) expect((await fetch(`http://127.0.0.1:${server.port}${p}`)).status, p).toBe(200);
    } finally {
      await server.close();
      await h.close();
    }
  });
});
