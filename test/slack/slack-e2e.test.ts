import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/registrations.js';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { slackApp } from '../support/slack-app.js';
import { event, send, slashCommand, viewSubmission } from '../support/slack-requests.js';

const CH = 'C0WEB';
const USERS = {
  alice: { id: 'U0ALICE', email: 'alice@example.com' },
  bob: { id: 'U0BOB', email: 'bob@example.com' },
  admin: { id: 'U0ADMIN', email: 'admin@example.com' },
  mallory: { id: 'U0MAL', email: 'mallory@example.com' },
};

/** Conductor with Slack on, against a strict fake Slack Web API; people act only through signed Slack requests. */
describe('Slack end to end', () => {
  const harness = slackApp({
    users: USERS,
    lines: [
      { name: 'web', channel: CH },
      { name: 'api', channel: 'C0SHARED', pollSeconds: null },
      { name: 'docs', channel: 'C0SHARED', pollSeconds: null },
    ],
    admins: ['admin@example.com'],
    robots: ['bot@example.com'],
    tmpPrefix: 'conductor-slack-',
  });
  const { answer } = harness;
  let slack: FakeSlack;
  let t: RunningApp;
  let repo: string;
  let base: string;
  beforeAll(async () => {
    ({ slack, t, base } = await harness.start());
    repo = harness.repos.web;
  }, 60_000);
  afterAll(() => harness.stop());

  const cmd = (who: keyof typeof USERS, text: string, extra: { channelId?: string; triggerId?: string } = {}) => harness.cmd(who, 'web', text, extra);
  const click = (who: keyof typeof USERS, actionId: string, train: number, opts: { channelId?: string } = {}) => harness.click(who, actionId, 'web', train, opts);
  const status = () => t.status('web');
  const card = (n: number) => slack.messages().find((m) => m.channel === CH && !m.thread_ts && m.text.includes(`Train #${n}`));
  const lastResponse = () => slack.responses[slack.responses.length - 1]?.body;

  it('rejects unsigned, wrongly signed and stale requests with 401, changing nothing', async () => {
    const before = slack.calls.length;
    expect((await send(base, slashCommand({ text: 'mode manual', userId: USERS.admin.id, channelId: CH, responseUrl: slack.responseUrl() }), { secret: 'wrong' })).status).toBe(401);
    expect(
      (await send(base, slashCommand({ text: 'mode manual', userId: USERS.admin.id, channelId: CH, responseUrl: slack.responseUrl() }), { timestamp: Math.floor(Date.now() / 1000) - 600 }))
        .status,
    ).toBe(401);
    const unsigned = await fetch(`${base}/slack/events`, { method: 'POST', body: 'command=%2Fconductor&text=mode+manual' });
    expect(unsigned.status).toBe(401);
    expect((await status()).mode).toBe('schedule');
    expect(slack.calls.length).toBe(before);
  });

  it('answers help and unknown input with ephemeral usage, and says when a channel needs --line or has no line', async () => {
    const help = await cmd('alice', 'help');
    expect(help.status).toBe(200);
    expect(help.json).toMatchObject({ response_type: 'ephemeral' });
    expect(help.json.text).toContain('/conductor deploy');
    const unknown = await cmd('alice', 'fly me to the moon');
    expect(unknown.json.text).toContain('Unknown command `fly`');
    expect(await answer(() => cmd('bob', 'status', { channelId: 'C0SHARED' }))).toContain('This channel serves several lines: add `--line &lt;name&gt;` (one of api, docs)');
    expect(await answer(() => cmd('bob', 'status', { channelId: 'C0NOLINE' }))).toContain('No line is mapped to this channel');
    expect(await answer(() => cmd('bob', 'status --line docs', { channelId: 'C0NOLINE' }))).toContain('*docs*');
  });

  it('takes a train from push to production through Slack alone: card, thread, DMs, buttons', async () => {
    const dev = await t.developer(repo);
    const a = await dev.commit(USERS.alice.email, 'Add <search> & filters');
    const b = await dev.commit(USERS.bob.email, 'Fix login');
    await dev.push();

    // The card is posted once, then updated in place as the train moves.
    await slack.waitFor(() => !!card(1), 15_000);
    await slack.waitFor(() => (card(1)?.text ?? '').includes('verifying') || JSON.stringify(card(1)?.blocks ?? '').includes('Verify'), 15_000);
    const c1 = card(1)!;
    const posts = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === CH && !c.args.thread_ts && String(c.args.text).includes('Train #1'));
    expect(posts).toHaveLength(1);
    expect(Array.isArray(posts[0]!.args.blocks)).toBe(true); // the full card, not a placeholder
    expect(slack.callsTo('chat.update').length).toBeGreaterThan(0);
    expect(JSON.stringify(c1.blocks)).toContain('&lt;search&gt; &amp; filters'); // user text escaped

    // Authors are asked by DM, with a Verify button.
    await slack.waitFor(() => slack.dms(USERS.alice.id).some((m) => m.text.includes('Please verify')) && slack.dms(USERS.bob.id).some((m) => m.text.includes('Please verify')));
    const dm = slack.dms(USERS.alice.id).find((m) => m.text.includes('Please verify'))!;
    expect(JSON.stringify(dm.blocks)).toContain(ACTIONS.verify);
    expect(JSON.stringify(dm.blocks)).not.toMatch(/&amp;amp;|&lt;@U/); // escaped once, mentions intact

    // A stranger may not deploy: a polite ephemeral refusal naming who may, and nothing changes.
    const engineer = (await status()).train.engineer as string;
    const eng = Object.keys(USERS).find((k) => USERS[k as keyof typeof USERS].email === engineer) as keyof typeof USERS;
    await click('mallory', ACTIONS.deploy, 1);
    await slack.waitFor(() => String(lastResponse()?.text ?? '').includes('Only the engineer'));
    expect(lastResponse()).toMatchObject({ response_type: 'ephemeral', replace_original: false });

    await click('alice', ACTIONS.verify, 1, { channelId: slack.dmChannel(USERS.alice.id) });
    await click('bob', ACTIONS.verify, 1);
    await slack.waitFor(() => slack.dms(USERS[eng].id).some((m) => m.text.includes('ready to deploy')), 10_000);

    // Double click on Deploy: one deploy.
    await Promise.all([click(eng, ACTIONS.deploy, 1), click(eng, ACTIONS.deploy, 1)]);
    await t.until('deployed', async () => ((await status()).lastDeployed?.number === 1 ? true : null), 15_000);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'train.deploy-started' } })).toBe(1);
    await slack.waitFor(() => (card(1)?.text ?? '').includes('deployed'), 10_000);

    // Each state change is a short reply in the card's thread; the deploy is broadcast to the channel too.
    const thread = slack.thread(c1.ts, CH);
    expect(thread.length).toBeGreaterThanOrEqual(3);
    // Delivered by the outbox after the commit: wait for it rather than race it.
    const isDeployedReply = (c: { args: Record<string, unknown> }) => c.args.thread_ts === c1.ts && String(c.args.text).includes('deployed to production');
    await slack.waitFor(() => slack.callsTo('chat.postMessage').some(isDeployedReply), 10_000);
    const deployedReply = slack.callsTo('chat.postMessage').find(isDeployedReply);
    expect(String(deployedReply?.args.reply_broadcast)).toBe('true');
    await slack.waitFor(() => slack.dms(USERS.alice.id).some((m) => m.text.includes('in production')));
    expect(a && b).toBeTruthy();
  }, 60_000);

  it('asks for confirmation before derail, showing what will happen, and derails on submit', async () => {
    const dev = await t.developer(repo);
    await dev.commit(USERS.alice.email, 'Risky change');
    await dev.push();
    await t.until('train #2', async () => ((await status()).train?.number === 2 ? true : null), 15_000);
    const eng = (await status()).train.engineer === USERS.alice.email ? 'alice' : 'bob';

    // Someone who may not derail is refused at once, without a modal.
    const opened = slack.views.opened.length;
    await cmd('mallory', 'derail flaky');
    await slack.waitFor(() => String(lastResponse()?.text ?? '').includes('Only the engineer'));
    expect(slack.views.opened.length).toBe(opened);

    await cmd('admin', 'derail staging is down');
    await slack.waitFor(() => slack.views.opened.length === opened + 1);
    const modal = slack.views.opened[slack.views.opened.length - 1]!;
    expect(JSON.stringify(modal)).toContain('Train #2');
    expect((await status()).train.state).not.toBe('derailed'); // nothing happens before confirming

    await send(base, viewSubmission({ callbackId: modal.callback_id, privateMetadata: modal.private_metadata, userId: USERS.admin.id, viewId: modal.id }));
    await t.until('derailed', async () => {
      const s = await status();
      return s.train.number === 3 || s.train.state === 'derailed' ? true : null;
    });
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'train.derailed' } })).toBe(1);
    expect(eng).toBeTruthy();
  }, 60_000);

  it('applies a slash command once when Slack retries it', async () => {
    const trigger = `trig.${Date.now()}.777`;
    await cmd('admin', 'freeze add 2027-03-01', { triggerId: trigger });
    await send(base, slashCommand({ text: 'freeze add 2027-03-01', userId: USERS.admin.id, channelId: CH, responseUrl: slack.responseUrl(), triggerId: trigger }), {
      retryNum: 1,
      retryReason: 'http_timeout',
    });
    // Both deliveries are answered (the ack comes first, the answer after); the action happened once.
    await slack.waitFor(() => slack.responses.filter((r) => String(r.body?.text).includes('2027-03-01')).length >= 2);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'line.freeze-add' } })).toBe(1);
  });

  it('publishes App Home with the person’s own changes when they open it', async () => {
    const res = await send(base, event({ type: 'app_home_opened', user: USERS.alice.id, tab: 'home' }));
    expect(res.status).toBe(200);
    await slack.waitFor(() => slack.views.published.has(USERS.alice.id), 10_000);
    const view = slack.views.published.get(USERS.alice.id)!;
    expect(view.type).toBe('home');
    expect(JSON.stringify(view)).toContain('Risky change');
  });

  it('keeps going through a Slack rate limit: the message waits for Retry-After, nothing is lost', async () => {
    slack.failNext('chat.postMessage', { rateLimited: 1 });
    const posted = slack.callsTo('chat.postMessage').length;
    expect(await answer(() => cmd('admin', 'mode manual'))).toContain('manual mode');
    await slack.waitFor(() => slack.messages().some((m) => m.text.includes('switched the line to manual mode')), 10_000);
    expect(slack.callsTo('chat.postMessage').length).toBeGreaterThanOrEqual(posted + 2); // the 429, then the retry
    slack.expectNoUnexpectedCalls();
  });
});
