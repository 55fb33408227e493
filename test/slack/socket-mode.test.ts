import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/registrations.js';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { type FakeSocketMode, socketPayload } from '../support/fake-slack-socket.js';
import { slackApp } from '../support/slack-app.js';
import { blockAction, send, slashCommand } from '../support/slack-requests.js';

const CH = 'C0SOCK';
const APP_TOKEN = 'xapp-1-A0CONDUCT-test';
const USERS = {
  alice: { id: 'U0ALICE', email: 'alice@example.com' },
  bob: { id: 'U0BOB', email: 'bob@example.com' },
};

/**
 * Conductor with Slack in Socket Mode (SLACK_APP_TOKEN set): it dials out to the
 * fake Socket Mode server, people act only through envelopes pushed on the
 * WebSocket, and no HTTP endpoint for Slack exists.
 */
describe('Slack in Socket Mode', () => {
  const harness = slackApp({
    users: USERS,
    lines: [{ name: 'web', channel: CH }],
    admins: ['admin@example.com'],
    socket: { appToken: APP_TOKEN },
    tmpPrefix: 'conductor-socket-',
  });
  const { answer } = harness;
  let slack: FakeSlack;
  let sock: FakeSocketMode;
  let t: RunningApp | undefined;
  let repo: string;
  let base: string;
  beforeAll(async () => {
    ({ slack, sock, t, base } = await harness.start());
    repo = harness.repos.web;
  }, 60_000);
  // Stops the app unless the last test did, then the fakes.
  afterAll(() => harness.stop());

  const cmd = async (who: keyof typeof USERS, text: string) => {
    const responseUrl = slack.responseUrl();
    return { ...(await sock.push('slash_commands', socketPayload(slashCommand({ text, userId: USERS[who].id, channelId: CH, responseUrl })))), responseUrl };
  };
  const click = (who: keyof typeof USERS, actionId: string, train: number) =>
    sock.push(
      'interactive',
      socketPayload(
        blockAction({ actionId, value: JSON.stringify({ line: 'web', train }), userId: USERS[who].id, channelId: slack.dmChannel(USERS[who].id), responseUrl: slack.responseUrl() }),
      ),
    );

  it('is connected once startApp resolves: apps.connections.open with the app-level token, then the WebSocket', () => {
    expect(sock.connections).toBe(1);
    expect(sock.opens).toHaveLength(1);
    expect(sock.opens[0]).toMatchObject({ token: APP_TOKEN, status: 200 });
    // Bot-token Web API calls still reach the fake Web API (through the same slackApiUrl).
    expect(slack.callsTo('auth.test').every((c) => c.token === 'xoxb-test')).toBe(true);
  });

  it('answers /conductor help in the ack itself, as an ephemeral usage text', async () => {
    const { ack, envelope } = await cmd('alice', 'help');
    expect(envelope.accepts_response_payload).toBe(true);
    expect(ack.payload).toMatchObject({ response_type: 'ephemeral' });
    expect(ack.payload.text).toContain('*Conductor commands*');
    expect(ack.payload.text).toContain('/conductor deploy');
  });

  it('answers /conductor status', async () => {
    const seen = slack.responses.length;
    const text = await answer(() => cmd('bob', 'status'));
    expect(text).toContain('*web*');
    if (slack.responses.length > seen) expect(slack.responses[slack.responses.length - 1]!.body).toMatchObject({ response_type: 'ephemeral' });
  });

  it('applies a Verify button pressed in Slack, with no HTTP endpoint for Slack at all', async () => {
    const dev = await t!.developer(repo);
    await dev.commit(USERS.alice.email, 'Add search');
    await dev.commit(USERS.bob.email, 'Fix login');
    await dev.push();
    const verifying = await t!.until('train #1 verifying', async () => {
      const s = await t!.status('web');
      return s.train?.number === 1 && s.train.state === 'verifying' ? s : null;
    });
    expect(verifying.train.tickets).toContainEqual({ authorEmail: USERS.alice.email, state: 'pending' });

    const seen = slack.responses.length;
    const { ack } = await click('alice', ACTIONS.verify, 1);
    expect(ack.payload).toEqual({}); // buttons are acked bare, then answered
    await t!.until(
      'alice verified',
      async () => {
        const s = await t!.status('web');
        return s.train.tickets.find((k: { authorEmail: string }) => k.authorEmail === USERS.alice.email)?.state === 'verified' ? s : null;
      },
      10_000,
    );
    await slack.waitFor(() => slack.responses.length > seen);
    expect(slack.responses[slack.responses.length - 1]!.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });

    // Socket Mode mounts no /slack/events: even a correctly signed request finds nothing.
    const http = await send(base, slashCommand({ text: 'help', userId: USERS.alice.id, channelId: CH, responseUrl: slack.responseUrl() }));
    expect(http.status).toBe(404);
  }, 30_000);

  it('reconnects when Slack asks it to, through a failed apps.connections.open', async () => {
    // Slack sends `disconnect` when it recycles the connection (every few hours); the client
    // reconnects after 5 s. A 503 from apps.connections.open at that moment must not kill it.
    sock.failOpen({ status: 503 });
    sock.disconnect('refresh_requested');
    await sock.waitFor((f) => f.connectionsOpened === 2 && f.connections === 1, 20_000);
    expect(sock.closes[0]).toMatchObject({ connection: 1, by: 'client', code: 1000 });
    expect(sock.opens.map((o) => o.status)).toEqual([200, 503, 200]);
    expect(await answer(() => cmd('bob', 'status'))).toContain('*web*');
  }, 30_000);

  it('stops cleanly: the WebSocket is closed by the app with a normal close', async () => {
    expect(sock.connections).toBe(1);
    const app = t!;
    t = undefined;
    await app.stop();
    await sock.waitFor((f) => f.connections === 0, 5_000);
    expect(sock.closes[sock.closes.length - 1]).toMatchObject({ connection: 2, by: 'client', code: 1000 });
    expect(sock.pings).toBeGreaterThan(0); // the client's keep-alive pings were answered all along
    slack.expectNoUnexpectedCalls();
    sock.expectNoViolations();
  });
});
