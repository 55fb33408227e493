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
import { captureLog, ERROR } from '../store/capture-log.js';
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
  auth: 'none' | 'slack' | 'github' | 'jenkins' | 'jira' | 'session' | 'form';
  /** The route's query parameters: generated query strings use them (with hostile values, repeated, missing). */
  query?: string[];
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
  // The pages' actions. 'form': signed in, this site's Origin and the session's CSRF token, so that
  // garbage fields pass the token check and reach the form parser and the command path.
  { method: 'POST', path: '/lines/:x/actions', auth: 'form' },
  { method: 'GET', path: '/lines/:x/confirm', auth: 'session', query: ['command', 'args', 'back'] },
  // Push warnings (behaviour.md §8): the API's rule (loopback here, no token set); the hook is public.
  { method: 'GET', path: '/api/push-warning', auth: 'none', query: ['remote', 'branch', 'line'] },
  { method: 'GET', path: '/api/push-target', auth: 'none', query: ['remote', 'branch', 'line'] },
  { method: 'GET', path: '/hooks/pre-push', auth: 'none', query: ['remote'] },
];
/** The routes added for the actions and push warnings: fuzzed again on their own, harder. */
const FOCUSED = ROUTES.filter((r) => r.query || r.auth === 'form');

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
const pathFor = (route: Route, values: fc.Arbitrary<string>) =>
  fc
    .tuple(
      fc.array(segment, { minLength: 2, maxLength: 2 }),
      fc.constantFrom('', '', '?x=%zz', '?secret=%', '%', '/', '//', '?a=\u00ff', '?q=%25_%00', "?q=a'%22", '?limit=-1&before=x&actor=%zz'),
      fc.boolean(),
      route.query ? queryFor(route.query, values) : fc.constant(''),
    )
    .map(([segs, tail, keep, query]) => {
      let i = 0;
      const p = route.path.replace(/:x/g, () => segs[i++ % segs.length]!);
      if (route.query) return p + (keep ? query : tail);
      return keep ? p : p + (p.includes('insights') && tail === '' ? INSIGHTS_TAILS[segs[0]!.length % 2]! : tail);
    });

/**
 * A query value as it goes on the request line: plausible ones, bad percent-encoding,
 * NUL, CR/LF, terminal escapes (C0 and C1), bidi overrides, any code units, and
 * values around the 2000-character limit of the push routes.
 */
const queryValue = (plausible: string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...plausible, '', '+', '%20', 'main', 'refs/heads/main', 'refs/heads/', LINE) },
    { weight: 2, arbitrary: badPercent },
    { weight: 2, arbitrary: fc.constantFrom('main%00', '%0D%0Ax', '%1B%5B31mred', '%C2%9B2J', '%E2%80%AEniam', '%E2%81%A6main', 'ma%09in', '%7F', '%EF%BB%BF') },
    { weight: 1, arbitrary: unicode },
    { weight: 1, arbitrary: fc.integer({ min: 1990, max: 9000 }).map((n) => 'b'.repeat(n)) },
  );
/** `?k=v&…`: the route's parameters (and others), any order, repeated, missing, without `=`. */
const queryFor = (names: string[], values: fc.Arbitrary<string>) =>
  fc
    .array(fc.tuple(fc.constantFrom(...names, ...names, 'x', ''), values, fc.constantFrom('=', '=', '=', '')), { maxLength: 6 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v, eq]) => (eq ? `${k}=${v}` : k)).join('&')}` : ''));

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
/** Names of commands, of page actions or not, and near misses. */
const commandWord = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'verify',
      'reopen',
      'deploy',
      'engineer',
      'block',
      'unblock',
      'retry',
      'extend',
      'derail',
      'rollback',
      'revert',
      'start',
      'emergency',
      'mode',
      'job',
      'status',
      'help',
      'history',
      'queue',
      'train',
      'freeze',
      'autotime',
      '',
      ' ',
      'DERAIL',
      'derail\u0000',
      'block\u202e',
      'verify\r\n',
    ),
  },
  { weight: 1, arbitrary: anyText },
);
const commandArgs = fc.oneof(
  anyText,
  fc.constantFrom(
    '#0',
    '#-1',
    '99999999999999999999',
    '2147483648',
    '--line',
    '--line other',
    `--line ${LINE}`,
    'me',
    'succeeded 99999999999',
    'manual \u0000',
    'schedule \u202e',
    'a'.repeat(5000),
  ),
);
const formValue = fc.oneof(anyText, fc.constant(''));
/**
 * The form of `POST /lines/<line>/actions` with hostile fields: every key optional or
 * repeated, values of any code units (URLSearchParams writes them as UTF-8), and raw
 * pairs whose percent-encoding is bad (`%ED%A0%80`, a lone `%`) or decodes to controls.
 */
const actionForm = (csrf: string) =>
  fc
    .tuple(
      fc.record(
        {
          command: commandWord,
          args: commandArgs,
          mark: fc.oneof(formValue, fc.constant('A'.repeat(32))),
          nonce: fc.oneof(formValue, fc.constantFrom('short', 'n'.repeat(16), 'n'.repeat(65), 'nonce-with-a-dot.1234', 'x'.repeat(20000))),
          back: fc.oneof(
            formValue,
            fc.constantFrom('/', '//evil.example', '/\\evil', '/\u202e', '/\ud800', '/\u00e9t\u00e9', '/lines/web\r\nSet-Cookie: x=1', 'javascript:alert(1)', `/${'b'.repeat(3000)}`),
          ),
          _csrf: fc.oneof({ weight: 3, arbitrary: fc.constant(csrf) }, { weight: 1, arbitrary: formValue }),
          x: formValue,
        },
        { requiredKeys: [] },
      ),
      fc.array(
        fc.tuple(
          fc.constantFrom('command', 'args', 'back', 'nonce', 'mark', '_csrf', ''),
          fc.oneof(badPercent, fc.constantFrom('%2F%E2%80%AE', '%2F%ED%A0%80', '%2F%0D%0A', 'derail%00', 'block+%1B%5B2J')),
        ),
        {
          maxLength: 3,
        },
      ),
    )
    .map(([fields, raw]) => {
      const form = new URLSearchParams(fields as Record<string, string>).toString();
      return Buffer.from([form, ...raw.map(([k, v]) => `${k}=${v}`)].filter(Boolean).join('&'));
    });

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
  let csrf: string;
  const captured = captureLog();

  beforeAll(async () => {
    h = await startIntegrationsApp('conductor-fuzz-', { log: captured.log });
    port = h.t.app.port;
    ({ cookie: session, csrf } = await signIn(h.base, 'fuzz@example.com'));
  }, 60_000);
  afterAll(() => h?.stop());

  const snapshot = async () => {
    const counts: Record<string, number> = {};
    for (const t of TABLES) counts[t] = Number((await h.t.db.pool.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n);
    // Not counted: a page form's refusal kept under its nonce (a retry of a refused form stays refused, by
    // design); a form that was carried out is counted, as its effects are.
    counts.processed_input =
      (counts.processed_input ?? 0) -
      Number((await h.t.db.pool.query(`SELECT count(*)::int AS n FROM processed_input WHERE key LIKE 'web:fuzz@example.com:%' AND reply->>'ok' = 'false'`)).rows[0].n);
    return { counts, status: await h.t.status(LINE) };
  };

  /** The headers that make a request authenticated on its route, for its body. */
  const credentials = (route: Route, raw: Buffer, timestamp: number, headerToken: boolean): Record<string, string> => {
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
      case 'form':
        // rawRequest sends `host: 127.0.0.1`: this Origin is the site's. The token in the header, or (else) the body's `_csrf`.
        return { cookie: session, origin: 'http://127.0.0.1', ...(headerToken ? { 'x-csrf-token': csrf } : {}) };
      default:
        return {};
    }
  };

  /**
   * Runs the property over `routes`: every answer a 4xx or a defined 2xx (never a 5xx or a reset),
   * every 400 logged with its reason; then the app still serves and nothing changed. Answers the
   * statuses seen per route.
   */
  const fuzz = async (routes: Route[], numRuns: number) => {
    const before = await snapshot();
    const seen = new Map<string, Map<number, number>>();
    const started = Date.now();
    const values = queryValue([encodeURIComponent(h.repo), encodeURIComponent(`file://${h.repo}`), 'git%40github.com%3Aacme%2Fweb.git', 'https%3A%2F%2Fgithub.com%2Facme%2Fweb']);
    const request = fc.constantFrom(...routes).chain((route) =>
      fc.record({
        route: fc.constant(route),
        path: fc.oneof(
          // The actions' exact path more often: their garbage is in the form, which must be reached.
          {
            weight: route.auth === 'form' ? 3 : 1,
            arbitrary: route.query ? queryFor(route.query, values).map((q) => route.path.replace(/:x/g, LINE) + q) : fc.constant(route.path.replace(/:x/g, LINE)),
          },
          { weight: 3, arbitrary: pathFor(route, values) },
        ),
        body: route.auth === 'form' ? fc.oneof({ weight: 3, arbitrary: actionForm(csrf) }, { weight: 1, arbitrary: body }) : body,
        contentType: route.auth === 'form' ? fc.oneof({ weight: 3, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 1, arbitrary: contentType }) : contentType,
        authenticated: route.auth === 'form' ? fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) : fc.boolean(),
        headerToken: fc.boolean(),
        json: fc.boolean(),
        skew: fc.constantFrom(0, 0, 0, 400, -400, 10 ** 9),
        event: fc.constantFrom('push', 'ping', 'push', '\u00ff', 'issues'),
      }),
    );
    const result = await fc.check(
      fc.asyncProperty(request, async ({ route, path, body: raw, contentType: ct, authenticated, headerToken, json, skew, event }) => {
        const headers: Record<string, string> = {};
        if (ct) headers['content-type'] = ct;
        if (json) headers.accept = 'application/json';
        if (authenticated) {
          Object.assign(headers, credentials(route, raw ?? Buffer.alloc(0), Math.floor(Date.now() / 1000) + skew, headerToken));
          if (route.auth === 'github') headers['x-github-event'] = event;
        }
        const logged = captured.entries.length;
        const res = await rawRequest(port, route.method, path, { headers, ...(raw ? { body: raw } : {}), timeoutMs: 20_000 });
        const key = `${route.method} ${route.path}`;
        const counts = seen.get(key) ?? new Map<number, number>();
        seen.set(key, counts.set(res.status, (counts.get(res.status) ?? 0) + 1));
        const what = `${route.method} ${JSON.stringify(path.slice(0, 120))} (${ct}, ${raw?.length ?? 0} bytes: ${JSON.stringify(raw?.subarray(0, 80).toString('latin1') ?? '')}, ${authenticated ? 'authenticated' : 'anonymous'}) answered ${res.reset ? 'a reset' : res.status} ${res.body.slice(0, 200)}`;
        // A 2xx is defined only for reads, and for authenticated callers whose input was taken as harmless.
        const ok = !res.reset && res.status >= 200 && res.status < 500 && (res.status >= 300 || route.method === 'GET' || authenticated || route.path === '/api/command');
        if (!ok) {
          // With what the app logged as failing: the cause of a 500 is in the log, not the answer.
          const errors = captured.entries.slice(logged).filter((e) => e.level >= ERROR);
          throw new Error(`${what}; logged: ${JSON.stringify(errors).slice(0, 1500)}`);
        }
        // A 400 says why in the log (the request line, the router, the route's refusal or Node's parser).
        // Checked on the routes added with this property; several older ones answer 400 without a log entry.
        if (
          res.status === 400 &&
          FOCUSED.includes(route) &&
          !captured.entries.slice(logged).some((e) => typeof e.reason === 'string' && e.reason !== '' && (e.status === 400 || e.code !== undefined))
        ) {
          throw new Error(`${what}: no log entry says why`);
        }
      }),
      { numRuns, interruptAfterTimeLimit: 20_000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
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
    const total = [...seen.values()].reduce((a, m) => a + [...m.values()].reduce((x, y) => x + y, 0), 0);
    console.log(`fuzz: ${total} requests, answers ${JSON.stringify(Object.fromEntries([...seen].map(([k, m]) => [k, Object.fromEntries(m)])))}`);
    return seen;
  };

  it('answers every generated request with a 4xx or a defined 2xx, keeps serving, and changes nothing', async () => {
    await fuzz(ROUTES, 400);
  }, 60_000);

  it('a 400 of the confirm page and of the push routes says why in the log', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      [`/lines/${LINE}/confirm?command=status`, { cookie: session }, /needs no confirmation/],
      [`/lines/${LINE}/confirm?command=%00`, { cookie: session }, /./],
      ['/api/push-warning?remote=x', {}, /"branch" is required/],
      [`/api/push-target?branch=main&remote=${'r'.repeat(2001)}`, {}, /longer than 2000/],
    ];
    for (const [target, headers, reason] of cases) {
      const logged = captured.entries.length;
      const res = await rawRequest(port, 'GET', target, { headers });
      expect(res.status, target).toBe(400);
      const entry = captured.entries.slice(logged).find((e) => e.msg === 'request refused' && e.status === 400);
      expect(entry?.reason, target).toMatch(reason);
    }
  });

  it('the actions and push-warning routes: garbage with a valid session and CSRF token reaches the parser and changes nothing', async () => {
    const seen = await fuzz(FOCUSED, 300);
    // Past the Origin, session and token checks (403), the content type (415) and the size limit (413):
    // the form was read and the command path answered (a flash and 303, or a JSON reply).
    const actions = seen.get('POST /lines/:x/actions');
    expect((actions?.get(200) ?? 0) + (actions?.get(303) ?? 0)).toBeGreaterThanOrEqual(5);
    // The push routes answered with a warning or a line (200), not only with refusals.
    expect(seen.get('GET /api/push-warning')?.get(200) ?? 0).toBeGreaterThan(0);
    expect(seen.get('GET /api/push-target')?.get(200) ?? 0).toBeGreaterThan(0);
  }, 60_000);
});
