import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type pg from 'pg';
import type { Logger } from 'pino';
import { checkEmail } from '../domain/identity.js';
import type { PushTarget } from '../domain/push-warning.js';
import { executeCommand } from '../engine/commands.js';
import type { Engine } from '../engine/engine.js';
import { IdempotencyKeyReusedError, UnknownLineError } from '../engine/engine.js';
import { parseHistoryFilters, readHistoryPage } from '../engine/read/history-page.js';
import { readLineSummaries } from '../engine/read/lines.js';
import { parseSearch, searchCommits } from '../engine/read/search.js';
import { lineStatusJson, trainJson } from '../engine/views.js';
import { checkDatabase } from '../store/database.js';
import { migrationStatus } from '../store/migrate.js';
import { insightsApi } from './insights-api.js';
import { Metrics } from './metrics.js';
import { pushWarningRoutes } from './push-warnings.js';
import { answerError, HttpError, lingerOnEarlyAnswer, lingerThenDestroy, type RouteContext, Router, readBody, requestPath, sendJson } from './router.js';

export interface HttpOptions {
  engine: Engine;
  pool: pg.Pool;
  log: Logger;
  /** CONDUCTOR_API_TOKEN: when unset, the API answers the loopback interface only. */
  apiToken?: string;
  /** The app's metrics (the engine counts into them too); a fresh set when not given. */
  metrics?: Metrics;
  /** Push warnings (behaviour.md §8): CONDUCTOR_PUBLIC_URL and the lines' repositories; without them the hook routes are absent. */
  pushWarnings?: { publicUrl: string; targets: PushTarget[] };
  /** Extra routes (Slack, webhooks) registered by the composition root. */
  extend?: (router: Router, metrics: Metrics) => void;
}

const MAX_TEXT = 4000;

/** A request target fit for the log: at most 200 characters, sign-in codes and tokens in the query blanked (a callback may be malformed). */
export function urlForLog(url: string | undefined): string | undefined {
  return url?.slice(0, 200).replace(/([?&](?:code|state|id_token|access_token|refresh_token)=)[^&]*/gi, '$1[redacted]');
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** behaviour.md §5: bearer token when configured, else loopback only. Throws 401/403. */
function authorise(req: IncomingMessage, apiToken: string | undefined): void {
  if (apiToken) {
    if (!tokenMatches(req.headers.authorization, apiToken)) throw new HttpError(401, 'missing or wrong bearer token');
  } else if (!isLoopback(req.socket.remoteAddress)) {
    throw new HttpError(403, 'CONDUCTOR_API_TOKEN is not set: the API answers the loopback interface only');
  }
}

export function buildRouter(opts: HttpOptions): { router: Router; metrics: Metrics } {
  const { engine } = opts;
  const router = new Router();
  const metrics = opts.metrics ?? new Metrics({ db: engine.deps.db, log: opts.log, lines: [...engine.lines.keys()] });

  router.add('GET', '/healthz', ({ res }) => sendJson(res, 200, { ok: true }));

  router.add('GET', '/readyz', async ({ res }) => {
    const db = await checkDatabase(opts.pool);
    if (!db.ok) return sendJson(res, 503, { ok: false, database: db.error });
    const client = await opts.pool.connect();
    try {
      const m = await migrationStatus({ client });
      sendJson(res, m.ok ? 200 : 503, { ok: m.ok, database: 'ok', migrations: m });
    } finally {
      client.release();
    }
  });

  router.add('GET', '/metrics', async ({ res }) => {
    const body = await metrics.render();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(body);
  });

  router.add('POST', '/api/command', async ({ req, res, log }) => {
    authorise(req, opts.apiToken);
    const body = parseCommandBody(await readBody(req, 64 * 1024));
    // Optional: a script that retries a request sends the same key and the action is applied once.
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) throw new HttpError(400, 'Idempotency-Key must be 1 to 200 characters');
    // The key is the caller's: it may replay only the request it was first used for (else 422).
    const idempotency = key ? { inputKey: `api:${body.user}:${key}`, fingerprint: requestFingerprint(body) } : {};
    const reply = await executeCommand(engine, { ...body, ...idempotency }).catch((err: unknown) => {
      if (err instanceof IdempotencyKeyReusedError) throw new HttpError(422, err.message);
      throw err;
    });
    log.info({ user: body.user, line: body.line, command: body.text.split(/\s+/)[0], ok: reply.ok }, 'command');
    sendJson(res, 200, reply);
  });

  router.add('GET', '/api/lines/:line/status', async ({ req, res, params }) => {
    authorise(req, opts.apiToken);
    const line = knownLine(engine, params.line!);
    const { state } = await engine.read(line, { newestTrain: true });
    sendJson(res, 200, lineStatusJson(state, engine.deps.clock()));
  });

  router.add('GET', '/api/lines/:line/trains/:number', async ({ req, res, params }) => {
    authorise(req, opts.apiToken);
    const line = knownLine(engine, params.line!);
    const n = Number(params.number);
    if (!Number.isInteger(n) || n < 1 || n > 2_147_483_647) throw new HttpError(404, `no train ${params.number} on ${line}`);
    const { state } = await engine.read(line, { extraTrains: [n] });
    const t = state.trains.find((x) => x.number === n);
    if (!t) throw new HttpError(404, `no train #${n} on ${line}`);
    sendJson(res, 200, trainJson(state, t));
  });

  // JSON for scripts (docs/behaviour.md §5): the read models the Web App's pages use.
  router.add('GET', '/api/lines', async ({ req, res }) => {
    authorise(req, opts.apiToken);
    sendJson(res, 200, { lines: await readLineSummaries(engine) });
  });

  router.add('GET', '/api/search', async ({ req, res }) => {
    authorise(req, opts.apiToken);
    const query = parseSearch(queryOf(req).get('q'));
    if (typeof query === 'string') throw new HttpError(400, query);
    sendJson(res, 200, { results: await searchCommits(engine, query) });
  });

  router.add('GET', '/api/history', async ({ req, res }) => {
    authorise(req, opts.apiToken);
    const filters = parseHistoryFilters(queryOf(req), new Set(engine.lines.keys()));
    if (typeof filters === 'string') throw new HttpError(400, filters);
    sendJson(res, 200, await readHistoryPage(engine, filters));
  });

  router.add(
    'GET',
    '/api/lines/:line/insights',
    insightsApi(engine, (req) => authorise(req, opts.apiToken)),
  );

  if (opts.pushWarnings) pushWarningRoutes(router, { engine, ...opts.pushWarnings, authorise: (req) => authorise(req, opts.apiToken) });

  opts.extend?.(router, metrics);
  return { router, metrics };
}

/** The query string's parameters (requestPath has already refused a target `new URL` cannot read). */
function queryOf(req: IncomingMessage): URLSearchParams {
  const t = req.url ?? '/';
  return (t.startsWith('/') ? new URL(`http://localhost${t}`) : new URL(t)).searchParams;
}

function knownLine(engine: Engine, name: string): string {
  if (!engine.lines.has(name)) throw new HttpError(404, `unknown line ${name}`);
  return name;
}

/** C0 controls but tab, newline and carriage return, DEL and C1: no command text holds one (and PostgreSQL refuses NUL). */
const TEXT_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Validates `{"user", "line"?, "text"}`; anything else is a 400 that says what is wrong. */
export function parseCommandBody(raw: Buffer): { user: string; line?: string; text: string } {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.user !== 'string') throw new HttpError(400, '"user" must be the email of the person acting');
  const user = checkEmail(b.user);
  if (!user.ok) throw new HttpError(400, `"user" must be the email of the person acting: ${user.reason}`);
  if (typeof b.text !== 'string') throw new HttpError(400, '"text" must be a string: the same text as after /conductor');
  if (b.text.length > MAX_TEXT) throw new HttpError(400, `"text" is longer than ${MAX_TEXT} characters`);
  if (TEXT_CONTROL.test(b.text)) throw new HttpError(400, '"text" contains a control character');
  if (b.line !== undefined && b.line !== null && typeof b.line !== 'string') throw new HttpError(400, '"line" must be a string when given');
  if (typeof b.line === 'string' && (b.line.length > 200 || /\p{Cc}|\p{Cf}/u.test(b.line)))
    throw new HttpError(400, '"line" must be a line name: at most 200 characters, no control characters');
  return { user: user.email, text: b.text, ...(typeof b.line === 'string' && b.line ? { line: b.line } : {}) };
}

/** What a command request asks for (the user is in the key already): the same request has the same digest. */
function requestFingerprint(body: { user: string; line?: string; text: string }): string {
  return createHash('sha256')
    .update(JSON.stringify([body.user, body.line ?? null, body.text]))
    .digest('hex');
}

/** The caller's X-Request-Id when it is a sane token (it goes into every log line), else a fresh one. */
function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[\w.:@-]{1,128}$/.test(header) ? header : randomUUID();
}

export function startHttpServer(
  opts: HttpOptions & { port: number; host?: string /** How long stop waits for requests in flight (default 5 s). */; closeGraceMs?: number },
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const { router, metrics } = buildRouter(opts);
  const server = createServer((req, res) => {
    // Nothing a request carries may throw out of the listener: Node would end the process.
    try {
      handleRequest(req, res);
    } catch (err) {
      opts.log.error({ err, method: req.method, url: urlForLog(req.url) }, 'request listener failed');
      answerError(req, res, 500, 'internal error; see the log');
    }
  });
  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const requestId = requestIdOf(req.headers['x-request-id']);
    const log = opts.log.child({ requestId });
    lingerOnEarlyAnswer(req, res);
    let routeName = 'unmatched';
    res.on('finish', () => metrics.observe(routeName, req.method ?? 'GET', res.statusCode, (performance.now() - started) / 1000));
    const target = requestPath(req.url);
    if ('malformed' in target) {
      log.warn({ status: 400, url: urlForLog(req.url), reason: target.malformed }, 'request refused');
      return answerError(req, res, 400, target.malformed);
    }
    const found = router.match(req.method ?? 'GET', target.path);
    if (!found) return answerError(req, res, 404, `no route ${req.method} ${target.path}`);
    if ('malformed' in found) {
      log.warn({ status: 400, url: urlForLog(req.url), reason: found.malformed }, 'request refused');
      return answerError(req, res, 400, found.malformed);
    }
    if ('allowed' in found) {
      res.setHeader('allow', found.allowed.join(', '));
      return answerError(req, res, 405, `use ${found.allowed.join(' or ')}`);
    }
    routeName = found.route.name;
    const ctx: RouteContext = { req, res, params: found.params, log };
    Promise.resolve()
      .then(() => found.route.handler(ctx))
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          log.warn({ status: err.status, route: routeName, reason: err.message }, 'request refused');
          answerError(req, res, err.status, err.message);
          return;
        }
        if (err instanceof UnknownLineError) {
          answerError(req, res, 404, err.message);
          return;
        }
        log.error({ err, route: routeName }, 'request failed');
        answerError(req, res, 500, 'internal error; see the log');
      })
      .catch((err: unknown) => log.error({ err, route: routeName }, 'could not answer a failed request'));
  };
  answerParserRefusals(server, opts.log);
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : opts.port;
      resolve({
        server,
        port,
        close: () => closeGracefully(server, opts.closeGraceMs ?? 5_000),
      });
    });
  });
}

/**
 * Stops accepting, closes idle keep-alive connections (and those that become
 * idle once their answer is sent), lets requests in flight finish for up to
 * `graceMs`, then closes whatever is left.
 */
function closeGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let idleSweep: NodeJS.Timeout | undefined;
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    cut.unref();
    server.close(() => {
      clearTimeout(cut);
      clearInterval(idleSweep);
      resolve();
    });
    server.closeIdleConnections();
    idleSweep = setInterval(() => server.closeIdleConnections(), 50);
    idleSweep.unref();
  });
}

// A request Node's parser refuses (bytes not allowed in a URL or header, headers too large):
// answer 400 (431) in JSON, then read and discard what the client still sends before closing,
// as lingerOnEarlyAnswer does: Node's default closes at once, and the reset can swallow the answer.
function answerParserRefusals(server: Server, log: Logger): void {
  const refused = new WeakSet<object>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Node reports the parse error again for every chunk that follows: answer once.
    if (refused.has(socket)) return;
    refused.add(socket);
    // As Node's default: nothing to answer on a reset socket, or mid-way through another answer.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (err.code === 'ECONNRESET' || !socket.writable || answering) return void socket.destroy();
    log.warn({ code: err.code, reason: err.message }, 'request refused by the HTTP parser');
    const [status, phrase, error] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'request headers too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'the request took too long to arrive']
          : [400, 'Bad Request', 'malformed HTTP request'];
    const body = JSON.stringify({ ok: false, error });
    socket.end(`HTTP/1.1 ${status} ${phrase}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    lingerThenDestroy(socket);
  });
}
