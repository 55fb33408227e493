/**
 * A strict fake of the Slack Web API on 127.0.0.1, for tests that point the
 * REAL `@slack/web-api` WebClient (or Bolt's `clientOptions.slackApiUrl`) at
 * `fake.url`.
 *
 * - Answers like Slack (shapes from the Web API reference) for the methods
 *   Conductor uses; keeps the state a test wants to assert on: messages
 *   (after updates), thread replies, ephemerals, modals and App Home views,
 *   and bodies posted to `response_url`s it hands out.
 * - Strict: an unknown method, a wrong token, a message or view over Slack's
 *   limits (see `slack-limits.ts`), a reused or expired trigger_id, a thread
 *   reply to an unknown message… each records a violation, and
 *   `expectNoUnexpectedCalls()` throws listing them. The answer is what Slack
 *   would say (`unknown_method`, `invalid_auth`, `invalid_blocks`, …).
 * - Told to fail: `failNext(method, how, times)` answers the next calls with an
 *   HTTP 500, a 429 + Retry-After, an `ok:false` error, or after a delay.
 *
 * Decisions: message timestamps come from a per-fake counter,
 * `1732460000.000100`, `1732460000.000200`, … (unique, increasing, also as
 * strings); the DM channel with user `U123` is `DU123` (stable, derivable,
 * see `dmChannel`); view ids are `V0000000001`, …; App Home keeps one view id
 * per user.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkMessage, checkView } from './slack-limits.js';
import { registerStrictFake } from './strict-fakes.js';

export interface FakeSlackUser {
  id: string;
  email: string;
  name?: string;
}

export interface FakeSlackOptions {
  /** The expected bot token (default `xoxb-test`). */
  token?: string;
  users?: FakeSlackUser[];
  /** The bot's user id, answered by auth.test (default `U0BOT`). */
  botUserId?: string;
}

export interface SlackCall {
  method: string;
  /** The arguments as parsed: form or JSON body (and query), `blocks`/`view`/`attachments`/`metadata` parsed to objects; no token. */
  args: Record<string, any>;
  /** Date.now() when the request arrived. */
  at: number;
  /** The token the call carried (Authorization header, or `token` in the body). */
  token?: string;
  /** Set when `failNext` answered this call: e.g. `status 500`, `rateLimited 3`, `error channel_not_found`, `delay 200ms`. */
  injected?: string;
  /** HTTP status answered. */
  status?: number;
  /** The JSON answered (for HTTP 200 answers). */
  answer?: any;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  /** The thread's parent ts, for thread replies. */
  thread_ts?: string;
  text: string;
  blocks?: any[];
  /** The bot user that posted it. */
  user: string;
  /** How many times chat.update changed it. */
  updates: number;
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: any[];
  thread_ts?: string;
  message_ts: string;
}

/** A view as the fake answers it: the view passed in, plus `id`, `hash`, `state`, … */
export type FakeView = Record<string, any> & { id: string; type: string; hash: string };

export interface FakeViews {
  /** Modals opened with views.open, in order (as opened), each with its trigger_id. */
  opened: (FakeView & { trigger_id: string })[];
  /** Modals pushed with views.push, in order. */
  pushed: (FakeView & { trigger_id: string })[];
  /** The current App Home view of each user (views.publish). */
  published: Map<string, FakeView>;
  /** Every views.update, in order (the view after the update). */
  updated: FakeView[];
  /** The current state of every view, by id. */
  byId: Map<string, FakeView>;
}

export interface FakeResponse {
  /** The path of the response_url posted to, e.g. `/response/3`. */
  path: string;
  url: string;
  body: any;
  at: number;
}

export interface Violation {
  method: string;
  problem: string;
  args?: unknown;
}

export type FailHow = { status: number } | { ok: false; error: string } | { rateLimited: number } | { delayMs: number };

export interface FakeSlack {
  /** e.g. `http://127.0.0.1:PORT/api/` (trailing slash), for `slackApiUrl`. */
  url: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /** The current state of every message posted and not deleted (after updates), in post order. */
  messages(): FakeMessage[];
  /** Replies in the thread of the message `ts` (in `channel`, when given). */
  thread(ts: string, channel?: string): FakeMessage[];
  /** Messages in the DM channel with `userId`. */
  dms(userId: string): FakeMessage[];
  /** The DM channel id conversations.open answers for `userId` (`D` + user id). */
  dmChannel(userId: string): string;
  ephemerals: FakeEphemeral[];
  views: FakeViews;
  responses: FakeResponse[];
  violations: Violation[];
  /** The fake's answers to auth.test. */
  readonly team: { id: string; botUserId: string; botId: string; appId: string };
  addUser(user: FakeSlackUser): void;
  /** Answers the next `times` (default 1) calls to `method` this way (`response_url` for response URLs). */
  failNext(method: string, how: FailHow, times?: number): void;
  /** Throws listing every violation: unknown methods, wrong tokens, limit breaches, bad arguments. */
  expectNoUnexpectedCalls(): void;
  /** Forgets the violations so far: a test that provoked them on purpose acknowledges them (see strict-fakes.ts). */
  clearViolations(): void;
  /** Resolves once `predicate(fake)` holds (polled every 10 ms); rejects after `ms` (default 5000). */
  waitFor(predicate: (f: FakeSlack) => boolean, ms?: number): Promise<void>;
  /** A fresh loopback URL for a payload's `response_url`; bodies posted there land in `responses`. */
  responseUrl(): string;
  close(): Promise<void>;
}

const TEAM_ID = 'T0CONDUCT';
const BOT_ID = 'B0CONDUCT';
const APP_ID = 'A0CONDUCT';
const TS_BASE_SECONDS = 1732460000;
/** Slack's response_url accepts up to 5 posts (within 30 minutes). */
const RESPONSE_URL_USES = 5;
/** trigger_id expires 3 s after the interaction. */
const TRIGGER_TTL_MS = 3000;
/** JSON-valued arguments that a form body carries as JSON strings. */
const JSON_ARGS = ['blocks', 'attachments', 'view', 'metadata'];

const IMPLEMENTED = new Set([
  'auth.test',
  'chat.postMessage',
  'chat.update',
  'chat.delete',
  'chat.postEphemeral',
  'chat.getPermalink',
  'conversations.open',
  'users.lookupByEmail',
  'users.info',
  'views.open',
  'views.push',
  'views.update',
  'views.publish',
]);

type Answer = Record<string, any>;
interface Failure {
  how: FailHow;
  left: number;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parses a form or JSON body (plus the query string) into args; returns a parse problem if any. */
function parseArgs(req: IncomingMessage, raw: string, query: URLSearchParams): { args: Record<string, any>; problem?: string } {
  const args: Record<string, any> = Object.fromEntries(query.entries());
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (raw.length > 0) {
    if (type === 'application/json') {
      try {
        const parsed = JSON.parse(raw);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { args, problem: 'JSON body is not an object' };
        Object.assign(args, parsed);
      } catch {
        return { args, problem: 'JSON body does not parse' };
      }
    } else if (type === 'application/x-www-form-urlencoded' || type === '') {
      for (const [k, v] of new URLSearchParams(raw)) args[k] = v;
    } else {
      return { args, problem: `unsupported content-type ${type}` };
    }
  }
  for (const key of JSON_ARGS) {
    if (typeof args[key] === 'string') {
      try {
        args[key] = JSON.parse(args[key]);
      } catch {
        return { args, problem: `${key} is not valid JSON` };
      }
    }
  }
  return { args };
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const token = opts.token ?? 'xoxb-test';
  const botUserId = opts.botUserId ?? 'U0BOT';
  const users = new Map<string, FakeSlackUser>();
  for (const u of opts.users ?? []) users.set(u.id, u);

  const calls: SlackCall[] = [];
  const violations: Violation[] = [];
  const ephemerals: FakeEphemeral[] = [];
  const responses: FakeResponse[] = [];
  const views: FakeViews = { opened: [], pushed: [], published: new Map(), updated: [], byId: new Map() };
  const messages: FakeMessage[] = [];
  const failures = new Map<string, Failure[]>();
  const openedDms = new Set<string>();
  const usedTriggers = new Set<string>();
  const responseUrls = new Map<string, number>(); // path → posts so far
  const timers = new Set<NodeJS.Timeout>();
  let base = '';
  let seq = 0;
  let viewSeq = 0;
  let responseSeq = 0;

  const nextTs = (): string => {
    const micros = ++seq * 100;
    return `${TS_BASE_SECONDS + Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  };
  const nextViewId = (): string => `V${String(++viewSeq).padStart(10, '0')}`;
  const nextHash = (): string => `${TS_BASE_SECONDS}.${String(++seq).padStart(8, '0')}`;
  const dmChannel = (userId: string): string => `D${userId}`;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const takeFailure = (method: string): FailHow | undefined => {
    const queue = failures.get(method);
    const first = queue?.[0];
    if (!queue || !first) return undefined;
    if (--first.left <= 0) queue.shift();
    return first.how;
  };

  const userJson = (u: FakeSlackUser, isBot = false): Answer => ({
    id: u.id,
    team_id: TEAM_ID,
    name: u.name ?? u.email.split('@')[0],
    deleted: false,
    real_name: u.name ?? u.email.split('@')[0],
    is_bot: isBot,
    is_admin: false,
    tz: 'UTC',
    profile: { email: u.email, real_name: u.name ?? '', display_name: u.name ?? '', team: TEAM_ID },
  });
  const botUser: FakeSlackUser = { id: botUserId, email: 'conductor-bot@example.invalid', name: 'conductor' };

  const messageJson = (m: FakeMessage): Answer => ({
    type: 'message',
    text: m.text,
    user: m.user,
    bot_id: BOT_ID,
    app_id: APP_ID,
    team: TEAM_ID,
    ts: m.ts,
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.thread_ts ? { thread_ts: m.thread_ts, parent_user_id: botUserId } : {}),
  });

  const storeView = (view: Record<string, any>, id: string): FakeView => {
    const stored: FakeView = {
      id,
      team_id: TEAM_ID,
      private_metadata: '',
      callback_id: '',
      external_id: '',
      state: { values: {} },
      title: null,
      close: null,
      submit: null,
      clear_on_close: false,
      notify_on_close: false,
      previous_view_id: null,
      root_view_id: id,
      app_id: APP_ID,
      app_installed_team_id: TEAM_ID,
      bot_id: BOT_ID,
      ...view,
      type: String(view.type),
      hash: nextHash(),
    };
    views.byId.set(id, stored);
    return stored;
  };

  /** Handlers: `bad(problem, error)` records a violation and answers ok:false. */
  const handle = (method: string, a: Record<string, any>): Answer => {
    const bad = (problem: string, error: string, extra: Answer = {}): Answer => {
      violations.push({ method, problem, args: a });
      return { ok: false, error, ...extra };
    };
    const limits = (problems: string[]): Answer | undefined =>
      problems.length > 0 ? bad(problems.join('; '), 'invalid_blocks', { response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } }) : undefined;
    const hasContent = (x: Record<string, any>): boolean => (typeof x.text === 'string' && x.text.length > 0) || x.blocks !== undefined || x.attachments !== undefined;
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://conductor-test.slack.com/',
          team: 'Conductor Test',
          user: 'conductor',
          team_id: TEAM_ID,
          user_id: botUserId,
          bot_id: BOT_ID,
          is_enterprise_install: false,
        };

      case 'chat.postMessage': {
        let channel = str(a.channel);
        if (!channel) return bad('channel is missing', 'channel_not_found');
        if (!hasContent(a)) return bad('neither text nor blocks', 'no_text');
        const invalid = limits(checkMessage(a));
        if (invalid) return invalid;
        if (/^[UW]/.test(channel)) channel = dmChannel(channel); // posting to a user id posts in the app's DM with them
        let threadTs = str(a.thread_ts);
        if (threadTs) {
          const parent = messages.find((m) => m.channel === channel && m.ts === threadTs);
          if (!parent) violations.push({ method, problem: `thread_ts ${threadTs} names no message in ${channel}`, args: a });
          else if (parent.thread_ts) threadTs = parent.thread_ts; // a reply to a reply joins the parent's thread
        }
        const m: FakeMessage = { channel, ts: nextTs(), text: typeof a.text === 'string' ? a.text : '', user: botUserId, updates: 0 };
        if (threadTs) m.thread_ts = threadTs;
        if (Array.isArray(a.blocks)) m.blocks = a.blocks;
        messages.push(m);
        return { ok: true, channel, ts: m.ts, message: messageJson(m) };
      }

      case 'chat.update': {
        const channel = str(a.channel);
        const ts = str(a.ts);
        if (!channel) return bad('channel is missing', 'channel_not_found');
        if (/^[UW]/.test(channel)) return bad(`chat.update needs the conversation id (as chat.postMessage answered), not the user id ${channel}`, 'channel_not_found');
        if (!ts) return bad('ts is missing', 'message_not_found');
        if (!hasContent(a)) return bad('neither text nor blocks', 'no_text');
        const invalid = limits(checkMessage(a));
        if (invalid) return invalid;
        const m = messages.find((x) => x.channel === channel && x.ts === ts);
        if (!m) return { ok: false, error: 'message_not_found' };
        if (typeof a.text === 'string') m.text = a.text;
        if (Array.isArray(a.blocks)) {
          if (a.blocks.length === 0) delete m.blocks;
          else m.blocks = a.blocks;
        }
        m.updates++;
        return { ok: true, channel, ts, text: m.text, message: { ...messageJson(m), edited: { user: botUserId, ts: nextTs() } } };
      }

      case 'chat.delete': {
        const i = messages.findIndex((x) => x.channel === a.channel && x.ts === a.ts);
        if (i < 0) return { ok: false, error: 'message_not_found' };
        messages.splice(i, 1);
        return { ok: true, channel: a.channel, ts: a.ts };
      }

      case 'chat.getPermalink': {
        const m = messages.find((x) => x.channel === a.channel && x.ts === a.message_ts);
        if (!m) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: m.channel, permalink: `https://conductor-test.slack.com/archives/${m.channel}/p${m.ts.replace('.', '')}` };
      }

      case 'chat.postEphemeral': {
        const channel = str(a.channel);
        const user = str(a.user);
        if (!channel) return bad('channel is missing', 'channel_not_found');
        if (!user) return bad('user is missing', 'user_not_in_channel');
        if (!hasContent(a)) return bad('neither text nor blocks', 'no_text');
        const invalid = limits(checkMessage(a));
        if (invalid) return invalid;
        const e: FakeEphemeral = { channel, user, text: typeof a.text === 'string' ? a.text : '', message_ts: nextTs() };
        if (Array.isArray(a.blocks)) e.blocks = a.blocks;
        if (str(a.thread_ts)) e.thread_ts = a.thread_ts;
        ephemerals.push(e);
        return { ok: true, message_ts: e.message_ts };
      }

      case 'conversations.open': {
        const ids = (str(a.users) ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (ids.length === 0) {
          if (str(a.channel)) return { ok: true, channel: { id: a.channel } };
          return bad('users is missing', 'users_list_not_supplied');
        }
        const bad_ = ids.find((id) => !/^[UW]/.test(id));
        if (bad_) return bad(`${bad_} is not a user id`, 'user_not_found');
        const id = ids.length === 1 ? dmChannel(ids[0]!) : `G${[...ids].sort().join('')}`;
        const already = openedDms.has(id);
        openedDms.add(id);
        const channel = a.return_im === 'true' || a.return_im === true ? { id, is_im: ids.length === 1, user: ids[0], created: TS_BASE_SECONDS } : { id };
        return already ? { ok: true, no_op: true, already_open: true, channel } : { ok: true, channel };
      }

      case 'users.lookupByEmail': {
        const email = str(a.email);
        if (!email) return bad('email is missing', 'invalid_arguments');
        const u = [...users.values()].find((x) => x.email.toLowerCase() === email.toLowerCase());
        return u ? { ok: true, user: userJson(u) } : { ok: false, error: 'users_not_found' };
      }

      case 'users.info': {
        const id = str(a.user);
        if (!id) return bad('user is missing', 'user_not_found');
        if (id === botUserId) return { ok: true, user: userJson(botUser, true) };
        const u = users.get(id);
        return u ? { ok: true, user: userJson(u) } : { ok: false, error: 'user_not_found' };
      }

      case 'views.open':
      case 'views.push': {
        const trigger = str(a.trigger_id);
        if (!trigger) return bad('trigger_id is missing', 'invalid_arguments');
        if (typeof a.view !== 'object' || a.view === null) return bad('view is missing', 'invalid_arguments');
        if (a.view.type !== 'modal') return bad(`${method} needs a modal view (got ${JSON.stringify(a.view.type)})`, 'invalid_arguments');
        const invalid = limits(checkView(a.view));
        if (invalid) return invalid;
        const issued = /^trig\.(\d+)\./.exec(trigger);
        if (issued && Date.now() - Number(issued[1]) > TRIGGER_TTL_MS) return bad(`trigger_id ${trigger} used more than 3 s after the interaction`, 'expired_trigger_id');
        if (usedTriggers.has(trigger)) return bad(`trigger_id ${trigger} used twice`, 'exchanged_trigger_id');
        usedTriggers.add(trigger);
        const view = storeView(a.view, nextViewId());
        (method === 'views.open' ? views.opened : views.pushed).push({ ...view, trigger_id: trigger });
        return { ok: true, view };
      }

      case 'views.update': {
        if (typeof a.view !== 'object' || a.view === null) return bad('view is missing', 'invalid_arguments');
        const id = str(a.view_id) ?? [...views.byId.values()].find((v) => str(a.external_id) && v.external_id === a.external_id)?.id;
        if (!id) return bad('view_id or external_id is missing', 'invalid_arguments');
        const current = views.byId.get(id);
        if (!current) return { ok: false, error: 'not_found' };
        if (str(a.hash) && a.hash !== current.hash) return { ok: false, error: 'hash_conflict' };
        const invalid = limits(checkView(a.view));
        if (invalid) return invalid;
        const view = storeView({ root_view_id: current.root_view_id, previous_view_id: current.previous_view_id, ...a.view }, id);
        views.updated.push(view);
        if (view.type === 'home') for (const [user, v] of views.published) if (v.id === id) views.published.set(user, view);
        return { ok: true, view };
      }

      case 'views.publish': {
        const user = str(a.user_id);
        if (!user) return bad('user_id is missing', 'invalid_arguments');
        if (typeof a.view !== 'object' || a.view === null) return bad('view is missing', 'invalid_arguments');
        if (a.view.type !== 'home') return bad(`views.publish needs a home view (got ${JSON.stringify(a.view.type)})`, 'invalid_arguments');
        const invalid = limits(checkView(a.view));
        if (invalid) return invalid;
        const current = views.published.get(user);
        if (current && str(a.hash) && a.hash !== current.hash) return { ok: false, error: 'hash_conflict' };
        const view = storeView(a.view, current?.id ?? nextViewId());
        views.published.set(user, view);
        return { ok: true, view };
      }
    }
    return { ok: false, error: 'unknown_method', req_method: method };
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...headers });
    res.end(text);
  };

  /** A failNext answer, or undefined to go on (after any delay). */
  const injectFailure = async (method: string, res: ServerResponse, call?: SlackCall): Promise<boolean> => {
    const how = takeFailure(method);
    if (!how) return false;
    const note = (s: string, status: number, answer?: unknown): void => {
      if (call) Object.assign(call, { injected: s, status, ...(answer === undefined ? {} : { answer }) });
    };
    if ('delayMs' in how) {
      if (call) call.injected = `delay ${how.delayMs}ms`;
      await sleep(how.delayMs);
      return false;
    }
    if ('rateLimited' in how) {
      const answer = { ok: false, error: 'ratelimited' };
      note(`rateLimited ${how.rateLimited}`, 429, answer);
      send(res, 429, answer, { 'retry-after': String(how.rateLimited) });
      return true;
    }
    if ('status' in how) {
      note(`status ${how.status}`, how.status);
      send(res, how.status, `fake Slack: injected HTTP ${how.status}`);
      return true;
    }
    const answer = { ok: false, error: how.error };
    note(`error ${how.error}`, 200, answer);
    send(res, 200, answer);
    return true;
  };

  const onApi = async (method: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const raw = await readBody(req);
    const { args, problem } = parseArgs(req, raw, url.searchParams);
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : undefined;
    const callToken: string | undefined = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    delete args.token;
    const call: SlackCall = { method, args, at: Date.now() };
    if (callToken !== undefined) call.token = callToken;
    calls.push(call);
    if (await injectFailure(method, res, call)) return;

    let answer: Answer;
    if (problem) {
      violations.push({ method, problem, args });
      answer = { ok: false, error: problem.startsWith('blocks') ? 'invalid_blocks_format' : 'invalid_arguments' };
    } else if (callToken === undefined) {
      violations.push({ method, problem: 'no token (Authorization: Bearer …)', args });
      answer = { ok: false, error: 'not_authed' };
    } else if (callToken !== token) {
      violations.push({ method, problem: `wrong token ${callToken.slice(0, 5)}…`, args });
      answer = { ok: false, error: 'invalid_auth' };
    } else if (!IMPLEMENTED.has(method)) {
      violations.push({ method, problem: `unknown method ${method} (not a method the fake implements)`, args });
      answer = { ok: false, error: 'unknown_method', req_method: method };
    } else {
      answer = handle(method, args);
    }
    call.status = 200;
    call.answer = answer;
    send(res, 200, answer);
  };

  const onResponseUrl = async (path: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const method = 'response_url';
    if (!responseUrls.has(path)) {
      violations.push({ method, problem: `POST to ${path}, a response_url the fake never handed out` });
      return send(res, 404, 'no_such_response_url');
    }
    let body: any = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      const form = Object.fromEntries(new URLSearchParams(raw));
      body = typeof form.payload === 'string' ? JSON.parse(form.payload) : form;
    }
    if (await injectFailure(method, res)) return;
    const uses = responseUrls.get(path)! + 1;
    responseUrls.set(path, uses);
    responses.push({ path, url: `${base}${path}`, body, at: Date.now() });
    if (uses > RESPONSE_URL_USES) {
      violations.push({ method, problem: `${path} used ${uses} times (Slack allows ${RESPONSE_URL_USES})`, args: body });
      return send(res, 404, 'used_url');
    }
    if (typeof body !== 'object' || body === null) {
      violations.push({ method, problem: 'body is not a JSON object', args: body });
      return send(res, 400, 'invalid_payload');
    }
    if (body.delete_original !== true && body.delete_original !== 'true') {
      const problems = checkMessage(body);
      if (problems.length > 0) {
        violations.push({ method, problem: problems.join('; '), args: body });
        return send(res, 400, 'invalid_blocks');
      }
    }
    send(res, 200, { ok: true });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const run = async (): Promise<void> => {
      if (url.pathname.startsWith('/api/')) return onApi(url.pathname.slice('/api/'.length), req, res, url);
      if (url.pathname.startsWith('/response/')) return onResponseUrl(url.pathname, req, res);
      violations.push({ method: `${req.method} ${url.pathname}`, problem: 'request to a path outside /api/ and /response/' });
      send(res, 404, 'not_found');
    };
    run().catch((err: unknown) => {
      violations.push({ method: url.pathname, problem: `fake crashed: ${err instanceof Error ? err.stack : String(err)}` });
      send(res, 500, 'fake crashed');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  const strict = registerStrictFake({
    name: 'fake Slack',
    violations: () => violations.map((v) => `${v.method}: ${v.problem}`),
    takeUnusedExpectations: () => {
      // A delay is a condition ("Slack is slow for up to n calls"), not an answer a test expects to be used: leftovers are dropped silently.
      const unused = [...failures].flatMap(([method, queue]) =>
        queue.filter((f) => f.left > 0 && !('delayMs' in f.how)).map((f) => `failNext ${method} ${JSON.stringify(f.how)} (${f.left} left)`),
      );
      failures.clear();
      return unused;
    },
  });

  const fake: FakeSlack = {
    url: `${base}/api/`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    messages: () => messages.map((m) => ({ ...m })),
    thread: (ts, channel) => messages.filter((m) => m.thread_ts === ts && (channel === undefined || m.channel === channel)).map((m) => ({ ...m })),
    dms: (userId) => messages.filter((m) => m.channel === dmChannel(userId)).map((m) => ({ ...m })),
    dmChannel,
    ephemerals,
    views,
    responses,
    violations,
    team: { id: TEAM_ID, botUserId, botId: BOT_ID, appId: APP_ID },
    addUser: (u) => void users.set(u.id, u),
    failNext(method, how, times = 1) {
      const queue = failures.get(method) ?? [];
      queue.push({ how, left: times });
      failures.set(method, queue);
    },
    expectNoUnexpectedCalls() {
      if (violations.length === 0) return;
      const lines = violations.map((v, i) => `  ${i + 1}. ${v.method}: ${v.problem}`);
      throw new Error(`fake Slack saw ${violations.length} unexpected call(s):\n${lines.join('\n')}`);
    },
    clearViolations: () => {
      violations.splice(0);
      strict.cleared();
    },
    async waitFor(predicate, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (predicate(fake)) return;
        if (Date.now() > deadline) {
          const recent = calls.slice(-15).map((c) => `${c.method}${c.answer && c.answer.ok === false ? ` → ${c.answer.error}` : ''}`);
          throw new Error(`fake Slack: waitFor timed out after ${ms} ms; last calls: ${recent.join(', ') || '(none)'}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    responseUrl() {
      const path = `/response/${++responseSeq}`;
      responseUrls.set(path, 0);
      return `${base}${path}`;
    },
    async close() {
      strict.closed();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
