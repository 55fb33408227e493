/**
 * Hostile input, generated: malformed paths, bodies, encodings and identities
 * against EVERY route of the real app (all integrations on, fakes behind them).
 * It proves (a) every answer is a 4xx or a defined 2xx — never a 5xx, never a
 * reset; (b) the process keeps serving; (c) the state does not change (the
 * line's status JSON and the row counts of the main tables).
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubSignature } from '../../src/integrations/github/signature.js';
import { GITHUB_SECRET, type IntegrationsApp, JENKINS_HOOK_TOKEN, JIRA_SECRET, LINE, PEOPLE, startIntegrationsApp } from '../support/integrations-app.js';
import { rawRequest } from '../support/raw-http.js';
import { send, slashCommand, TEST_SIGNING_SECRET } from '../support/slack-requests.js';
import { signIn } from '../support/web-client.js';

const TABLES = ['line', 'commit', 'train', 'train_commit', 'ticket', 'job', 'audit_entry', 'outbox_item', 'processed_input', 'slack_card'];

interface Route {
  method: 'GET' | 'POST';
  /** The path, `:x` where a parameter goes. */
  path: string;
  /** How a caller proves who it is (for the signed / authenticated variant). */
  auth: 'none' | 'slack' | 'github' | 'jenkins' | 'jira' | 'session';
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/healthz', auth: 'none' },
  { method: 'GET', path: '/readyz', auth: 'none' },
  { method: 'GET', path: '/metrics', auth: 'none' },
  { method: 'POST', path: '/api/command', auth: 'none' },
  { method: 'GET', path: '/api/lines/:x/status', auth: 'none' },
  { method: 'GET', path: '/api/lines/:x/trains/:x', auth: 'none' },
  { method: 'GET', path: '/api/lines', auth: 'none' },
  { method: 'GET', path: '/api/search', auth: 'none' },
  { method: 'GET', path: '/api/history', auth: 'none' },
  { method: 'GET', path: '/api/lines/:x/insights', auth: 'none' },
  // Without a session: 401 at once (a signed-in stream stays open; test/web/events.test.ts).
  { method: 'GET', path: '/events', auth: 'none' },
  // Web App pages (signed in: a session cookie; anonymous callers are sent to sign in, the job output route answers 401).
  { method: 'GET', path: '/lines/:x', auth: 'session' },
  { method: 'GET', path: '/lines/:x/trains/:x', auth: 'session' },
  { method: 'GET', path: '/lines/:x/trains/:x/jobs/:x/output', auth: 'session' },
  // The schedule editor: a POST without this site's Origin and the session's token is 403 before its body is read.
  { method: 'GET', path: '/lines/:x/schedule', auth: 'session' },
  { method: 'POST', path: '/lines/:x/schedule', auth: 'session' },
  { method: 'POST', path: '/slack/events', auth: 'slack' },
  { method: 'POST', path: '/webhooks/github', auth: 'github' },
  { method: 'POST', path: '/webhooks/jenkins', auth: 'jenkins' },
  { method: 'POST', path: '/webhooks/jira', auth: 'jira' },
  // The Web App's pages: anonymous → 303 to sign-in; signed in (the session cookie) → a page or a 4xx page.
  { method: 'GET', path: '/', auth: 'session' },
  { method: 'GET', path: '/search', auth: 'session' },
  { method: 'GET', path: '/history', auth: 'session' },
  { method: 'GET', path: '/me', auth: 'session' },
  { method: 'GET', path: '/insights', auth: 'session' },
];

// ---- generators ---------------------------------------------------------------
const badPercent = fc.constantFrom('%', '%z', '%zz', '%C0%AE', '%ED%A0%80', '%E0%80%80', '%FF', '%00', '%0A', '%%', 'web%', '%u202E', '%E2%80%AE');
const unicode = fc.string({ unit: 'binary', maxLength: 12 }).map(encodeURIComponent);
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(LINE, '1', '0', '-1', '99999999999999999999', 'web.', '..', '.') },
  { weight: 3, arbitrary: badPercent },
  { weight: 2, arbitrary: unicode },
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 6000 }).map((n) => 'a'.repeat(n)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(LINE, 'x'), badPercent).map(([a, b]) => a + b) },
);
/** The route's path with each parameter replaced, sometimes mangled around it too. */
/** Query strings for the insights routes, besides the shared tails. */
const INSIGHTS_TAILS = ['?days=%00', '?line=%zz&days=99999999999999999999'];
const pathFor = (route: Route) =>
  fc
    .tuple(
      fc.array(segment, { minLength: 2, maxLength: 2 }),
      fc.constantFrom('', '', '?x=%zz', '?secret=%', '%', '/', '//', '?a=\u00ff', '?q=%25_%00', "?q=a'%22", '?limit=-1&before=x&actor=%zz'),
      fc.boolean(),
    )
    .map(([segs, tail, keep]) => {
      let i = 0;
      const p = route.path.replace(/:x/g, () => segs[i++ % segs.length]!);
      return keep ? p : p + (p.includes('insights') && tail === '' ? INSIGHTS_TAILS[segs[0]!.length % 2]! : tail);
    });

const hostileEmail = fc.oneof(
  fc.constant(`${'a'.repeat(300)}@example.com`),
  fc.constant('\u202emoc.elpmaxe@nimda'),
  fc.constant('admin\u0000@example.com'),
  fc.constant('admin@example.com\u2066'),
  fc.constant('@@'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constant(null),
  fc.integer(),
  fc.array(fc.string(), { maxLength: 2 }),
);
/** Text of any code units: NUL, controls, lone surrogates, bidi overrides. */
const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('\u0000', '\u202e', '\ud800', 'a\u0000b'));
const deep = fc.integer({ min: 1000, max: 200_000 }).chain((n) => fc.constantFrom(`${'['.repeat(n)}${']'.repeat(n)}`, `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`, '['.repeat(n)));
const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(
    'null',
    'true',
    '0',
    '[]',
    '{}',
    '"x"',
    '{"type":null}',
    '{"type":"event_callback","event":null}',
    '{"type":"block_actions"}',
    '{"type":"view_submission","user":{"id":"U0CAROL"}}',
  ),
  fc
    .record(
      { user: hostileEmail, text: fc.oneof(anyText, fc.constant('status\u0000'), fc.integer()), line: fc.oneof(fc.constant(LINE), anyText, fc.constant(null), fc.constant('web\u0000')) },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      { webhookEvent: anyText, issue: fc.oneof(fc.constant(null), fc.record({ key: fc.oneof(anyText, fc.constantFrom('WEB-1', 'WEB-1\u0000')), fields: fc.anything() })) },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        jobId: fc.oneof(anyText, fc.integer(), fc.constant(null), fc.constant('1\u0000')),
        build: fc.oneof(fc.anything(), fc.integer()),
        buildUrl: anyText,
        result: fc.oneof(anyText, fc.constantFrom('SUCCESS', 'FAILURE', 'SUCCESS\u0000')),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
);
const formish = fc.oneof(
  fc
    .dictionary(fc.constantFrom('payload', 'command', 'text', 'user_id', 'channel_id', 'trigger_id', 'response_url', 'ssl_check', 'x'), fc.oneof(anyText, jsonish))
    .map((d) => new URLSearchParams(d).toString()),
  jsonish.map((j) => `payload=${encodeURIComponent(j)}`),
  fc.constantFrom('payload=null', 'payload=', 'payload=%', 'payload=%zz&payload=1', '%%%', '&&&=', 'payload=%7B'),
);
const body: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: jsonish.map((s) => Buffer.from(s)) },
  { weight: 3, arbitrary: formish.map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: deep.map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
  // Bad UTF-8 inside JSON strings: overlong, surrogates, truncated sequences.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('c0ae', 'eda080', 'e282', 'ff', 'f4908080')
      .map((hex) => Buffer.concat([Buffer.from('{"user":"admin@example.com","text":"'), Buffer.from(hex, 'hex'), Buffer.from('"}')])),
  },
  { weight: 1, arbitrary: fc.integer({ min: 70_000, max: 5_000_000 }).map((n) => Buffer.alloc(n, 0x7b)) },
);
const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'text/plain',
  'application/json; charset=latin1',
  'multipart/form-data; boundary=x',
  '\u00ff/\u00ff',
);

describe('fuzz: no input crashes Conductor or changes its state', () => {
  let h: IntegrationsApp;
  let port: number;
  let session: string;

  beforeAll(async () => {
    h = await startIntegrationsApp('conductor-fuzz-');
    port = h.t.app.port;
    session = (await signIn(h.base, 'fuzz@example.com')).cookie;
  }, 60_000);
  afterAll(() => h?.stop());

  const snapshot = async () => {
    const counts: Record<string, number> = {};
    for (const t of TABLES) counts[t] = Number((await h.t.db.pool.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n);
    return { counts, status: await h.t.status(LINE) };
  };

  /** The headers that make a request authenticated on its route, for its body. */
  const credentials = (route: Route, raw: Buffer, timestamp: number): Record<string, string> => {
    switch (route.auth) {
      case 'slack':
        // Signed over the exact bytes (the body may not be UTF-8).
        return {
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': `v0=${createHmac('sha256', TEST_SIGNING_SECRET).update(`v0:${timestamp}:`).update(raw).digest('hex')}`,
        };
      case 'github':
        return { 'x-hub-signature-256': githubSignature(raw, GITHUB_SECRET), 'x-github-event': 'push', 'x-github-delivery': `fuzz-${Math.random()}` };
      case 'jenkins':
        return { authorization: `Bearer ${JENKINS_HOOK_TOKEN}` };
      case 'jira':
        return { 'x-conductor-secret': JIRA_SECRET };
      case 'session':
        return { cookie: session };
      default:
        return {};
    }
  };

  it('answers every generated request with a 4xx or a defined 2xx, keeps serving, and changes nothing', async () => {
    const before = await snapshot();
    const seen = new Map<number, number>();
    const started = Date.now();
    const request = fc.constantFrom(...ROUTES).chain((route) =>
      fc.record({
        route: fc.constant(route),
        path: fc.oneof({ weight: 1, arbitrary: fc.constant(route.path.replace(/:x/g, LINE)) }, { weight: 3, arbitrary: pathFor(route) }),
        body,
        contentType,
        authenticated: fc.boolean(),
        skew: fc.constantFrom(0, 0, 0, 400, -400, 10 ** 9),
        event: fc.constantFrom('push', 'ping', 'push', '\u00ff', 'issues'),
      }),
    );
    const result = await fc.check(
      fc.asyncProperty(request, async ({ route, path, body: raw, contentType: ct, authenticated, skew, event }) => {
        const headers: Record<string, string> = {};
        if (ct) headers['content-type'] = ct;
        if (authenticated) {
          Object.assign(headers, credentials(route, raw ?? Buffer.alloc(0), Math.floor(Date.now() / 1000) + skew));
          if (route.auth === 'github') headers['x-github-event'] = event;
        }
        const res = await rawRequest(port, route.method, path, { headers, ...(raw ? { body: raw } : {}), timeoutMs: 20_000 });
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const what = `${route.method} ${JSON.stringify(path.slice(0, 120))} (${ct}, ${raw?.length ?? 0} bytes: ${JSON.stringify(raw?.subarray(0, 80).toString('latin1') ?? '')}, ${authenticated ? 'authenticated' : 'anonymous'}) answered ${res.reset ? 'a reset' : res.status} ${res.body.slice(0, 200)}`;
        // A 2xx is defined only for reads, and for authenticated callers whose input was taken as harmless.
        const ok = !res.reset && res.status >= 200 && res.status < 500 && (res.status >= 300 || route.method === 'GET' || authenticated || route.path === '/api/command');
        if (!ok) throw new Error(what);
      }),
      { numRuns: 400, interruptAfterTimeLimit: 20_000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    // (a) The failing request in one line (fast-check's own report would print megabytes of body).
    if (result.failed) throw new Error(`seed ${result.seed}: ${(result.errorInstance as Error | undefined)?.message ?? String(result.errorInstance)}`);

    // (b) it keeps serving: health, the API and a signed Slack command all work.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await h.t.api(PEOPLE.admin.email, 'status')).toMatchObject({ ok: true });
    const slack = await send(h.base, slashCommand({ text: 'help', userId: PEOPLE.carol.id, channelId: 'C0WEB', responseUrl: h.slack.responseUrl() }));
    expect(slack.status).toBe(200);
    // (c) nothing changed.
    expect(await snapshot()).toEqual(before);
    expect(Date.now() - started).toBeLessThan(30_000);
    console.log(`fuzz: ${[...seen.values()].reduce((a, b) => a + b, 0)} requests, answers ${JSON.stringify(Object.fromEntries(seen))}`);
  }, 60_000);
});
