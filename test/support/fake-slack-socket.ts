/**
 * A fake of Slack's Socket Mode on 127.0.0.1, for tests that run the REAL
 * Bolt `App({ socketMode: true, appToken, clientOptions: { slackApiUrl } })`.
 *
 * - `apiUrl` (`http://127.0.0.1:PORT/api/`, trailing slash) is what the app
 *   uses as `SLACK_API_URL`: Bolt hands the App's `clientOptions` (so
 *   `slackApiUrl`) to the socket-mode client as `installerOptions.clientOptions`,
 *   and that client calls `apps.connections.open` with its own WebClient and
 *   `Authorization: Bearer xapp-…`. This server answers that method itself
 *   (`{ ok: true, url: 'ws://127.0.0.1:PORT/link/?ticket=…&app_id=…' }`, one
 *   ticket per call, usable once) and forwards every other `/api/<method>` call
 *   as is to `webApi` (the strict fake Web API of `fake-slack.ts`), so bot-token
 *   calls keep being checked and recorded there.
 * - `/link/` is a WebSocket server (RFC 6455, written here: `@slack/socket-mode`
 *   3 connects with undici's WebSocket client, and `ws` is not installed). On
 *   connect it sends `{ type: 'hello', … }`; it answers the client's pings with
 *   pongs (without them the client drops the connection after four pings),
 *   echoes a close frame, and records what the client sends.
 * - `push(type, payload)` sends an envelope `{ envelope_id, type, payload,
 *   accepts_response_payload, … }` on the newest open connection and resolves
 *   with the client's ack `{ envelope_id, payload }` (a bare `ack()` gives
 *   `payload: {}`; a slash command acked with text gives `payload: { text, … }`).
 * - Strict: a wrong or missing app token, a bot token, a used or unknown ticket,
 *   an ack for an unknown envelope, a second ack, an unmasked or unparsable
 *   frame… each records a violation (`expectNoViolations()` throws listing them).
 * - `failOpen(how, times)` answers the next `apps.connections.open` calls with an
 *   HTTP status or an `ok: false` error; `disconnect(reason)` sends Slack's
 *   `{ type: 'disconnect' }` (the client then reconnects after its delay).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SlackRequest } from './slack-requests.js';
import { registerStrictFake } from './strict-fakes.js';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketEnvelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, any>;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

export interface SocketAck {
  envelope_id: string;
  /** What the app acked with (`{}` for a bare `ack()`). */
  payload?: any;
  /** Date.now() when the ack arrived. */
  at: number;
}

export interface PushResult {
  ack: SocketAck;
  envelope: SocketEnvelope;
  /** Milliseconds from sending the envelope to the ack. */
  ms: number;
}

export interface ConnectionsOpenCall {
  token?: string;
  at: number;
  /** HTTP status answered. */
  status: number;
  answer?: any;
  /** Set when `failOpen` answered this call. */
  injected?: string;
}

export interface SocketClose {
  /** The connection's number (1 = the first one). */
  connection: number;
  /** Who closed it: a close frame from the client, from the fake, or the TCP connection dropped. */
  by: 'client' | 'server' | 'dropped';
  code: number | null;
  at: number;
}

export type FailOpenHow = { status: number } | { ok: false; error: string };

export interface FakeSocketModeOptions {
  /** The expected app-level token (default `xapp-test`). */
  appToken?: string;
  /** Base URL of the fake Web API (`startFakeSlack().url`, ending in `/api/`): other methods are forwarded there. */
  webApi?: string;
  /** The app id in the hello and the WebSocket URL (default `A0CONDUCT`, as `fake-slack.ts`). */
  appId?: string;
}

export interface FakeSocketMode {
  /** `http://127.0.0.1:PORT/api/` (trailing slash): the app's `slackApiUrl`. */
  apiUrl: string;
  /** WebSocket connections open now. */
  readonly connections: number;
  /** WebSocket connections accepted so far (reconnects count). */
  readonly connectionsOpened: number;
  /** Every apps.connections.open call. */
  opens: ConnectionsOpenCall[];
  /** Every envelope pushed, in order. */
  envelopes: SocketEnvelope[];
  /** Every ack received, in order. */
  acks: SocketAck[];
  /** Closed connections, in order. */
  closes: SocketClose[];
  /** Pings received from the client (each answered with a pong). */
  readonly pings: number;
  violations: string[];
  /**
   * Sends an envelope on the newest open connection (waiting up to `timeoutMs` for one)
   * and resolves with the client's ack; rejects if none arrives within `timeoutMs` (default 5000).
   */
  push(type: EnvelopeType, payload: Record<string, any>, opts?: { timeoutMs?: number; acceptsResponsePayload?: boolean; retryAttempt?: number; retryReason?: string }): Promise<PushResult>;
  /** Sends Slack's `{ type: 'disconnect', reason }` on every open connection. */
  disconnect(reason?: string): void;
  /** Answers the next `times` (default 1) apps.connections.open calls this way. */
  failOpen(how: FailOpenHow, times?: number): void;
  /** Resolves once `predicate(fake)` holds (polled every 10 ms); rejects after `ms` (default 5000). */
  waitFor(predicate: (f: FakeSocketMode) => boolean, ms?: number): Promise<void>;
  expectNoViolations(): void;
  /** Closes every connection (close frame 1001, then the socket) and the server. */
  close(): Promise<void>;
}

/** The payload Socket Mode carries for a request built by `slack-requests.ts`: form fields as an object, or the parsed `payload=` / JSON body. */
export function socketPayload(req: SlackRequest): Record<string, any> {
  const type = (req.headers['Content-Type'] ?? '').split(';')[0]!.trim();
  if (type === 'application/json') return JSON.parse(req.body) as Record<string, any>;
  const fields = Object.fromEntries(new URLSearchParams(req.body));
  return typeof fields.payload === 'string' ? (JSON.parse(fields.payload) as Record<string, any>) : fields;
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

interface Connection {
  n: number;
  socket: Duplex;
  open: boolean;
  closeSent: boolean;
  send(text: string): void;
  close(code: number): void;
}

export async function startFakeSocketMode(opts: FakeSocketModeOptions = {}): Promise<FakeSocketMode> {
  const appToken = opts.appToken ?? 'xapp-test';
  const appId = opts.appId ?? 'A0CONDUCT';
  const opens: ConnectionsOpenCall[] = [];
  const envelopes: SocketEnvelope[] = [];
  const acks: SocketAck[] = [];
  const closes: SocketClose[] = [];
  const violations: string[] = [];
  const failures: { how: FailOpenHow; left: number }[] = [];
  const tickets = new Map<string, boolean>(); // ticket → used
  const live: Connection[] = [];
  const pending = new Map<string, (a: SocketAck) => void>();
  const sockets = new Set<Socket | Duplex>();
  let opened = 0;
  let pings = 0;
  let ticketSeq = 0;
  let base = '';

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    if (res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8' });
    res.end(text);
  };

  const onConnectionsOpen = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = (await readBody(req)).toString('utf8');
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : (new URLSearchParams(raw).get('token') ?? undefined);
    const call: ConnectionsOpenCall = { at: Date.now(), status: 200 };
    if (token !== undefined) call.token = token;
    opens.push(call);
    const answer = (status: number, body: unknown): void => {
      call.status = status;
      if (typeof body !== 'string') call.answer = body;
      send(res, status, body);
    };
    if (req.method !== 'POST') {
      violations.push(`apps.connections.open: ${req.method} instead of POST`);
      return answer(405, 'method_not_allowed');
    }
    const failure = failures[0];
    if (failure) {
      if (--failure.left <= 0) failures.shift();
      const how = failure.how;
      if ('status' in how) {
        call.injected = `status ${how.status}`;
        return answer(how.status, `fake Socket Mode: injected HTTP ${how.status}`);
      }
      call.injected = `error ${how.error}`;
      return answer(200, { ok: false, error: how.error });
    }
    if (token === undefined) {
      violations.push('apps.connections.open: no token (Authorization: Bearer xapp-…)');
      return answer(200, { ok: false, error: 'not_authed' });
    }
    if (!token.startsWith('xapp-')) {
      violations.push(`apps.connections.open: called with a ${token.slice(0, 5)}… token, not the app-level token`);
      return answer(200, { ok: false, error: 'not_allowed_token_type' });
    }
    if (token !== appToken) {
      violations.push(`apps.connections.open: wrong app token ${token.slice(0, 6)}…`);
      return answer(200, { ok: false, error: 'invalid_auth' });
    }
    const ticket = `${++ticketSeq}-${randomUUID()}`;
    tickets.set(ticket, false);
    const wsBase = base.replace(/^http/, 'ws');
    answer(200, { ok: true, url: `${wsBase}/link/?ticket=${ticket}&app_id=${appId}` });
  };

  /** Forwards a Web API call unchanged to the fake Web API and relays its answer. */
  const forward = async (method: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const raw = await readBody(req);
    if (!opts.webApi) {
      violations.push(`${method}: no webApi to forward to`);
      return send(res, 200, { ok: false, error: 'unknown_method', req_method: method });
    }
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'authorization']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const answer = await fetch(`${opts.webApi}${method}${url.search}`, {
      method: req.method ?? 'POST',
      headers,
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: new Uint8Array(raw) }),
    });
    const out: Record<string, string> = {};
    for (const h of ['content-type', 'retry-after']) {
      const v = answer.headers.get(h);
      if (v !== null) out[h] = v;
    }
    const body = Buffer.from(await answer.arrayBuffer());
    if (res.destroyed) return;
    res.writeHead(answer.status, out);
    res.end(body);
  };

  const onMessage = (conn: Connection, text: string): void => {
    let msg: any;
    try {
      msg = JSON.parse(text);
    } catch {
      violations.push(`connection ${conn.n}: a message that is not JSON: ${text.slice(0, 200)}`);
      return;
    }
    if (typeof msg !== 'object' || msg === null || typeof msg.envelope_id !== 'string') {
      violations.push(`connection ${conn.n}: a message without envelope_id: ${text.slice(0, 200)}`);
      return;
    }
    const ack: SocketAck = { envelope_id: msg.envelope_id, at: Date.now() };
    if ('payload' in msg) ack.payload = msg.payload;
    if (!envelopes.some((e) => e.envelope_id === msg.envelope_id)) violations.push(`connection ${conn.n}: ack for unknown envelope ${msg.envelope_id}`);
    else if (acks.some((a) => a.envelope_id === msg.envelope_id)) violations.push(`connection ${conn.n}: second ack for envelope ${msg.envelope_id}`);
    acks.push(ack);
    const waiter = pending.get(msg.envelope_id);
    if (waiter) {
      pending.delete(msg.envelope_id);
      waiter(ack);
    }
  };

  const accept = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const refuse = (status: string, problem: string): void => {
      violations.push(`WebSocket ${req.url}: ${problem}`);
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/link/' && url.pathname !== '/link') return refuse('404 Not Found', 'not the /link/ path');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (!tickets.has(ticket)) return refuse('401 Unauthorized', 'a ticket apps.connections.open never handed out');
    if (tickets.get(ticket)) return refuse('401 Unauthorized', `ticket ${ticket} used twice`);
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13' || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      return refuse('400 Bad Request', 'not a WebSocket version 13 upgrade');
    }
    tickets.set(ticket, true);
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);

    const conn: Connection = {
      n: ++opened,
      socket,
      open: true,
      closeSent: false,
      send(text) {
        if (!this.open || this.closeSent) throw new Error(`fake Socket Mode: connection ${this.n} is closing`);
        socket.write(frame(OP.text, Buffer.from(text, 'utf8')));
      },
      close(code) {
        if (this.closeSent || socket.destroyed) return;
        this.closeSent = true;
        const body = Buffer.alloc(2);
        body.writeUInt16BE(code, 0);
        socket.write(frame(OP.close, body));
        closes.push({ connection: this.n, by: 'server', code, at: Date.now() });
        // The client answers with its own close frame; don't wait for ever.
        setTimeout(() => socket.destroy(), 1000).unref();
      },
    };
    live.push(conn);

    let buf: Buffer = Buffer.alloc(0);
    let fragments: Buffer[] = [];
    let fragmentOp = 0;
    const protocolError = (problem: string): void => {
      violations.push(`connection ${conn.n}: ${problem}`);
      conn.close(1002);
    };
    const onFrame = (fin: boolean, opcode: number, data: Buffer): void => {
      switch (opcode) {
        case OP.continuation:
        case OP.text:
        case OP.binary: {
          if (opcode !== OP.continuation) {
            fragmentOp = opcode;
            fragments = [];
          }
          fragments.push(data);
          if (!fin) return;
          const whole = Buffer.concat(fragments);
          fragments = [];
          if (fragmentOp === OP.binary) violations.push(`connection ${conn.n}: a binary message`);
          else onMessage(conn, whole.toString('utf8'));
          return;
        }
        case OP.ping:
          pings++;
          if (!conn.closeSent) socket.write(frame(OP.pong, data));
          return;
        case OP.pong:
          return;
        case OP.close: {
          const code = data.length >= 2 ? data.readUInt16BE(0) : null;
          if (!conn.closeSent) {
            closes.push({ connection: conn.n, by: 'client', code, at: Date.now() });
            conn.closeSent = true;
            socket.write(frame(OP.close, data.subarray(0, 2)));
          }
          socket.end();
          return;
        }
        default:
          protocolError(`unknown opcode ${opcode}`);
      }
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        if (buf.length < 2) return;
        const b0 = buf[0]!;
        const b1 = buf[1]!;
        let len = b1 & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if ((b1 & 0x80) === 0) return protocolError('an unmasked frame from the client');
        if (buf.length < off + 4 + len) return;
        const mask = buf.subarray(off, off + 4);
        const data = Buffer.from(buf.subarray(off + 4, off + 4 + len));
        for (let i = 0; i < data.length; i++) data[i]! ^= mask[i % 4]!;
        buf = buf.subarray(off + 4 + len);
        onFrame((b0 & 0x80) !== 0, b0 & 0x0f, data);
      }
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      conn.open = false;
      live.splice(live.indexOf(conn), 1);
      if (!closes.some((c) => c.connection === conn.n)) closes.push({ connection: conn.n, by: 'dropped', code: null, at: Date.now() });
    });
    if (head.length > 0) onData(head);
    conn.send(
      JSON.stringify({
        type: 'hello',
        num_connections: live.length,
        debug_info: { host: 'applink-fake-127-0-0-1', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: appId },
      }),
    );
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const run = async (): Promise<void> => {
      if (url.pathname === '/api/apps.connections.open') return onConnectionsOpen(req, res);
      if (url.pathname.startsWith('/api/')) return forward(url.pathname.slice('/api/'.length), req, res, url);
      violations.push(`${req.method} ${url.pathname}: a path outside /api/`);
      send(res, 404, 'not_found');
    };
    run().catch((err: unknown) => {
      violations.push(`${url.pathname}: fake crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      send(res, 500, 'fake crashed');
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    accept(req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  let envelopeSeq = 0;

  const strict = registerStrictFake({
    name: 'fake Socket Mode',
    violations: () => violations,
    takeUnusedExpectations: () => failures.splice(0).map((f) => `failOpen ${JSON.stringify(f.how)} (${f.left} left)`),
  });

  const fake: FakeSocketMode = {
    apiUrl: `${base}/api/`,
    get connections() {
      return live.length;
    },
    get connectionsOpened() {
      return opened;
    },
    get pings() {
      return pings;
    },
    opens,
    envelopes,
    acks,
    closes,
    violations,
    async push(type, payload, o = {}) {
      const timeoutMs = o.timeoutMs ?? 5000;
      const deadline = Date.now() + timeoutMs;
      await fake
        .waitFor((f) => f.connections > 0, timeoutMs)
        .catch(() => {
          throw new Error(`fake Socket Mode: no open connection to push a ${type} envelope on within ${timeoutMs} ms`);
        });
      const conn = live[live.length - 1]!;
      const envelope: SocketEnvelope = {
        envelope_id: `${String(++envelopeSeq).padStart(4, '0')}-${randomUUID()}`,
        type,
        payload,
        accepts_response_payload: o.acceptsResponsePayload ?? (type === 'slash_commands' || (type === 'interactive' && payload.type === 'view_submission')),
      };
      if (type === 'events_api') {
        envelope.retry_attempt = o.retryAttempt ?? 0;
        envelope.retry_reason = o.retryReason ?? '';
      }
      envelopes.push(envelope);
      const sentAt = Date.now();
      const acked = new Promise<SocketAck>((resolve, reject) => {
        pending.set(envelope.envelope_id, resolve);
        const t = setTimeout(
          () => {
            if (!pending.delete(envelope.envelope_id)) return;
            reject(new Error(`fake Socket Mode: no ack for the ${type} envelope ${envelope.envelope_id} within ${timeoutMs} ms`));
          },
          Math.max(0, deadline - Date.now()),
        );
        t.unref();
      });
      conn.send(JSON.stringify(envelope));
      const ack = await acked;
      return { ack, envelope, ms: ack.at - sentAt };
    },
    disconnect(reason = 'refresh_requested') {
      for (const c of live) if (!c.closeSent) c.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake-127-0-0-1' } }));
    },
    failOpen(how, times = 1) {
      failures.push({ how, left: times });
    },
    async waitFor(predicate, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (predicate(fake)) return;
        if (Date.now() > deadline)
          throw new Error(`fake Socket Mode: waitFor timed out after ${ms} ms (connections open ${live.length}, opened ${opened}, apps.connections.open calls ${opens.length})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    expectNoViolations() {
      if (violations.length === 0) return;
      throw new Error(`fake Socket Mode saw ${violations.length} problem(s):\n${violations.map((v, i) => `  ${i + 1}. ${v}`).join('\n')}`);
    },
    async close() {
      strict.closed();
      for (const c of [...live]) c.close(1001);
      await new Promise((r) => setTimeout(r, 50));
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
