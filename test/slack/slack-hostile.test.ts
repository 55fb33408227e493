import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, VIEWS } from '../../src/slack/registrations.js';
import { rawRequest } from '../support/raw-http.js';
import { slackApp } from '../support/slack-app.js';
import { blockAction, type SlackRequest, send, sign, slashCommand, viewSubmission } from '../support/slack-requests.js';

const USERS = {
  alice: { id: 'U0ALICE', email: 'alice@example.com' },
  /** A profile email that reads as another address (right-to-left override). */
  mallory: { id: 'U0MALLORY', email: '\u202emoc.elpmaxe@nimda' },
  /** A 300-character "email". */
  long: { id: 'U0LONG', email: `${'l'.repeat(288)}@example.com` },
};

const FORM = 'application/x-www-form-urlencoded';
const form = (fields: Record<string, string>, opts?: { timestamp?: number }) => sign(new URLSearchParams(fields).toString(), FORM, opts);
const json = (body: string, opts?: { timestamp?: number }) => sign(body, 'application/json', opts);
/** Re-signs an interactive request whose payload was edited. */
const editPayload = (req: SlackRequest, edit: (p: any) => unknown): SlackRequest => {
  const payload = JSON.parse(new URLSearchParams(req.body).get('payload')!);
  return form({ payload: JSON.stringify(edit(payload)) });
};

describe('Slack: signed but hostile requests are refused before Bolt', () => {
  const harness = slackApp({ users: USERS, lines: ['hostile'], admins: ['alice@example.com'], tmpPrefix: 'conductor-slack-hostile-' });
  let base: string;
  beforeAll(async () => void ({ base } = await harness.start()), 60_000);
  afterAll(() => harness.stop());

  const stillServing = async () => {
    const text = await harness.answer(() => harness.cmd('alice', 'hostile', 'status'), 10_000);
    expect(text).toMatch(/hostile/);
  };
  const button = () => blockAction({ actionId: ACTIONS.deploy, value: JSON.stringify({ line: 'hostile', train: 1 }), userId: USERS.alice.id, channelId: 'C0HOSTILE', messageTs: '1.1' });
  const view = () => viewSubmission({ callbackId: VIEWS.confirm, privateMetadata: '{}', userId: USERS.alice.id });

  it.each<[string, () => SlackRequest]>([
    ['a JSON body null', () => json('null')],
    ['a JSON body that is an array', () => json('[]')],
    ['a JSON body that is a number', () => json('42')],
    ['a JSON body that is not JSON', () => json('{"type":')],
    ['an event without its event', () => json(JSON.stringify({ type: 'event_callback', team_id: 'T1' }))],
    ['an event whose event is null', () => json(JSON.stringify({ type: 'event_callback', event: null }))],
    ['an unknown payload type', () => json(JSON.stringify({ type: 'shortcut' }))],
    ['a form payload null', () => form({ payload: 'null' })],
    ['a form payload that is a string', () => form({ payload: '"block_actions"' })],
    ['a form payload that is not JSON', () => form({ payload: '{' })],
    ['a form payload field given twice', () => sign('payload=%7B%7D&payload=%7B%7D', FORM)],
    ['block_actions without user', () => editPayload(button(), ({ user: _u, ...p }) => p)],
    ['block_actions with user null', () => editPayload(button(), (p) => ({ ...p, user: null }))],
    ['block_actions without actions', () => editPayload(button(), ({ actions: _a, ...p }) => p)],
    ['block_actions with an action that is null', () => editPayload(button(), (p) => ({ ...p, actions: [null] }))],
    ['view_submission without view', () => editPayload(view(), ({ view: _v, ...p }) => p)],
    ['view_submission without user', () => editPayload(view(), ({ user: _u, ...p }) => p)],
    ['a slash command without user_id', () => form({ command: '/conductor', text: 'status', channel_id: 'C1', trigger_id: 't', response_url: 'http://127.0.0.1:1/' })],
    ['an empty form', () => form({})],
  ])('answers 400 to %s, and keeps serving', async (_what, make) => {
    const r = await send(base, make());
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ ok: false, error: expect.any(String) });
    await stillServing();
  });

  it('refuses a timestamp more than 5 minutes in the future like a stale one (401), and unsigned requests (401)', async () => {
    const cmd = slashCommand({ text: 'mode manual', userId: USERS.alice.id, channelId: 'C0HOSTILE', responseUrl: `${harness.slack.url}/respond/future` });
    const nowS = Math.floor(Date.now() / 1000);
    expect((await send(base, cmd, { timestamp: nowS + 6 * 60 })).status).toBe(401);
    expect((await send(base, cmd, { timestamp: nowS + 3600 * 24 * 365 })).status).toBe(401);
    expect((await send(base, cmd, { timestamp: nowS - 6 * 60 })).status).toBe(401);
    expect((await send(base, cmd, { secret: 'wrong' })).status).toBe(401);
    expect((await send(base, json('null'), { headers: { 'X-Slack-Signature': 'v0=00' } })).status).toBe(401);
    expect((await harness.status('hostile')).mode).toBe('schedule');
    await stillServing();
  });

  it('answers a body over the limit with 413 (signed or not), never a reset', async () => {
    const port = Number(new URL(base).port);
    const big = `payload=${'x'.repeat(5 * 1024 * 1024)}`;
    for (const signed of [true, false]) {
      const req = sign(big, FORM);
      const res = await rawRequest(port, 'POST', '/slack/events', { body: big, headers: signed ? req.headers : { 'Content-Type': FORM } });
      expect(res.reset).toBe(false);
      expect(res.status).toBe(413);
    }
    await stillServing();
  });

  it('refuses politely a person whose Slack profile email is no plain address', async () => {
    for (const who of ['mallory', 'long'] as const) {
      const text = await harness.answer(() => harness.cmd(who, 'hostile', 'engineer me'), 10_000);
      expect(text).toMatch(/cannot tell who you are/);
    }
    await stillServing();
  });
});
