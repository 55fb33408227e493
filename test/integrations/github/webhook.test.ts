import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import type { NewCommits } from '../../../src/engine/ports/code-host.js';
import { type GithubWebhookOptions, githubWebhookHandler } from '../../../src/http/github-webhook.js';
import { startHttpServer } from '../../../src/http/server.js';
import { githubSignature } from '../../../src/integrations/github/signature.js';
import { fakeSha, pushPayload, signedPush, ZERO_SHA } from '../../support/fake-github.js';

const SECRET = 'webhook-secret';
const before = fakeSha(0xa0, 'a');

function commits(n: number, from = 1) {
  return Array.from({ length: n }, (_, i) => ({ sha: fakeSha(from + i), authorName: `Dev ${i}`, authorEmail: `dev${i}@example.com`, message: `change ${from + i}` }));
}

interface Recorded {
  line: string;
  sinceSha: string;
  found: NewCommits;
  inputKey: string;
}

/** The handler on the real HTTP server (startHttpServer's router and error handling), with recording ports. */
function recorder() {
  const recorded: Recorded[] = [];
  const keys = new Set<string>();
  const fetches: string[] = [];
  let fetchGate: Promise<void> = Promise.resolve();
  return {
    recorded,
    fetches,
    /** Makes fetchNow slow, to show the answer does not wait for it. */
    slowFetch(ms: number) {
      fetchGate = new Promise((r) => setTimeout(r, ms));
    },
    opts: {
      secret: SECRET,
      lines: [
        { name: 'web', repo: 'Acme/Web', branch: 'main' },
        { name: 'api', repo: 'acme/api', branch: 'release' },
      ],
      // Mimics recordCommits' keyed dedupe (processed_input): a replayed key does nothing.
      record: async (line, sinceSha, found, inputKey) => {
        if (keys.has(inputKey)) return { ok: true, text: 'Already done.', duplicate: true };
        keys.add(inputKey);
        recorded.push({ line, sinceSha, found, inputKey });
        return { ok: true, text: 'recorded' };
      },
      fetchNow: async (line) => {
        await fetchGate;
        fetches.push(line);
      },
      log: pino({ level: 'silent' }),
    } satisfies GithubWebhookOptions,
  };
}

let server: Awaited<ReturnType<typeof startHttpServer>>;
let ports: ReturnType<typeof recorder>;
let url: string;

beforeAll(async () => {
  ports = recorder();
  server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    engine: { deps: {}, lines: new Map() } as unknown as Engine, // not used by this route
    pool: {} as never,
    log: pino({ level: 'silent' }),
    extend: (router) => router.add('POST', '/webhooks/github', githubWebhookHandler(ports.opts)),
  });
  url = `http://127.0.0.1:${server.port}/webhooks/github`;
});
afterAll(() => server.close());
afterEach(() => {
  ports.recorded.length = 0;
  ports.fetches.length = 0;
});

async function post(req: { body: string; headers: Record<string, string> }) {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', body: req.body, headers: req.headers });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, json, ms: performance.now() - started };
}

const push = (extra: Partial<Parameters<typeof pushPayload>[0]> = {}) => pushPayload({ repo: 'acme/web', branch: 'main', before, after: fakeSha(3), commits: commits(3), ...extra });

describe('POST /webhooks/github', () => {
  it('records a plain push once, keyed by the delivery, and answers 200 quickly', async () => {
    const r = await post(signedPush(SECRET, push(), 'delivery-1'));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true, lines: ['web'], commits: 3 });
    expect(r.ms).toBeLessThan(200);
    expect(ports.recorded).toEqual([{ line: 'web', sinceSha: before, inputKey: 'github:delivery-1', found: { headSha: fakeSha(3), rewritten: false, commits: commits(3) } }]);
    expect(ports.fetches).toEqual([]);
  });

  it('makes a redelivery of the same X-GitHub-Delivery a no-op', async () => {
    const req = signedPush(SECRET, push({ commits: commits(1, 10), after: fakeSha(10) }), 'delivery-redo');
    expect((await post(req)).status).toBe(200);
    expect((await post(req)).status).toBe(200);
    expect(ports.recorded.map((r) => r.inputKey)).toEqual(['github:delivery-redo']);
  });

  it('matches the repository case-insensitively and the branch exactly', async () => {
    const r = await post(signedPush(SECRET, pushPayload({ repo: 'ACME/API', branch: 'release', before, after: fakeSha(1), commits: commits(1) })));
    expect(r.status).toBe(200);
    expect(ports.recorded.map((x) => x.line)).toEqual(['api']);
    const other = await post(signedPush(SECRET, pushPayload({ repo: 'acme/api', branch: 'Release', before, after: fakeSha(1), commits: commits(1) })));
    expect(other).toMatchObject({ status: 202, json: { ok: true, ignored: 'no line watches acme/api@Release' } });
  });

  describe('refuses bad input and records nothing', () => {
    it('401 without a signature', async () => {
      const req = signedPush(SECRET, push());
      delete req.headers['x-hub-signature-256'];
      expect(await post(req)).toMatchObject({ status: 401, json: { ok: false, error: 'missing X-Hub-Signature-256' } });
    });

    it('401 with a signature made with another secret', async () => {
      expect(await post(signedPush('not-the-secret', push()))).toMatchObject({ status: 401, json: { error: 'X-Hub-Signature-256 does not match the body' } });
    });

    it('401 when the body was changed after signing', async () => {
      const req = signedPush(SECRET, push());
      req.body = req.body.replace('change 1', 'change X');
      expect((await post(req)).status).toBe(401);
    });

    it('401 with a malformed signature header', async () => {
      const req = signedPush(SECRET, push());
      req.headers['x-hub-signature-256'] = 'sha1=abc';
      expect(await post(req)).toMatchObject({ status: 401, json: { error: 'malformed X-Hub-Signature-256' } });
    });

    it('401 comes before any other check (no delivery, no event, not JSON)', async () => {
      expect((await post({ body: 'nope', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    });

    it('400 without X-GitHub-Delivery', async () => {
      const req = signedPush(SECRET, push());
      delete req.headers['x-github-delivery'];
      expect(await post(req)).toMatchObject({ status: 400, json: { ok: false } });
    });

    it('400 on a body that is not JSON', async () => {
      const body = '{"ref": ';
      const req = { body, headers: { ...signedPush(SECRET, {}).headers, 'x-hub-signature-256': githubSignature(body, SECRET) } };
      expect(await post(req)).toMatchObject({ status: 400, json: { error: 'the body is not valid JSON' } });
    });

    it('400 on a malformed push payload, naming the field', async () => {
      const r = await post(signedPush(SECRET, { ...push(), after: 42 }));
      expect(r).toMatchObject({ status: 400, json: { ok: false, error: 'malformed push payload: after must be a string' } });
    });

    afterEach(() => {
      expect(ports.recorded).toEqual([]);
      expect(ports.fetches).toEqual([]);
    });
  });

  describe('ignores what no line needs', () => {
    it('answers ping with the zen', async () => {
      const r = await post(signedPush(SECRET, { zen: 'Keep it logically awesome.', hook_id: 1 }, 'd-ping', 'ping'));
      expect(r).toMatchObject({ status: 200, json: { ok: true, zen: 'Keep it logically awesome.' } });
    });

    it('202 for other events', async () => {
      expect(await post(signedPush(SECRET, { action: 'opened' }, 'd-pr', 'pull_request'))).toMatchObject({ status: 202, json: { ok: true, ignored: 'pull_request' } });
    });

    it('202 for a repository no line watches', async () => {
      const r = await post(signedPush(SECRET, push({ repo: 'acme/other' })));
      expect(r).toMatchObject({ status: 202, json: { ok: true, ignored: 'no line watches acme/other@main' } });
    });

    it('202 for another branch of a watched repository', async () => {
      expect((await post(signedPush(SECRET, push({ branch: 'feature/x' })))).status).toBe(202);
    });

    it('202 for a tag', async () => {
      const r = await post(signedPush(SECRET, push({ ref: 'refs/tags/v1', before: ZERO_SHA, commits: [], created: true })));
      expect(r).toMatchObject({ status: 202, json: { ignored: 'not a branch: refs/tags/v1' } });
    });

    it('202 for a deletion of the watched branch', async () => {
      const r = await post(signedPush(SECRET, push({ after: ZERO_SHA, commits: [], deleted: true })));
      expect(r).toMatchObject({ status: 202, json: { ok: true, ignored: 'branch deleted' } });
    });

    afterEach(async () => {
      await new Promise((r) => setTimeout(r, 20));
      expect(ports.recorded).toEqual([]);
      expect(ports.fetches).toEqual([]);
    });
  });

  describe('leaves incomplete or rewritten pushes to a background git fetch', () => {
    it.each<[string, Partial<Parameters<typeof pushPayload>[0]>, string]>([
      ['a forced push', { forced: true }, 'forced'],
      ['a push of 20 commits (the payload cap)', { commits: commits(20), after: fakeSha(20) }, 'truncated'],
      ['a created branch', { before: ZERO_SHA, created: true }, 'created'],
      ['a push listing no commits', { commits: [] }, 'no commits listed'],
    ])('%s: 202 at once, fetch afterwards', async (_, extra, why) => {
      ports.slowFetch(500);
      const r = await post(signedPush(SECRET, push(extra)));
      expect(r).toMatchObject({ status: 202, json: { ok: true, lines: ['web'], fetching: why } });
      expect(r.ms).toBeLessThan(200);
      expect(ports.fetches).toEqual([]); // not waited for
      await expect.poll(() => ports.fetches, { timeout: 2000 }).toEqual(['web']);
      expect(ports.recorded).toEqual([]);
    });
  });

  it('answers 500 when recording fails, so GitHub can redeliver', async () => {
    const failing = { ...ports.opts, record: async () => Promise.reject(new Error('database down')) };
    const s = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      engine: { deps: {}, lines: new Map() } as unknown as Engine,
      pool: {} as never,
      log: pino({ level: 'silent' }),
      extend: (router) => router.add('POST', '/webhooks/github', githubWebhookHandler(failing)),
    });
    try {
      const req = signedPush(SECRET, push());
      const res = await fetch(`http://127.0.0.1:${s.port}/webhooks/github`, { method: 'POST', body: req.body, headers: req.headers });
      expect(res.status).toBe(500);
    } finally {
      await s.close();
    }
  });
});
