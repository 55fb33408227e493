/**
 * Builders for SIGNED requests to Conductor's `POST /slack/events`, shaped like
 * the ones Slack sends: slash commands and interactivity payloads are
 * form-encoded (`payload=<JSON>` for interactivity), events are JSON.
 *
 * Signing (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing
 * secret, in `X-Slack-Signature`, with `X-Slack-Request-Timestamp` (seconds).
 * Builders sign with `TEST_SIGNING_SECRET` at the current time; `send()` re-signs
 * when given another `secret` or `timestamp` (for 401 tests).
 *
 * Trigger ids look like `trig.<epoch ms>.<n>`: the fake Slack reads the time
 * and answers `expired_trigger_id` to a views.open more than 3 s later.
 */
import { createHmac } from 'node:crypto';
import { SLASH_COMMAND } from '../../src/slack/registrations.js';

export const TEST_SIGNING_SECRET = 'test-signing-secret';
/** The (deprecated) verification token Slack still puts in payloads. */
export const TEST_VERIFICATION_TOKEN = 'test-verification-token';
export const TEST_TEAM_ID = 'T0CONDUCT';
export const TEST_APP_ID = 'A0CONDUCT';

export interface SlackRequest {
  body: string;
  headers: Record<string, string>;
}

export interface SignOptions {
  secret?: string;
  /** Seconds since the epoch (default: now). */
  timestamp?: number;
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

let seq = 0;
const now = (): number => Math.floor(Date.now() / 1000);
/** A fresh trigger id; the fake Slack treats it as expired 3 s after `atMs`. */
export const triggerId = (atMs = Date.now()): string => `trig.${atMs}.${++seq}`;
const actionTs = (): string => (Date.now() / 1000).toFixed(6);

/** The `X-Slack-Signature` value for `body` at `timestamp`. */
export function signature(body: string, timestamp: number, secret = TEST_SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Signs a raw body: content type, timestamp and signature headers. */
export function sign(body: string, contentType: string, opts: SignOptions = {}): SlackRequest {
  const timestamp = opts.timestamp ?? now();
  return {
    body,
    headers: {
      'Content-Type': contentType,
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': signature(body, timestamp, opts.secret),
    },
  };
}

const form = (fields: Record<string, string>, opts?: SignOptions): SlackRequest => sign(new URLSearchParams(fields).toString(), FORM, opts);
const interactive = (payload: unknown, opts?: SignOptions): SlackRequest => form({ payload: JSON.stringify(payload) }, opts);
const team = (teamId = TEST_TEAM_ID) => ({ id: teamId, domain: 'conductor-test' });
const user = (userId: string, teamId = TEST_TEAM_ID) => ({ id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: teamId });

export interface SlashCommandInput {
  text: string;
  userId: string;
  channelId: string;
  responseUrl: string;
  triggerId?: string;
  teamId?: string;
  userName?: string;
  command?: string;
}

/** `/conductor <text>` as Slack posts it. */
export function slashCommand(i: SlashCommandInput, opts?: SignOptions): SlackRequest {
  return form(
    {
      token: TEST_VERIFICATION_TOKEN,
      team_id: i.teamId ?? TEST_TEAM_ID,
      team_domain: 'conductor-test',
      channel_id: i.channelId,
      channel_name: i.channelId.startsWith('D') ? 'directmessage' : i.channelId.toLowerCase(),
      user_id: i.userId,
      user_name: i.userName ?? i.userId.toLowerCase(),
      command: i.command ?? SLASH_COMMAND,
      text: i.text,
      api_app_id: TEST_APP_ID,
      is_enterprise_install: 'false',
      response_url: i.responseUrl,
      trigger_id: i.triggerId ?? triggerId(),
    },
    opts,
  );
}

export interface BlockActionInput {
  actionId: string;
  /** The button's value (e.g. JSON of `ActionValue`). */
  value: string;
  userId: string;
  /** The message's channel (for a button in a message). */
  channelId?: string;
  /** The message's ts (for a button in a message). */
  messageTs?: string;
  triggerId?: string;
  responseUrl?: string;
  /** For a button in a modal or App Home: the view (at least `id`; `type` defaults to modal). */
  view?: Record<string, any> & { id: string };
  blockId?: string;
  buttonText?: string;
  teamId?: string;
}

/** A button click (`block_actions`) in a message, or in a view when `view` is given. */
export function blockAction(i: BlockActionInput, opts?: SignOptions): SlackRequest {
  const teamId = i.teamId ?? TEST_TEAM_ID;
  const inMessage = !i.view;
  const container = inMessage ? { type: 'message', message_ts: i.messageTs, channel_id: i.channelId, is_ephemeral: false } : { type: 'view', view_id: i.view!.id };
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: user(i.userId, teamId),
    api_app_id: TEST_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    container,
    trigger_id: i.triggerId ?? triggerId(),
    team: team(teamId),
    enterprise: null,
    is_enterprise_install: false,
    state: { values: {} },
    actions: [
      {
        action_id: i.actionId,
        block_id: i.blockId ?? 'actions',
        text: { type: 'plain_text', text: i.buttonText ?? i.actionId, emoji: true },
        value: i.value,
        type: 'button',
        action_ts: actionTs(),
      },
    ],
  };
  if (i.channelId) payload.channel = { id: i.channelId, name: i.channelId.toLowerCase() };
  if (inMessage) payload.message = { type: 'message', ts: i.messageTs, text: '', user: 'U0BOT', bot_id: 'B0CONDUCT' };
  else payload.view = { type: 'modal', team_id: teamId, app_id: TEST_APP_ID, state: { values: {} }, ...i.view };
  if (i.responseUrl) payload.response_url = i.responseUrl;
  return interactive(payload, opts);
}

export interface ViewSubmissionInput {
  callbackId: string;
  privateMetadata: string;
  userId: string;
  /** `state.values`: block_id → action_id → { type, value, … }. */
  values?: Record<string, Record<string, unknown>>;
  viewId?: string;
  teamId?: string;
}

/** A modal's submit (`view_submission`). */
export function viewSubmission(i: ViewSubmissionInput, opts?: SignOptions): SlackRequest {
  const teamId = i.teamId ?? TEST_TEAM_ID;
  const viewId = i.viewId ?? 'V0000000001';
  return interactive(
    {
      type: 'view_submission',
      team: team(teamId),
      user: user(i.userId, teamId),
      api_app_id: TEST_APP_ID,
      token: TEST_VERIFICATION_TOKEN,
      trigger_id: triggerId(),
      view: {
        id: viewId,
        team_id: teamId,
        type: 'modal',
        blocks: [],
        private_metadata: i.privateMetadata,
        callback_id: i.callbackId,
        state: { values: i.values ?? {} },
        hash: `${now()}.hash`,
        title: { type: 'plain_text', text: 'Confirm', emoji: true },
        clear_on_close: false,
        notify_on_close: false,
        close: { type: 'plain_text', text: 'Cancel', emoji: true },
        submit: { type: 'plain_text', text: 'Confirm', emoji: true },
        previous_view_id: null,
        root_view_id: viewId,
        app_id: TEST_APP_ID,
        external_id: '',
        app_installed_team_id: teamId,
        bot_id: 'B0CONDUCT',
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    },
    opts,
  );
}

export interface EventInput {
  type: string;
  user?: string;
  [key: string]: unknown;
}

/** An Events API `event_callback` (e.g. `{ type: 'app_home_opened', user, tab: 'home' }`). */
export function event(e: EventInput, opts?: SignOptions & { eventId?: string; teamId?: string; botUserId?: string }): SlackRequest {
  const teamId = opts?.teamId ?? TEST_TEAM_ID;
  const time = now();
  const inner: Record<string, unknown> = { event_ts: actionTs(), ...e };
  if (e.type === 'app_home_opened' && inner.channel === undefined && typeof e.user === 'string') inner.channel = `D${e.user}`;
  const body = {
    token: TEST_VERIFICATION_TOKEN,
    team_id: teamId,
    api_app_id: TEST_APP_ID,
    event: inner,
    type: 'event_callback',
    event_id: opts?.eventId ?? `Ev${String(Date.now()).slice(-8)}${String(++seq).padStart(4, '0')}`,
    event_time: time,
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: opts?.botUserId ?? 'U0BOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
  return sign(JSON.stringify(body), JSON_TYPE, opts);
}

/** The Events API handshake: the app must answer the challenge. */
export function urlVerification(challenge: string, opts?: SignOptions): SlackRequest {
  return sign(JSON.stringify({ token: TEST_VERIFICATION_TOKEN, challenge, type: 'url_verification' }), JSON_TYPE, opts);
}

export interface SendOptions extends SignOptions {
  /** Adds `X-Slack-Retry-Num` (and `X-Slack-Retry-Reason`). */
  retryNum?: number;
  retryReason?: string;
  /** Extra headers, last word. */
  headers?: Record<string, string>;
  /** Abort the request after this many ms. */
  timeoutMs?: number;
}

export interface SendResult {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json: any;
  /** Round-trip time in ms. */
  ms: number;
}

/** Re-signs `req` (e.g. with a wrong secret or an old timestamp). */
export function resign(req: SlackRequest, opts: SignOptions): SlackRequest {
  return sign(req.body, req.headers['Content-Type'] ?? FORM, opts);
}

/**
 * POSTs `req` to `<baseUrl>/slack/events` (or to `baseUrl` itself when it
 * already ends with `/slack/events`). With `secret` or `timestamp`, re-signs first.
 */
export async function send(baseUrl: string, req: SlackRequest, opts: SendOptions = {}): Promise<SendResult> {
  const url = baseUrl.replace(/\/+$/, '').endsWith('/slack/events') ? baseUrl.replace(/\/+$/, '') : `${baseUrl.replace(/\/+$/, '')}/slack/events`;
  const signed = opts.secret !== undefined || opts.timestamp !== undefined ? resign(req, opts) : req;
  const headers: Record<string, string> = { ...signed.headers };
  if (opts.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(opts.retryNum);
    headers['X-Slack-Retry-Reason'] = opts.retryReason ?? 'http_timeout';
  }
  Object.assign(headers, opts.headers);
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: signed.body,
    ...(opts.timeoutMs !== undefined ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
  const body = await res.text();
  const ms = performance.now() - started;
  let json: any;
  try {
    json = body.length > 0 ? JSON.parse(body) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, body, json, ms };
}
