import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/registrations.js';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeMessage, FakeSlack } from '../support/fake-slack.js';
import { slackApp } from '../support/slack-app.js';
import { triggerId } from '../support/slack-requests.js';

const USERS = {
  alice: { id: 'U0ALICE', email: 'alice@example.com' },
  bob: { id: 'U0BOB', email: 'bob@example.com' },
  admin: { id: 'U0ADMIN', email: 'admin@example.com' },
  erin: { id: 'U0ERIN', email: 'erin@example.com' },
};
type Who = keyof typeof USERS;

const LINES = ['down', 'limit', 'slow'] as const;
type Line = (typeof LINES)[number];

/** Slack misbehaving: state changes never wait for Slack, and nothing is lost or doubled. */
describe('Slack outages', () => {
  const harness = slackApp({ users: USERS, lines: LINES, admins: ['admin@example.com'], app: { random: () => 0 }, tmpPrefix: 'conductor-slack-outage-' });
  const { channelOf, status, push, card, click } = harness;
  let slack: FakeSlack;
  let t: RunningApp;
  beforeAll(async () => void ({ slack, t } = await harness.start()), 60_000);
  afterAll(() => harness.stop());

  // ---- helpers ---------------------------------------------------------------
  const topLevel = (line: Line): FakeMessage[] => slack.messages().filter((m) => m.channel === channelOf(line) && !m.thread_ts);
  const cardPosts = (line: Line) =>
    slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channelOf(line) && !c.args.thread_ts && c.answer?.ok === true && String(c.args.text).startsWith('Train #'));
  const outboxIdle = () => t.until('the outbox to drain', async () => ((await t.db.prisma.outboxItem.count({ where: { doneAt: null } })) === 0 ? true : null), 30_000);

  // ---- tests -------------------------------------------------------------------

  it('Slack answering HTTP 500: the state changes at once; card, thread and DMs arrive after the outage, each once', async () => {
    slack.failNext('chat.postMessage', { status: 500 }, 3);
    slack.failNext('chat.update', { status: 500 }, 3);
    const t0 = Date.now();
    await push('down', [
      ['alice', 'Change during the outage'],
      ['bob', 'Another one'],
    ]);
    // The train exists at once, whatever Slack says.
    const s = await status('down');
    expect(s.train).toMatchObject({ number: 1, engineer: USERS.alice.email });
    expect(Date.now() - t0).toBeLessThan(5000);

    // Slack is down: the first posts fail…
    await slack.waitFor(() => slack.callsTo('chat.postMessage').filter((c) => c.status === 500).length === 3, 10_000);
    // …then everything arrives: the card reaches "verifying", DMs ask to verify.
    await t.until('the train verifying', async () => ((await status('down')).train.state === 'verifying' ? true : null));
    await slack.waitFor(() => (card('down', 1)?.text ?? '').includes('verifying'), 30_000);
    await slack.waitFor(
      () => slack.dms(USERS.alice.id).some((m) => m.text.startsWith('Train #1 is on staging')) && slack.dms(USERS.bob.id).some((m) => m.text.startsWith('Train #1 is on staging')),
      30_000,
    );
    await outboxIdle();

    // Exactly one card, posted once; every message once.
    expect(topLevel('down').filter((m) => m.text.startsWith('Train #1'))).toHaveLength(1);
    expect(cardPosts('down')).toHaveLength(1);
    const c = card('down', 1)!;
    const thread = slack.thread(c.ts, channelOf('down')).map((m) => m.text);
    expect(thread.length).toBeGreaterThanOrEqual(2);
    expect(new Set(thread).size).toBe(thread.length);
    for (const who of ['alice', 'bob'] as const) {
      const texts = slack.dms(USERS[who].id).map((m) => m.text);
      expect(new Set(texts).size).toBe(texts.length);
      expect(texts.filter((x) => x.startsWith('Train #1 is on staging'))).toHaveLength(1);
    }
    expect(slack.dms(USERS.alice.id).filter((m) => m.text.startsWith('You are the engineer of train #1'))).toHaveLength(1);
    // The card shows the current state (updated after the chat.update failures too).
    expect(JSON.stringify(c.blocks)).toContain(ACTIONS.verify);
    expect(slack.callsTo('chat.update').filter((x) => x.status === 500)).toHaveLength(3);
    slack.expectNoUnexpectedCalls();
  }, 60_000);

  it('a 429 on chat.update is retried after Retry-After, and the card still ends up current', async () => {
    await push('limit', [['alice', 'Rate limited change']]);
    await t.until('verifying', async () => ((await status('limit')).train?.state === 'verifying' ? true : null));
    await slack.waitFor(() => JSON.stringify(card('limit', 1)?.blocks ?? []).includes(ACTIONS.verify), 10_000);
    await outboxIdle();

    slack.failNext('chat.update', { rateLimited: 2 });
    const updates = slack.callsTo('chat.update').length;
    expect((await click('alice', ACTIONS.verify, 'limit', 1)).status).toBe(200);
    await t.until('verified', async () => ((await status('limit')).train.tickets[0].state === 'verified' ? true : null));

    await slack.waitFor(() => slack.callsTo('chat.update').length >= updates + 2, 10_000);
    const [limited, retried] = slack.callsTo('chat.update').slice(updates);
    expect(limited!.status).toBe(429);
    expect(retried!.args.ts).toBe(limited!.args.ts);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(1900);
    expect(retried!.answer?.ok).toBe(true);
    await slack.waitFor(() => (card('limit', 1)?.text ?? '').includes('1/1 verified'), 10_000);
    // The effect was attempted twice: the 429, then the retry.
    const item = await t.until('the card effect done', () =>
      t.db.prisma.outboxItem.findFirst({ where: { kind: 'chat.card', attempts: 2, doneAt: { gte: new Date(limited!.at) }, payload: { path: ['line'], equals: 'limit' } } }),
    );
    expect(item.doneAt!.getTime() - limited!.at).toBeGreaterThanOrEqual(1900);
  }, 30_000);

  it('acks slash commands and buttons fast (< 1 s) while Slack’s Web API is slow', async () => {
    await push('slow', [['alice', 'Slow Slack change']]);
    await t.until('verifying', async () => ((await status('slow')).train?.state === 'verifying' ? true : null));
    await outboxIdle();
    for (const m of ['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'conversations.open', 'users.info', 'users.lookupByEmail', 'views.publish', 'views.open'])
      slack.failNext(m, { delayMs: 2000 }, 10);

    const timed = async (who: Who, text: string) => {
      const started = performance.now();
      const r = await harness.cmd(who, 'slow', text, { triggerId: triggerId() });
      const ms = performance.now() - started;
      expect(r.status).toBe(200);
      /** What the person reads: the ack's text, or what was posted to response_url after a bare ack. */
      const answer = async (): Promise<string> => (r.json?.text ? String(r.json.text) : String((await harness.reply(r.responseUrl, 15_000)).text));
      return { r, ms, answer };
    };
    // A read, a state change, a confirmed command (modal after the ack), a user never seen before.
    const read = await timed('alice', 'status');
    expect(read.ms).toBeLessThan(1000);
    expect(await read.answer()).toContain('*slow*');

    const blockIt = await timed('alice', 'block waiting for QA');
    expect(blockIt.ms).toBeLessThan(1000);
    // Applied without waiting for Slack (every Slack call takes 2 s now).
    await t.until('blocked', async () => ((await status('slow')).train.blocked === 'waiting for QA' ? true : null), 1500);

    const derail = await timed('alice', 'derail');
    expect(derail.ms).toBeLessThan(1000);

    const stranger = await timed('erin', 'status');
    expect(stranger.ms).toBeLessThan(1000);
    expect(stranger.r.body).toBe('');

    const started = performance.now();
    const pressed = await click('alice', ACTIONS.verify, 'slow', 1);
    expect(pressed.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
    await t.until('verified', async () => ((await status('slow')).train.tickets[0].state === 'verified' ? true : null), 10_000);

    // The slow calls still go through afterwards.
    await slack.waitFor(() => slack.views.opened.length > 0 && slack.messages().some((m) => m.channel === channelOf('slow') && m.text.includes('was blocked by')), 30_000);
  }, 60_000);
});
