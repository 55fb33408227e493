import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/registrations.js';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeMessage, FakeSlack } from '../support/fake-slack.js';
import { slackApp } from '../support/slack-app.js';
import { event, send, slashCommand } from '../support/slack-requests.js';

const USERS = {
  alice: { id: 'U0ALICE', email: 'alice@example.com' },
  bob: { id: 'U0BOB', email: 'bob@example.com' },
  admin: { id: 'U0ADMIN', email: 'admin@example.com' },
  mallory: { id: 'U0MAL', email: 'mallory@example.com' },
};
type Who = keyof typeof USERS;

/** One line (own repository and channel) per test, so the tests do not depend on each other. */
const LINES = ['claim', 'retry', 'extend', 'derail', 'stale', 'reopen', 'junk', 'home', 'culprit'] as const;
type Line = (typeof LINES)[number];

/** The buttons of the train card, end to end: signed block_actions in, Slack calls / database / status API out. */
describe('Slack buttons', () => {
  const logs: { level: number; msg: string; [k: string]: unknown }[] = [];
  const harness = slackApp({
    users: USERS,
    lines: LINES.map((name) => ({ name, build: 'test -f broken.txt && exit 1 || true' })),
    admins: ['admin@example.com'],
    robots: ['bot@example.com'],
    // The engineer is the first human author of a new train.
    app: { log: pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s)) }), random: () => 0 },
    tmpPrefix: 'conductor-slack-buttons-',
  });
  const { channelOf, status, train, push, untilTrain, card, threadOf } = harness;
  let slack: FakeSlack;
  let t: RunningApp;
  let base: string;
  beforeAll(async () => void ({ slack, t, base } = await harness.start()), 60_000);
  afterAll(() => harness.stop());

  // ---- helpers ---------------------------------------------------------------
  const buttonsOf = (m: FakeMessage | undefined): any[] => (m?.blocks ?? []).filter((b: any) => b.type === 'actions').flatMap((b: any) => b.elements as any[]);
  const button = (m: FakeMessage | undefined, actionId: string) => buttonsOf(m).find((b) => b.action_id === actionId);
  const engineerField = (m: FakeMessage | undefined): string =>
    String((m?.blocks ?? []).flatMap((b: any) => b.fields ?? []).find((f: any) => String(f.text).startsWith('*Engineer*'))?.text ?? '');
  const audits = (line: Line, action: string) => t.db.prisma.auditEntry.count({ where: { action, line: { name: line } } });

  /** Presses a button on the train card (or passes `value` verbatim); `press` resolves with what the presser reads (ephemeral via response_url). */
  const click = async (who: Who, actionId: string, line: Line, n: number, opts: { value?: string; view?: any } = {}) => {
    const responseUrl = slack.responseUrl();
    const c = card(line, n);
    const res = await harness.click(who, actionId, line, n, { ...opts, responseUrl, ...(c ? { messageTs: c.ts } : {}) });
    expect(res.status).toBe(200);
    return { res, responseUrl };
  };
  const press = async (who: Who, actionId: string, line: Line, n: number, value?: string): Promise<any> => {
    const c = await click(who, actionId, line, n, value ? { value } : {});
    return harness.reply(c.responseUrl);
  };

  // ---- tests -------------------------------------------------------------------

  it('Claim engineer: anyone takes the role; the card and the thread say so and the previous engineer gets a DM', async () => {
    await push('claim', [
      ['alice', 'Claimable change'],
      ['bob', 'Another change'],
    ]);
    await untilTrain('claim', 1, (x) => x.state === 'verifying');
    expect((await train('claim', 1)).engineer).toBe(USERS.alice.email);
    await slack.waitFor(() => !!button(card('claim', 1), ACTIONS.claim), 10_000);
    expect(engineerField(card('claim', 1))).toContain('<@U0ALICE>');

    // Mallory is neither an author nor an admin: anyone may claim.
    const reply = await press('mallory', ACTIONS.claim, 'claim', 1);
    expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(reply.text).toBe('You are now the engineer of train #1.');
    expect((await train('claim', 1)).engineer).toBe(USERS.mallory.email);
    expect(await audits('claim', 'train.engineer')).toBe(1);

    await slack.waitFor(() => engineerField(card('claim', 1)).includes('<@U0MAL>'), 10_000);
    await slack.waitFor(() => threadOf('claim', 1).includes('<@U0MAL> is now the engineer of train #1 (was <@U0ALICE>).'), 10_000);
    await slack.waitFor(() => slack.dms(USERS.alice.id).some((m) => m.text === '<@U0MAL> is now the engineer of train #1.'), 10_000);
    // Mallory took the role herself: nobody tells her she was "made" the engineer.
    expect(slack.dms(USERS.mallory.id).filter((m) => m.text.includes('made you the engineer'))).toHaveLength(0);

    // Claiming a role you already hold changes nothing.
    expect((await press('mallory', ACTIONS.claim, 'claim', 1)).text).toBe('mallory@example.com is already the engineer of train #1.');
    expect(await audits('claim', 'train.engineer')).toBe(1);
  });

  it('Retry after a failed build: the card offers it, a stranger is refused, the engineer retries', async () => {
    await push('retry', [['alice', 'Breaks the build', 'broken.txt']]);
    await untilTrain('retry', 1, (x) => x.jobs.length === 1 && x.jobs[0].state === 'failed', 'the build to fail');
    // The failure is reported in the channel (the card's thread, broadcast) naming the engineer, and by DM.
    await slack.waitFor(() => threadOf('retry', 1).some((m) => m.startsWith('<@U0ALICE>: the build of train #1 failed')), 10_000);
    await slack.waitFor(() => slack.dms(USERS.alice.id).some((m) => m.text.startsWith('The build of train #1 failed')), 10_000);
    await slack.waitFor(() => !!button(card('retry', 1), ACTIONS.retry), 10_000);
    expect(button(card('retry', 1), ACTIONS.retry).text.text).toContain('Retry build');

    const refused = await press('mallory', ACTIONS.retry, 'retry', 1);
    expect(refused.text).toBe('Only the engineer (alice@example.com) or an admin may retry the build.');
    expect((await train('retry', 1)).jobs).toHaveLength(1);
    expect(await audits('retry', 'job.retried')).toBe(0);

    expect((await press('alice', ACTIONS.retry, 'retry', 1)).text).toBe('Retrying the build of train #1.');
    // The same head still carries broken.txt: attempt 2 runs and fails too.
    const after = await untilTrain('retry', 1, (x) => x.jobs.length === 2 && x.jobs.every((j: any) => j.state === 'failed'), 'the retried build');
    expect(after.jobs.map((j: any) => j.kind)).toEqual(['build', 'build']);
    expect(await audits('retry', 'job.retried')).toBe(1);
    await slack.waitFor(() => threadOf('retry', 1).includes('<@U0ALICE> retried the build of train #1 (attempt 2).'), 10_000);
  });

  it('Extend: the button asks for confirmation; after a revert lands on the platform it replaces the train, keeping verifications and the engineer', async () => {
    const [bad] = await push('extend', [
      ['alice', 'Bad change'],
      ['bob', 'Good change'],
    ]);
    await untilTrain('extend', 1, (x) => x.state === 'verifying');
    await slack.waitFor(() => !!button(card('extend', 1), ACTIONS.extend), 10_000);
    const ext = button(card('extend', 1), ACTIONS.extend);
    expect(ext.confirm).toMatchObject({ title: { text: 'Extend train #1?' }, confirm: { text: 'Extend' }, deny: { text: 'Cancel' } });
    expect(ext.confirm.text.text).toContain('platform');
    expect((await press('bob', ACTIONS.verify, 'extend', 1)).text).toContain('Verified your changes on train #1');

    // Nothing on the platform yet: the engine refuses.
    expect((await press('alice', ACTIONS.extend, 'extend', 1)).text).toContain('The platform is empty');
    expect((await status('extend')).train.number).toBe(1);

    // Alice reverts her own commit through Slack; the revert lands on the platform.
    const r = await send(base, slashCommand({ text: `revert ${bad!.slice(0, 10)}`, userId: USERS.alice.id, channelId: channelOf('extend'), responseUrl: slack.responseUrl() }));
    expect(r.status).toBe(200);
    const withRevert = await t.until('the revert on the platform', async () => {
      const s = await status('extend');
      return s.platform.length === 1 ? s : null;
    });
    expect(withRevert.platform[0].message).toContain('Revert');

    // Only the engineer or an admin extends.
    expect((await press('mallory', ACTIONS.extend, 'extend', 1)).text).toBe('Only the engineer (alice@example.com) or an admin may extend the train.');
    expect((await status('extend')).train.number).toBe(1);

    expect((await press('alice', ACTIONS.extend, 'extend', 1)).text).toBe('Train #1 extended into train #2 (3 commits).');
    const s = await status('extend');
    expect(s.train).toMatchObject({ number: 2, engineer: USERS.alice.email });
    expect(s.train.commits.map((c: any) => c.sha)).toContain(bad);
    expect(s.platform).toHaveLength(0);
    expect((await train('extend', 1)).state).toBe('derailed');
    // Bob verified on train #1 and his commits did not change: still verified on train #2.
    const t2 = await untilTrain('extend', 2, (x) => x.state === 'verifying');
    expect(t2.tickets.find((k: any) => k.authorEmail === USERS.bob.email)?.state).toBe('verified');

    await slack.waitFor(() => !!card('extend', 2), 10_000);
    await slack.waitFor(() => card('extend', 1)!.text.includes(': derailed') && buttonsOf(card('extend', 1)).length === 0, 10_000);
    await slack.waitFor(() => threadOf('extend', 1).some((m) => m.startsWith('Train #1 was extended by <@U0ALICE> into train #2 with 1 more commit')), 10_000);
  });

  it('Derail: the button asks for confirmation; strangers are refused; the engineer derails and a new train starts', async () => {
    await push('derail', [['alice', 'Doomed change']]);
    await untilTrain('derail', 1, (x) => x.state === 'verifying');
    await slack.waitFor(() => !!button(card('derail', 1), ACTIONS.derail), 10_000);
    const d = button(card('derail', 1), ACTIONS.derail);
    expect(d.style).toBe('danger');
    expect(d.confirm).toMatchObject({ title: { text: 'Derail train #1?' }, confirm: { text: 'Derail' }, style: 'danger' });

    expect((await press('mallory', ACTIONS.derail, 'derail', 1)).text).toBe('Only the engineer (alice@example.com) or an admin may derail the train.');
    expect((await train('derail', 1)).state).toBe('verifying');
    expect(await audits('derail', 'train.derailed')).toBe(0);

    expect((await press('alice', ACTIONS.derail, 'derail', 1)).text).toMatch(
      /^Train #1 derailed\. The line is in schedule mode inside auto-time, so train #2 starts now with this commit: [0-9a-f]{8} \(alice@example\.com\)\. To hold commits on the platform instead, switch to manual mode first \(`\/conductor mode manual \[reason\]`\), then derail\.$/,
    );
    expect((await train('derail', 1)).state).toBe('derailed');
    expect(await audits('derail', 'train.derailed')).toBe(1);
    // Schedule mode, inside auto-time: the commit rides a new train at once (rule 7).
    const s = await status('derail');
    expect(s.train.number).toBe(2);
    expect(s.train.commits).toHaveLength(1);
    await slack.waitFor(() => card('derail', 1)!.text.includes(': derailed') && buttonsOf(card('derail', 1)).length === 0, 10_000);
    await slack.waitFor(() => threadOf('derail', 1).some((m) => m.startsWith('Train #1 was derailed by <@U0ALICE>: derailed from Slack.')), 10_000);
    await slack.waitFor(() => !!card('derail', 2), 10_000);
  });

  it('a STALE card: Deploy on train #1’s card, pressed once train #2 exists, is refused and changes nothing', async () => {
    await push('stale', [['alice', 'Stale change']]);
    await untilTrain('stale', 1, (x) => x.state === 'verifying');
    await slack.waitFor(() => !!button(card('stale', 1), ACTIONS.deploy), 10_000);
    const staleValue = button(card('stale', 1), ACTIONS.deploy).value as string; // what the old message in Slack still carries

    // Train #1 is derailed; train #2 starts with the same commit and becomes deployable.
    expect((await press('admin', ACTIONS.derail, 'stale', 1)).text).toMatch(
      /^Train #1 derailed\. The line is in schedule mode inside auto-time, so train #2 starts now with this commit: [0-9a-f]{8} \(alice@example\.com\)\. To hold commits on the platform instead, switch to manual mode first \(`\/conductor mode manual \[reason\]`\), then derail\.$/,
    );
    await untilTrain('stale', 2, (x) => x.state === 'verifying');
    await press('alice', ACTIONS.verify, 'stale', 2);
    const ready = await untilTrain('stale', 2, (x) => x.deployable === true, 'train #2 deployable');
    expect(ready.state).toBe('verifying');

    // An admin (who may deploy any train) presses Deploy on the old card: refused, nothing moves.
    const refused = await press('admin', ACTIONS.deploy, 'stale', 1, staleValue);
    expect(refused.text).toBe('Train #1 is no longer the train this button acts on (live: #2).');
    // Someone who may not deploy at all is told that first, stale card or not.
    expect((await press('mallory', ACTIONS.deploy, 'stale', 1, staleValue)).text).toBe('Only the engineer (alice@example.com) or an admin may deploy.');
    await new Promise((r) => setTimeout(r, 300));
    const s2 = await train('stale', 2);
    expect(s2.state).toBe('verifying');
    expect(s2.jobs.filter((j: any) => j.kind === 'deploy')).toHaveLength(0);
    expect(await audits('stale', 'train.deploy-started')).toBe(0);

    // The current card's button does deploy (the refusal was about staleness only).
    expect((await press('admin', ACTIONS.deploy, 'stale', 2)).text).toBe('Deploy of train #2 started.');
    await t.until('train #2 deployed', async () => ((await status('stale')).lastDeployed?.number === 2 ? true : null));
    expect(await audits('stale', 'train.deploy-started')).toBe(1);
  });

  it('Reopen ("found a problem") after verifying blocks the deploy again and tells the engineer', async () => {
    await push('reopen', [
      ['alice', 'Fine change'],
      ['bob', 'Suspicious change'],
    ]);
    await untilTrain('reopen', 1, (x) => x.state === 'verifying');
    await press('alice', ACTIONS.verify, 'reopen', 1);
    await press('bob', ACTIONS.verify, 'reopen', 1);
    await untilTrain('reopen', 1, (x) => x.deployable === true, 'deployable');

    const reply = await press('bob', ACTIONS.reopen, 'reopen', 1);
    expect(reply.text).toBe('Reopened your verification on train #1; the deploy is blocked until you verify again.');
    const s = await train('reopen', 1);
    expect(s.deployable).toBe(false);
    expect(s.notDeployableReason).toContain('bob@example.com');
    expect(s.tickets.find((k: any) => k.authorEmail === USERS.bob.email).state).toBe('pending');
    expect(await audits('reopen', 'ticket.reopened')).toBe(1);

    await slack.waitFor(() => slack.dms(USERS.alice.id).some((m) => m.text === '<@U0BOB> reopened their verification on train #1.'), 10_000);
    await slack.waitFor(() => threadOf('reopen', 1).some((m) => m.startsWith('<@U0BOB> found a problem with their changes on train #1')), 10_000);
    await slack.waitFor(() => button(card('reopen', 1), ACTIONS.deploy)?.text.text === 'Deploy (not ready)', 10_000);

    // The engineer cannot deploy now.
    expect((await press('alice', ACTIONS.deploy, 'reopen', 1)).text).toContain('Train #1 cannot deploy yet.');
    expect(await audits('reopen', 'train.deploy-started')).toBe(0);
    expect((await train('reopen', 1)).state).toBe('verifying');
  });

  it('ignores a button with a malformed value: 200, nothing changes, a warning is logged', async () => {
    await push('junk', [['alice', 'Junk line change']]);
    await untilTrain('junk', 1, (x) => x.state === 'verifying');
    await slack.waitFor(() => !!card('junk', 1), 10_000);
    // Let every effect so far (this line's and earlier tests') reach Slack first.
    await t.until('the outbox to drain', async () => ((await t.db.prisma.outboxItem.count({ where: { doneAt: null } })) === 0 ? true : null), 15_000);
    const before = await train('junk', 1);
    const calls = slack.calls.length;
    const responses = slack.responses.length;
    const auditsBefore = await t.db.prisma.auditEntry.count();
    const warned = () => logs.filter((l) => l.msg === 'button with a malformed value ignored').length;
    const warnedBefore = warned();

    const junk = ['not json', '', '{"line":"junk"}', '{"line":"junk","train":0}', '{"line":"junk","train":"1"}', '{"line":7,"train":1}', '[1]', '{"line":"nope","train":1}'];
    for (const value of junk) {
      for (const id of [ACTIONS.deploy, ACTIONS.derail, ACTIONS.verify]) {
        const { res } = await click('admin', id, 'junk', 1, { value });
        expect(res.status).toBe(200);
      }
    }
    await t.until('warnings logged', async () => warned() - warnedBefore === junk.length * 3 || null, 5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await train('junk', 1)).toEqual(before);
    expect(await t.db.prisma.auditEntry.count()).toBe(auditsBefore);
    expect(slack.calls.length).toBe(calls);
    expect(slack.responses.length).toBe(responses);
    expect(logs.find((l) => l.msg === 'button with a malformed value ignored' && l.value === 'not json')).toBeTruthy();
  });

  it('Verify from App Home verifies and republishes the home view', async () => {
    await push('home', [['alice', 'Home change']]);
    await untilTrain('home', 1, (x) => x.state === 'verifying');
    const published = slack.callsTo('views.publish').filter((c) => c.args.user_id === USERS.alice.id).length;
    await send(base, event({ type: 'app_home_opened', user: USERS.alice.id, tab: 'home' }));
    const homeButton = () =>
      (slack.views.published.get(USERS.alice.id)?.blocks ?? []).map((b: any) => b.accessory).find((a: any) => a?.action_id === ACTIONS.verify && JSON.parse(a.value).line === 'home');
    await slack.waitFor(() => slack.callsTo('views.publish').filter((c) => c.args.user_id === USERS.alice.id).length > published && !!homeButton(), 10_000);
    const view = slack.views.published.get(USERS.alice.id)!;
    const value = homeButton().value as string;
    expect(JSON.parse(value)).toEqual({ line: 'home', train: 1 });
    const publishes = slack.callsTo('views.publish').filter((c) => c.args.user_id === USERS.alice.id).length;

    await click('alice', ACTIONS.verify, 'home', 1, { value, view: { id: view.id, type: 'home', blocks: view.blocks } });
    await t.until('verified from home', async () => ((await train('home', 1)).tickets[0].state === 'verified' ? true : null), 10_000);
    expect(await audits('home', 'ticket.verified')).toBe(1);
    await slack.waitFor(() => slack.callsTo('views.publish').filter((c) => c.args.user_id === USERS.alice.id).length > publishes && !homeButton(), 10_000);
    const after = JSON.stringify(slack.views.published.get(USERS.alice.id)!.blocks);
    expect(after).toContain('*Train #1* · verifying · :white_check_mark: verified');
    // A button in App Home has no response_url and no channel: nothing else is said on success.
    expect(slack.dms(USERS.alice.id).some((m) => m.text.includes('Verified your changes'))).toBe(false);
    slack.expectNoUnexpectedCalls();
  });

  it('Revert it and extend (behaviour.md §8): the card names the culprit the search found; the engineer reverts it and extends in one click, others are refused', async () => {
    const shas = await push('culprit', [
      ['alice', 'Fine change'],
      ['bob', 'Breaks the build', 'broken.txt'],
      ['alice', 'Another fine change'],
    ]);
    await untilTrain('culprit', 1, (x) => x.bisect?.state === 'found');
    expect((await train('culprit', 1)).bisect.culprit).toEqual({ sha: shas[1], authorEmail: USERS.bob.email });
    await slack.waitFor(() => !!button(card('culprit', 1), ACTIONS.revertExtend), 10_000);
    const text = JSON.stringify(card('culprit', 1)?.blocks);
    expect(text).toContain(`*Culprit search:* The build first fails at ${shas[1]!.slice(0, 8)} (bob, \\"Breaks the build\\").`);
    // The usual confirmation, in Slack's own dialog, with the words of the web's confirm page.
    const b = button(card('culprit', 1), ACTIONS.revertExtend);
    expect(b.confirm.title.text).toBe('Revert and extend #1');
    expect(b.confirm.text.text).toContain('A revert of it will be pushed to main');
    await slack.waitFor(() => threadOf('culprit', 1).some((m) => m.includes(`The build first fails at ${shas[1]!.slice(0, 8)}`)), 10_000);
    await slack.waitFor(() => slack.dms(USERS.bob.id).some((m) => m.text.includes(`The build first fails at ${shas[1]!.slice(0, 8)}`)), 10_000);

    // Bob wrote it but does not drive the train: refused, nothing happens.
    const refused = await press('bob', ACTIONS.revertExtend, 'culprit', 1);
    expect(refused.text).toContain('Only an admin, or the engineer of train #1');
    expect(await audits('culprit', 'commit.revert-requested')).toBe(0);

    const ok = await press('alice', ACTIONS.revertExtend, 'culprit', 1);
    expect(ok.text).toContain(`Reverting ${shas[1]!.slice(0, 8)}; train #1 will be extended with the revert`);
    await untilTrain('culprit', 2, (x) => x.state === 'verifying');
    const t2 = await train('culprit', 2);
    expect(t2.commits).toHaveLength(4);
    expect((await train('culprit', 1)).state).toBe('derailed');
    slack.expectNoUnexpectedCalls();
  }, 60_000);
});
