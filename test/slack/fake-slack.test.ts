// Proves the strict fake Slack with the REAL @slack/web-api WebClient, and the
// signed request builders with Bolt's own signature verification.
import { App, HTTPReceiver, isValidSlackRequest, LogLevel, verifySlackRequest } from '@slack/bolt';
import { type Logger, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, SLASH_COMMAND, VIEWS } from '../../src/slack/registrations.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { checkMessage, checkView } from '../support/slack-limits.js';
import { blockAction, event, type SlackRequest, send, signature, slashCommand, TEST_SIGNING_SECRET, triggerId, urlVerification, viewSubmission } from '../support/slack-requests.js';
import { acknowledgeFakeProblems } from '../support/strict-fakes.js';

const USERS = [
  { id: 'U0ALICE', email: 'alice@example.com', name: 'Alice' },
  { id: 'U0BOB', email: 'bob@example.com' },
];

let fake: FakeSlack;
let client: WebClient;

/** The client logs Slack's `response_metadata` messages as errors: these tests provoke them on purpose. */
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => LogLevel.ERROR, setName() {} };

const makeClient = (token = 'xoxb-test'): WebClient => new WebClient(token, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger: quiet });

beforeEach(async () => {
  fake = await startFakeSlack({ users: USERS });
  client = makeClient();
});
afterEach(async () => {
  // These tests provoke violations on purpose and assert on them (or call expectNoUnexpectedCalls) themselves.
  acknowledgeFakeProblems();
  await fake.close();
});

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (text: string, value = 'v', action_id: string = ACTIONS.verify) => ({ type: 'button', text: { type: 'plain_text', text }, value, action_id });
const modal = (extra: Record<string, unknown> = {}) => ({
  type: 'modal' as const,
  callback_id: VIEWS.confirm,
  title: { type: 'plain_text' as const, text: 'Confirm' },
  submit: { type: 'plain_text' as const, text: 'Go' },
  close: { type: 'plain_text' as const, text: 'Cancel' },
  private_metadata: JSON.stringify({ line: 'web', text: 'emergency', channel: 'C1' }),
  blocks: [section('Sure?')],
  ...extra,
});

/** Expects the call to reject with a platform error `code`, and the fake to have recorded a violation. */
async function rejectsWith(p: Promise<unknown>, error: string): Promise<WebAPIPlatformError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ok:false ${error}`).toBeDefined();
  expect((err as WebAPIPlatformError).code).toBe('slack_webapi_platform_error');
  expect((err as WebAPIPlatformError).data.error).toBe(error);
  return err as WebAPIPlatformError;
}

describe('fake Slack: methods answer like Slack', () => {
  it('url ends with a slash; auth.test names the bot', async () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const r = await client.auth.test();
    expect(r).toMatchObject({ ok: true, user_id: 'U0BOT', bot_id: fake.team.botId, team_id: fake.team.id });
    expect(r.url).toMatch(/^https:\/\//);
    expect(fake.callsTo('auth.test')).toHaveLength(1);
    expect(fake.calls[0]!.token).toBe('xoxb-test');
    fake.expectNoUnexpectedCalls();
  });

  it('chat.postMessage answers channel, unique increasing ts and the message; blocks arrive parsed', async () => {
    const blocks = [section('*Train #1*'), { type: 'actions', elements: [button('Verify')] }];
    const a = await client.chat.postMessage({ channel: 'C1', text: 'Train #1', blocks });
    const b = await client.chat.postMessage({ channel: 'C1', text: 'second' });
    expect(a).toMatchObject({ ok: true, channel: 'C1', message: { text: 'Train #1', user: 'U0BOT', bot_id: fake.team.botId } });
    expect(a.ts).toBe('1732460000.000100');
    expect(b.ts).toBe('1732460000.000200');
    expect(Number(b.ts) > Number(a.ts)).toBe(true);
    expect(fake.callsTo('chat.postMessage')[0]!.args.blocks).toEqual(blocks);
    expect(fake.messages()).toEqual([
      { channel: 'C1', ts: a.ts, text: 'Train #1', blocks, user: 'U0BOT', updates: 0 },
      { channel: 'C1', ts: b.ts, text: 'second', user: 'U0BOT', updates: 0 },
    ]);
    fake.expectNoUnexpectedCalls();
  });

  it('thread replies carry thread_ts; a reply to a reply joins the parent thread', async () => {
    const card = await client.chat.postMessage({ channel: 'C1', text: 'card' });
    const r1 = await client.chat.postMessage({ channel: 'C1', text: 'started', thread_ts: card.ts! });
    await client.chat.postMessage({ channel: 'C1', text: 'deployed', thread_ts: r1.ts! });
    expect(r1.message).toMatchObject({ thread_ts: card.ts });
    expect(fake.thread(card.ts!).map((m) => m.text)).toEqual(['started', 'deployed']);
    fake.expectNoUnexpectedCalls();
  });

  it('a thread reply to an unknown message is a violation', async () => {
    await client.chat.postMessage({ channel: 'C1', text: 'lost', thread_ts: '1.000000' });
    expect(() => fake.expectNoUnexpectedCalls()).toThrow(/thread_ts 1\.000000 names no message/);
  });

  it('chat.update changes messages() in place; unknown ts → message_not_found', async () => {
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'v1', blocks: [section('one')] });
    const up = await client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'v2', blocks: [section('two')] });
    expect(up).toMatchObject({ ok: true, channel: 'C1', ts: posted.ts, text: 'v2' });
    expect(fake.messages()).toEqual([{ channel: 'C1', ts: posted.ts, text: 'v2', blocks: [section('two')], user: 'U0BOT', updates: 1 }]);
    await client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'v3', blocks: [] });
    expect(fake.messages()[0]).toMatchObject({ text: 'v3', updates: 2 });
    expect(fake.messages()[0]!.blocks).toBeUndefined();
    await rejectsWith(client.chat.update({ channel: 'C1', ts: '1732469999.000100', text: 'x' }), 'message_not_found');
    await rejectsWith(client.chat.update({ channel: 'C2', ts: posted.ts!, text: 'x' }), 'message_not_found');
    fake.expectNoUnexpectedCalls();
  });

  it('chat.update with a user id instead of the DM channel is a violation', async () => {
    const posted = await client.chat.postMessage({ channel: 'U0ALICE', text: 'hi' });
    expect(posted.channel).toBe('DU0ALICE');
    await rejectsWith(client.chat.update({ channel: 'U0ALICE', ts: posted.ts!, text: 'x' }), 'channel_not_found');
    expect(fake.violations).toHaveLength(1);
    await client.chat.update({ channel: posted.channel!, ts: posted.ts!, text: 'x' });
    expect(fake.dms('U0ALICE').map((m) => m.text)).toEqual(['x']);
  });

  it('chat.postEphemeral answers message_ts and is recorded', async () => {
    const r = await client.chat.postEphemeral({ channel: 'C1', user: 'U0ALICE', text: 'only you' });
    expect(r.ok).toBe(true);
    expect(r.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.ephemerals).toEqual([{ channel: 'C1', user: 'U0ALICE', text: 'only you', message_ts: r.message_ts }]);
    expect(fake.messages()).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });

  it('conversations.open gives a stable D channel per user', async () => {
    const a = await client.conversations.open({ users: 'U0ALICE' });
    const again = await client.conversations.open({ users: 'U0ALICE' });
    const b = await client.conversations.open({ users: 'U0BOB' });
    expect(a).toMatchObject({ ok: true, channel: { id: 'DU0ALICE' } });
    expect(again).toMatchObject({ ok: true, channel: { id: 'DU0ALICE' }, already_open: true });
    expect(b.channel?.id).toBe(fake.dmChannel('U0BOB'));
    const dm = await client.chat.postMessage({ channel: a.channel!.id!, text: 'you are the engineer' });
    expect(dm.channel).toBe('DU0ALICE');
    expect(fake.dms('U0ALICE')).toHaveLength(1);
    fake.expectNoUnexpectedCalls();
  });

  it('users.lookupByEmail and users.info', async () => {
    const found = await client.users.lookupByEmail({ email: 'Alice@Example.com' });
    expect(found).toMatchObject({ ok: true, user: { id: 'U0ALICE', profile: { email: 'alice@example.com' } } });
    await rejectsWith(client.users.lookupByEmail({ email: 'nobody@example.com' }), 'users_not_found');
    const info = await client.users.info({ user: 'U0BOB' });
    expect(info).toMatchObject({ ok: true, user: { id: 'U0BOB', profile: { email: 'bob@example.com' } } });
    await rejectsWith(client.users.info({ user: 'U0NOBODY' }), 'user_not_found');
    fake.addUser({ id: 'U0CAROL', email: 'carol@example.com' });
    expect((await client.users.lookupByEmail({ email: 'carol@example.com' })).user?.id).toBe('U0CAROL');
    fake.expectNoUnexpectedCalls();
  });

  it('views.open, views.update and views.publish answer a view with an id', async () => {
    const opened = await client.views.open({ trigger_id: triggerId(), view: modal() });
    expect(opened).toMatchObject({ ok: true, view: { type: 'modal', callback_id: VIEWS.confirm } });
    const id = opened.view!.id!;
    expect(id).toMatch(/^V\d{10}$/);
    expect(fake.views.opened[0]).toMatchObject({ id, callback_id: VIEWS.confirm });
    const updated = await client.views.update({ view_id: id, view: modal({ blocks: [section('Done')] }) });
    expect(updated.view?.id).toBe(id);
    expect(fake.views.byId.get(id)!.blocks).toEqual([section('Done')]);
    expect(fake.views.updated).toHaveLength(1);
    await rejectsWith(client.views.update({ view_id: 'V9', view: modal() }), 'not_found');
    await rejectsWith(client.views.update({ view_id: id, hash: 'stale', view: modal() }), 'hash_conflict');

    const home = { type: 'home' as const, blocks: [section('Your commits')] };
    const p1 = await client.views.publish({ user_id: 'U0ALICE', view: home });
    const p2 = await client.views.publish({ user_id: 'U0ALICE', view: { ...home, blocks: [section('None')] } });
    expect(p1.view?.id).toBe(p2.view?.id);
    expect(fake.views.published.get('U0ALICE')!.blocks).toEqual([section('None')]);
    fake.expectNoUnexpectedCalls();
  });

  it('a trigger_id works once and expires after 3 s', async () => {
    const t = triggerId();
    await client.views.open({ trigger_id: t, view: modal() });
    await rejectsWith(client.views.open({ trigger_id: t, view: modal() }), 'exchanged_trigger_id');
    await rejectsWith(client.views.open({ trigger_id: triggerId(Date.now() - 4000), view: modal() }), 'expired_trigger_id');
    expect(fake.violations.map((v) => v.problem)).toEqual([expect.stringMatching(/used twice/), expect.stringMatching(/more than 3 s/)]);
  });

  it('JSON bodies are parsed too', async () => {
    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { Authorization: 'Bearer xoxb-test', 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C1', text: 'json', blocks: [section('json')] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C1' });
    expect(fake.messages()[0]).toMatchObject({ text: 'json', blocks: [section('json')] });
    fake.expectNoUnexpectedCalls();
  });
});

describe('fake Slack: strict', () => {
  it('an unknown method answers unknown_method and is a violation', async () => {
    await rejectsWith(client.apiCall('conversations.kick', { channel: 'C1' }), 'unknown_method');
    expect(fake.violations).toHaveLength(1);
    expect(() => fake.expectNoUnexpectedCalls()).toThrow(/conversations\.kick: unknown method/);
  });

  it('a wrong token answers invalid_auth; none answers not_authed', async () => {
    await rejectsWith(makeClient('xoxb-wrong').chat.postMessage({ channel: 'C1', text: 'x' }), 'invalid_auth');
    const res = await fetch(`${fake.url}auth.test`, { method: 'POST' });
    expect(await res.json()).toEqual({ ok: false, error: 'not_authed' });
    expect(fake.messages()).toEqual([]);
    expect(() => fake.expectNoUnexpectedCalls()).toThrow(/2 unexpected call\(s\)[\s\S]*wrong token[\s\S]*no token/);
    fake.clearViolations();
    fake.expectNoUnexpectedCalls();
  });

  it('a message with neither text nor blocks → no_text', async () => {
    await rejectsWith(client.chat.postMessage({ channel: 'C1' } as never), 'no_text');
    expect(fake.violations).toHaveLength(1);
  });

  const limitCases: { name: string; args: Record<string, unknown>; problem: RegExp }[] = [
    { name: '51 blocks', args: { text: 't', blocks: Array.from({ length: 51 }, (_, i) => section(`b${i}`)) }, problem: /51 blocks \(max 50\)/ },
    { name: 'blocks without text', args: { blocks: [section('x')] }, problem: /top-level text/ },
    { name: 'a 3001-character section', args: { text: 't', blocks: [section('x'.repeat(3001))] }, problem: /blocks\[0\]\.text\.text: 3001 characters \(max 3000\)/ },
    { name: 'a 151-character header', args: { text: 't', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] }, problem: /max 150/ },
    {
      name: 'a 76-character button text',
      args: { text: 't', blocks: [{ type: 'actions', elements: [button('b'.repeat(76))] }] },
      problem: /elements\[0\]\.text\.text: 76 characters \(max 75\)/,
    },
    { name: 'a 2001-character button value', args: { text: 't', blocks: [{ type: 'actions', elements: [button('ok', 'v'.repeat(2001))] }] }, problem: /value: 2001 characters/ },
    { name: 'a 256-character action_id', args: { text: 't', blocks: [{ type: 'actions', elements: [button('ok', 'v', 'a'.repeat(256))] }] }, problem: /action_id: 256 characters/ },
    {
      name: '26 buttons in one actions block',
      args: { text: 't', blocks: [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`, 'v', `a${i}`)) }] },
      problem: /26 elements \(max 25\)/,
    },
    {
      name: '11 context elements',
      args: { text: 't', blocks: [{ type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) }] },
      problem: /11 elements \(max 10\)/,
    },
    {
      name: 'a 3001-character context text',
      args: { text: 't', blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'c'.repeat(3001) }] }] },
      problem: /elements\[0\]\.text: 3001 characters/,
    },
    { name: 'a 40001-character text', args: { text: 'x'.repeat(40_001) }, problem: /text: 40001 characters \(max 40000\)/ },
    { name: 'an unknown block type', args: { text: 't', blocks: [{ type: 'sektion', text: { type: 'mrkdwn', text: 'x' } }] }, problem: /unknown block type \\?"sektion/ },
    { name: 'an empty section text', args: { text: 't', blocks: [section('')] }, problem: /must not be empty/ },
    {
      name: 'duplicate block_ids',
      args: {
        text: 't',
        blocks: [
          { ...section('a'), block_id: 'x' },
          { ...section('b'), block_id: 'x' },
        ],
      },
      problem: /duplicate block_id/,
    },
    { name: 'duplicate action_ids in a block', args: { text: 't', blocks: [{ type: 'actions', elements: [button('a'), button('b')] }] }, problem: /duplicate action_id/ },
    { name: 'a mrkdwn button text', args: { text: 't', blocks: [{ type: 'actions', elements: [{ ...button('a'), text: { type: 'mrkdwn', text: 'a' } }] }] }, problem: /must be plain_text/ },
  ];

  for (const c of limitCases) {
    it(`chat.postMessage with ${c.name} → invalid_blocks, recorded`, async () => {
      const err = await rejectsWith(client.chat.postMessage({ channel: 'C1', ...c.args } as never), 'invalid_blocks');
      expect(JSON.stringify(err.data.response_metadata)).toMatch(c.problem);
      expect(fake.messages()).toEqual([]);
      expect(fake.violations).toHaveLength(1);
      expect(() => fake.expectNoUnexpectedCalls()).toThrow(c.problem);
    });
  }

  it('chat.update and chat.postEphemeral are held to the same limits', async () => {
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'ok' });
    await rejectsWith(client.chat.update({ channel: 'C1', ts: posted.ts!, blocks: [section('no text')] } as never), 'invalid_blocks');
    await rejectsWith(client.chat.postEphemeral({ channel: 'C1', user: 'U0ALICE', text: 't', blocks: [section('x'.repeat(3001))] }), 'invalid_blocks');
    expect(fake.messages()[0]).toMatchObject({ text: 'ok', updates: 0 });
    expect(fake.ephemerals).toEqual([]);
    expect(fake.violations).toHaveLength(2);
  });

  it('exactly at the limits is fine', async () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(150) } },
      section('s'.repeat(3000)),
      { type: 'actions', elements: Array.from({ length: 25 }, (_, i) => button(i === 0 ? 'b'.repeat(75) : 'b', 'v'.repeat(2000), `a${i}`)) },
      { type: 'context', elements: Array.from({ length: 10 }, () => ({ type: 'mrkdwn', text: 'c' })) },
      ...Array.from({ length: 46 }, () => ({ type: 'divider' })),
    ];
    expect(blocks).toHaveLength(50);
    expect(checkMessage({ text: 'x'.repeat(40_000), blocks })).toEqual([]);
    await client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_000), blocks });
    fake.expectNoUnexpectedCalls();
  });

  it('views are held to the view limits', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [modal({ title: { type: 'plain_text', text: 't'.repeat(25) } }), /title\.text: 25 characters \(max 24\)/],
      [modal({ submit: { type: 'plain_text', text: 's'.repeat(25) } }), /submit\.text: 25 characters/],
      [modal({ close: { type: 'plain_text', text: 'c'.repeat(25) } }), /close\.text: 25 characters/],
      [modal({ private_metadata: 'm'.repeat(3001) }), /private_metadata: 3001 characters \(max 3000\)/],
      [modal({ blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) }), /101 blocks \(max 100\)/],
    ];
    for (const [view, problem] of cases) {
      expect(checkView(view).join('\n')).toMatch(problem);
      const err = await rejectsWith(client.views.open({ trigger_id: triggerId(), view: view as never }), 'invalid_blocks');
      expect(JSON.stringify(err.data.response_metadata)).toMatch(problem);
    }
    expect(checkView(modal({ blocks: Array.from({ length: 100 }, () => ({ type: 'divider' })), private_metadata: 'm'.repeat(3000) }))).toEqual([]);
    await rejectsWith(client.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) } }), 'invalid_blocks');
    await rejectsWith(client.views.publish({ user_id: 'U0ALICE', view: modal() as never }), 'invalid_arguments');
    expect(fake.violations).toHaveLength(cases.length + 2);
    expect(fake.views.opened).toEqual([]);
  });
});

describe('fake Slack: told to fail', () => {
  it('failNext 429 makes the client throw WebAPIRateLimitedError with retryAfter; then it answers again', async () => {
    fake.failNext('chat.postMessage', { rateLimited: 7 });
    const err = await client.chat.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect((err as WebAPIRateLimitedError).retryAfter).toBe(7);
    expect(fake.calls[0]).toMatchObject({ method: 'chat.postMessage', injected: 'rateLimited 7', status: 429 });
    expect(fake.messages()).toEqual([]);
    await client.chat.postMessage({ channel: 'C1', text: 'x' });
    expect(fake.messages()).toHaveLength(1);
    fake.expectNoUnexpectedCalls();
  });

  it('failNext 500 makes the client throw WebAPIHTTPError, `times` times', async () => {
    fake.failNext('chat.update', { status: 500 }, 2);
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    for (let i = 0; i < 2; i++) {
      const err = await client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'y' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WebAPIHTTPError);
      expect((err as WebAPIHTTPError).statusCode).toBe(500);
    }
    await client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'y' });
    expect(fake.messages()[0]!.text).toBe('y');
    expect(fake.callsTo('chat.update').map((c) => c.status)).toEqual([500, 500, 200]);
  });

  it('failNext ok:false answers the error without side effects', async () => {
    fake.failNext('chat.postMessage', { ok: false, error: 'channel_not_found' });
    const err = await rejectsWith(client.chat.postMessage({ channel: 'C1', text: 'x' }), 'channel_not_found');
    expect(err).toBeInstanceOf(WebAPIPlatformError);
    expect(fake.messages()).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });

  it('failNext delayMs answers late (and a client timeout gives up)', async () => {
    fake.failNext('auth.test', { delayMs: 300 });
    const t0 = Date.now();
    await client.auth.test();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    fake.failNext('auth.test', { delayMs: 2000 });
    const impatient = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 }, timeout: 100, logger: quiet });
    await expect(impatient.auth.test()).rejects.toThrow();
  });

  it('waitFor resolves when the predicate holds and times out with the last calls', async () => {
    setTimeout(() => void client.chat.postMessage({ channel: 'C1', text: 'later' }), 50);
    await fake.waitFor((f) => f.messages().length === 1, 2000);
    await expect(fake.waitFor((f) => f.messages().length === 2, 100)).rejects.toThrow(/timed out after 100 ms; last calls: chat\.postMessage/);
  });
});

describe('fake Slack: response_url', () => {
  it('records bodies posted to a response_url', async () => {
    const url = fake.responseUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/response\/\d+$/);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Usage: /conductor …', response_type: 'ephemeral' }) });
    expect(res.status).toBe(200);
    expect(fake.responses).toEqual([{ path: new URL(url).pathname, url, body: { text: 'Usage: /conductor …', response_type: 'ephemeral' }, at: expect.any(Number) }]);
    fake.expectNoUnexpectedCalls();
  });

  it('holds response bodies to message limits, 5 uses, and known URLs', async () => {
    const url = fake.responseUrl();
    const post = (body: unknown, to = url) => fetch(to, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ blocks: [section('no text')] })).status).toBe(400);
    for (let i = 0; i < 4; i++) expect((await post({ text: `ok ${i}` })).status).toBe(200);
    expect((await post({ text: 'sixth' })).status).toBe(404);
    expect((await post({ text: 'x' }, url.replace(/\d+$/, '999'))).status).toBe(404);
    expect(fake.violations.map((v) => v.problem)).toEqual([expect.stringMatching(/top-level text/), expect.stringMatching(/used 6 times/), expect.stringMatching(/never handed out/)]);
  });
});

describe('signed Slack requests', () => {
  const verify = (req: SlackRequest, secret = TEST_SIGNING_SECRET, nowMilliseconds?: number) =>
    isValidSlackRequest({
      signingSecret: secret,
      body: req.body,
      headers: { 'x-slack-signature': req.headers['X-Slack-Signature']!, 'x-slack-request-timestamp': Number(req.headers['X-Slack-Request-Timestamp']) },
      ...(nowMilliseconds === undefined ? {} : { nowMilliseconds }),
    });

  it('a slash command is form-encoded like Slack and passes Bolt verification', () => {
    const req = slashCommand({ text: 'status --line web', userId: 'U0ALICE', channelId: 'C1', responseUrl: 'http://127.0.0.1:1/response/1' });
    expect(req.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    const f = Object.fromEntries(new URLSearchParams(req.body));
    expect(f).toMatchObject({ command: SLASH_COMMAND, text: 'status --line web', user_id: 'U0ALICE', channel_id: 'C1', team_id: 'T0CONDUCT', response_url: 'http://127.0.0.1:1/response/1' });
    for (const k of ['token', 'user_name', 'trigger_id', 'api_app_id']) expect(f[k]).toBeTruthy();
    expect(() =>
      verifySlackRequest({
        signingSecret: TEST_SIGNING_SECRET,
        body: req.body,
        headers: { 'x-slack-signature': req.headers['X-Slack-Signature']!, 'x-slack-request-timestamp': Number(req.headers['X-Slack-Request-Timestamp']) },
      }),
    ).not.toThrow();
    expect(req.headers['X-Slack-Signature']).toBe(signature(req.body, Number(req.headers['X-Slack-Request-Timestamp'])));
  });

  it('a wrong secret or an old timestamp fails Bolt verification', () => {
    expect(verify(slashCommand({ text: 'help', userId: 'U1', channelId: 'C1', responseUrl: 'http://x/' }, { secret: 'wrong' }))).toBe(false);
    const old = Math.floor(Date.now() / 1000) - 6 * 60;
    expect(verify(slashCommand({ text: 'help', userId: 'U1', channelId: 'C1', responseUrl: 'http://x/' }, { timestamp: old }))).toBe(false);
    const req = slashCommand({ text: 'help', userId: 'U1', channelId: 'C1', responseUrl: 'http://x/' });
    expect(verify(req, 'another-secret')).toBe(false);
    expect(verify({ ...req, body: req.body.replace('help', 'deploy') })).toBe(false);
  });

  it('block actions, view submissions, events and url_verification are shaped and signed', () => {
    const action = blockAction({
      actionId: ACTIONS.deploy,
      value: JSON.stringify({ line: 'web', train: 3 }),
      userId: 'U0ALICE',
      channelId: 'C1',
      messageTs: '1732460000.000100',
      responseUrl: 'http://x/r',
    });
    expect(verify(action)).toBe(true);
    const ap = JSON.parse(new URLSearchParams(action.body).get('payload')!);
    expect(ap).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE' },
      channel: { id: 'C1' },
      container: { type: 'message', message_ts: '1732460000.000100', channel_id: 'C1' },
      message: { ts: '1732460000.000100' },
      response_url: 'http://x/r',
      actions: [{ action_id: ACTIONS.deploy, type: 'button', value: '{"line":"web","train":3}' }],
    });
    expect(ap.trigger_id).toMatch(/^trig\.\d+\.\d+$/);
    expect(ap.actions[0].block_id).toBeTruthy();
    expect(ap.actions[0].action_ts).toMatch(/^\d+\.\d+$/);

    const inView = JSON.parse(new URLSearchParams(blockAction({ actionId: ACTIONS.verify, value: 'v', userId: 'U1', view: { id: 'V1', type: 'home' } }).body).get('payload')!);
    expect(inView).toMatchObject({ container: { type: 'view', view_id: 'V1' }, view: { id: 'V1', type: 'home' } });
    expect(inView.response_url).toBeUndefined();

    const sub = viewSubmission({ callbackId: VIEWS.confirm, privateMetadata: '{"line":"web"}', userId: 'U0ALICE' });
    expect(verify(sub)).toBe(true);
    expect(JSON.parse(new URLSearchParams(sub.body).get('payload')!)).toMatchObject({
      type: 'view_submission',
      user: { id: 'U0ALICE' },
      view: { callback_id: VIEWS.confirm, private_metadata: '{"line":"web"}', state: { values: {} } },
    });

    const ev = event({ type: 'app_home_opened', user: 'U0ALICE', tab: 'home' });
    expect(ev.headers['Content-Type']).toBe('application/json');
    expect(verify(ev)).toBe(true);
    const eb = JSON.parse(ev.body);
    expect(eb).toMatchObject({ type: 'event_callback', event: { type: 'app_home_opened', user: 'U0ALICE', tab: 'home' } });
    expect(eb.event_id).toMatch(/^Ev/);
    expect(typeof eb.event_time).toBe('number');
    expect(JSON.parse(event({ type: 'app_home_opened', user: 'U1', tab: 'home' }).body).event_id).not.toBe(eb.event_id);

    const uv = urlVerification('chal-123');
    expect(verify(uv)).toBe(true);
    expect(JSON.parse(uv.body)).toMatchObject({ type: 'url_verification', challenge: 'chal-123' });
  });

  it('send() POSTs to /slack/events with retry headers, re-signing on demand', async () => {
    const { createServer } = await import('node:http');
    const seen: { url: string; headers: Record<string, unknown>; body: string }[] = [];
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        const ok = isValidSlackRequest({
          signingSecret: TEST_SIGNING_SECRET,
          body,
          headers: { 'x-slack-signature': String(req.headers['x-slack-signature']), 'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']) },
        });
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
      const req = slashCommand({ text: 'help', userId: 'U1', channelId: 'C1', responseUrl: fake.responseUrl() });
      const ok = await send(base, req, { retryNum: 1 });
      expect(ok).toMatchObject({ status: 200, json: { ok: true } });
      expect(ok.ms).toBeGreaterThan(0);
      expect(seen[0]).toMatchObject({ url: '/slack/events', headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
      expect((await send(`${base}/`, req, { secret: 'wrong' })).status).toBe(401);
      expect((await send(base, req, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
      expect(seen[1]!.headers['x-slack-retry-num']).toBeUndefined();
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe('fake Slack + signed requests with a real Bolt app', () => {
  it('Bolt verifies the builders, respond() lands in responses, the client talks to the fake, retries show as retryNum', async () => {
    const receiver = new HTTPReceiver({ signingSecret: TEST_SIGNING_SECRET, logLevel: LogLevel.ERROR });
    const app = new App({ token: 'xoxb-test', receiver, clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } }, logLevel: LogLevel.ERROR });
    const retries: (number | undefined)[] = [];
    app.command(SLASH_COMMAND, async ({ ack, respond, command, client: c, context }) => {
      retries.push(context.retryNum);
      await ack();
      await respond({ text: `you said ${command.text}`, response_type: 'ephemeral' });
      await c.chat.postMessage({ channel: command.channel_id, text: 'card' });
    });
    app.action(ACTIONS.claim, async ({ ack, respond, body }) => {
      await ack();
      await respond({ text: `claimed by ${body.user.id}`, replace_original: false });
    });
    app.view(VIEWS.confirm, async ({ ack, view }) => {
      await ack();
      await app.client.chat.postMessage({ channel: 'C1', text: `confirmed ${view.private_metadata}` });
    });
    app.event('app_home_opened', async ({ event: e, client: c }) => {
      await c.views.publish({ user_id: e.user, view: { type: 'home', blocks: [section('Home')] } });
    });
    const server = await receiver.start(0);
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const responseUrl = fake.responseUrl();
      const cmd = slashCommand({ text: 'status', userId: 'U0ALICE', channelId: 'C1', responseUrl });
      expect((await send(base, cmd)).status).toBe(200);
      expect((await send(base, cmd, { retryNum: 1 })).status).toBe(200);
      expect((await send(base, cmd, { secret: 'wrong' })).status).toBe(401);
      expect((await send(base, cmd, { timestamp: Math.floor(Date.now() / 1000) - 301 })).status).toBe(401);
      const click = blockAction({ actionId: ACTIONS.claim, value: '{}', userId: 'U0BOB', channelId: 'C1', messageTs: '1.0', responseUrl });
      expect((await send(base, click)).status).toBe(200);
      expect((await send(base, viewSubmission({ callbackId: VIEWS.confirm, privateMetadata: 'meta', userId: 'U0ALICE' }))).status).toBe(200);
      expect((await send(base, event({ type: 'app_home_opened', user: 'U0ALICE', tab: 'home' }))).status).toBe(200);
      const challenge = await send(base, urlVerification('abc'));
      expect(challenge.json).toEqual({ challenge: 'abc' });

      await fake.waitFor((f) => f.responses.length === 3 && f.messages().length === 3 && f.views.published.has('U0ALICE'));
      expect(retries).toEqual([undefined, 1]);
      expect(fake.responses.map((r) => r.body.text).sort()).toEqual(['claimed by U0BOB', 'you said status', 'you said status']);
      expect(
        fake
          .messages()
          .map((m) => m.text)
          .sort(),
      ).toEqual(['card', 'card', 'confirmed meta']);
      expect(fake.callsTo('auth.test')).toHaveLength(1); // Bolt asks who it is, once
      fake.expectNoUnexpectedCalls();
    } finally {
      await receiver.stop();
    }
  });
});
