import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  log: Logger;
}

export type Handler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  name: string;
  handler: Handler;
}

/** A tiny router: `GET /api/lines/:line/status` style patterns, exact match. */
export class Router {
  private routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const pattern = new RegExp('^' + path.replace(/:([a-zA-Z]+)/g, (_, k: string) => (keys.push(k), '([^/]+)')) + '$');
    this.routes.push({ method, pattern, keys, name: path, handler });
    return this;
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | { malformed: string } | null {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [i, k] of route.keys.entries()) {
        const value = decodePathSegment(m[i + 1] ?? '');
        if (value === null) return { malformed: `the path segment for :${k} is not valid percent-encoded UTF-8` };
        params[k] = value;
      }
      return { route, params };
    }
    return allowed.length ? { allowed } : null;
  }
}

/**
 * `decodeURIComponent` that answers null instead of throwing (a lone `%`, `%zz`,
 * overlong or surrogate UTF-8 such as `%C0%AE` or `%ED%A0%80`), and refuses a
 * decoded NUL or other C0 control: no line or train name holds one.
 */
export function decodePathSegment(segment: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return null;
  }
  return /[\u0000-\u001f\u007f]/.test(decoded) ? null : decoded;
}

/**
 * The path of a request target, or why it cannot be one (400): a target
 * `new URL` cannot read, or a segment that does not decode.
 */
export function requestPath(target: string | undefined): { path: string } | { malformed: string } {
  let pathname: string;
  try {
    // Origin-form (`/path`) is appended to a base: `new URL('//x', base)` would read `x` as a host.
    const t = target ?? '/';
    pathname = (t.startsWith('/') ? new URL(`http://localhost${t}`) : new URL(t)).pathname;
  } catch {
    return { malformed: 'the request target is not a valid path' };
  }
  if (pathname.split('/').some((seg) => decodePathSegment(seg) === null)) return { malformed: 'the path is not valid percent-encoded UTF-8' };
  return { path: pathname };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads the raw body, refusing more than `limit` bytes (413). A refused body is
 * NOT destroyed: the request keeps flowing (discarded) so that the answer can be
 * read by a client still sending; `answerError` bounds how long that lasts.
 * (Breaking out of `for await (… of req)` destroyed the socket: the client saw a
 * connection reset instead of the 413.)
 */
export function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, `request body larger than ${limit} bytes`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new HttpError(400, 'the request ended before its body'));
    });
  });
}

/** How much of an unread body is discarded after an early answer before the connection is cut. */
const DRAIN_BYTES = 64 * 1024 * 1024;
const DRAIN_MS = 10_000;

/** Answers an error as JSON, or just ends a response already started. */
export function answerError(_req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  sendJson(res, status, { ok: false, error: message });
}

/**
 * Makes every answer given before the request body was read to its end (a 413,
 * a 401 before reading, a 404) reach the client: closing a socket with unread
 * data makes the kernel send a reset, and a client still sending then sees the
 * reset instead of the answer. So the rest of the body is read and discarded
 * (the answer keeps the connection open for that, whatever the client asked),
 * then the connection is closed gracefully; a body going on past DRAIN_BYTES or
 * DRAIN_MS is cut off (a reset, for a client that insists).
 */
export function lingerOnEarlyAnswer(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    res.writeHead = writeHead;
    if (!req.complete) drainThenClose(req, res);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}

function drainThenClose(req: IncomingMessage, res: ServerResponse): void {
  // Node closes the socket right after the answer when the client asked for `Connection: close`.
  res.shouldKeepAlive = true;
  let drained = 0;
  const cut = () => {
    if (!req.complete) req.socket.destroy();
  };
  const timer = setTimeout(cut, DRAIN_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_BYTES) cut();
  });
  req.once('end', () => {
    clearTimeout(timer);
    const close = () => req.socket.end();
    if (res.writableFinished) close();
    else res.once('finish', close);
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/** After a socket's answer was written (`end()`), reads and discards what the client still sends, bounded, then closes. */
export function lingerThenDestroy(socket: import('node:stream').Duplex): void {
  let drained = 0;
  const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
  timer.unref();
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_BYTES) socket.destroy();
  });
  socket.once('close', () => clearTimeout(timer));
  socket.once('end', () => socket.destroy());
  socket.resume();
}
