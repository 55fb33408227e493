import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, VIEWS } from '../../src/slack/registrations.js';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeSlack, FakeView } from '../support/fake-slack.js';
import { slackApp } from '../support/slack-app.js';
import { send, slashCommand, triggerId, viewSubmission } from '../support/slack-requests.js';

const USERS = {
  alice: { id: 'U0ALICE', email: 'alice@example.com' },
  bob: { id: 'U0BOB', email: 'bob@example.com' },
  carol: { id: 'U0CAROL', email: 'carol@example.com' },
  admin: { id: 'U0ADMIN', email: 'admin@example.com' },
  /** In the workspace, but never seen by Conductor until the last test. */
  dave: { id: 'U0DAVE', email: 'dave@example.com' },
  /** Her Slack display name differs from the name on her commits: a revert she asks for carries the Slack one. */
  erin: { id: 'U0ERIN', email: 'erin@example.com', name: 'Erin Slackname' },
};
type Who = keyof typeof USERS;
/** An author with no Slack account: the fake Slack has no user with this email. */
const GHOST = 'ghost@example.com';

const LINES = ['ppl', 'emerg', 'roll'] as const;
type Line = (typeof LINES)[number];

/** People on Slack: email ↔ user mapping, mentions, admin-only commands and confirmation modals. */
describe('Slack people', () => {
  const harness = slackApp({
    users: USERS,
    lines: LINES,
    admins: ['admin@example.com'],
    robots: ['bot@example.com'],
    app: { random: () => 0 },
    tmpPrefix: 'conductor-slack-people-',
  });
  const { repos, channelOf, status, train, push, untilTrain, card, threadOf, cmd } = harness;
  let slack: FakeSlack;
  let t: RunningApp;
  let base: string;
  beforeAll(async () => void ({ slack, t, base } = await harness.start()), 60_000);
  afterAll(() => harness.stop());

  // ---- helpers ---------------------------------------------------------------
  const branchHead = async (line: Line) => (await simpleGit(repos[line]).revparse(['refs/heads/main'])).trim();
  /** What the person reads: the ack's ephemeral text, or (after a bare ack) what was posted to response_url. */
  const answer = (who: Who, line: Line, text: string): Promise<string> => harness.answer(() => cmd(who, line, text), 10_000);
  const press = async (who: Who, actionId: string, line: Line, n: number) => String((await harness.reply((await harness.click(who, actionId, line, n)).responseUrl!)).text);
  /** Opens the confirmation modal for `text` and returns it (its sentences as one string in `said`). */
  const modalFor = async (who: Who, line: Line, text: string): Promise<FakeView & { said: string }> => {
    const opened = slack.views.opened.length;
    const r = await cmd(who, line, text, { triggerId: triggerId() });
    expect(r.status).toBe(200);
    await slack.waitFor(() => slack.views.opened.length > opened, 5000);
    const view = slack.views.opened[slack.views.opened.length - 1]!;
    expect(view.callback_id).toBe(VIEWS.confirm);
    const said = (view.blocks as any[]).map((b) => b.text?.text ?? (b.elements ?? []).map((e: any) => e.text).join(' ')).join('\n');
    return { ...view, said };
  };
  const submit = (who: Who, view: FakeView) => send(base, viewSubmission({ callbackId: view.callback_id, privateMetadata: view.private_metadata, userId: USERS[who].id, viewId: view.id }));
  const lookups = (email: string) => slack.callsTo('users.lookupByEmail').filter((c) => c.args.email === email).length;
  /** Verifies every author's changes and deploys the train through Slack buttons. */
  const ship = async (line: Line, n: number, authors: Who[], engineer: Who) => {
    await untilTrain(line, n, (x) => x.state === 'verifying');
    for (const a of authors) await press(a, ACTIONS.verify, line, n);
    await untilTrain(line, n, (x) => x.deployable);
    expect(await press(engineer, ACTIONS.deploy, line, n)).toBe(`Deploy of train #${n} started.`);
    await untilTrain(line, n, (x) => x.state === 'deployed');
  };

  // ---- tests -------------------------------------------------------------------

  it('names an author who is not on Slack in the card’s thread instead of DMing them', async () => {
    const [, ghostSha] = await push('ppl', [
      [USERS.alice.email, 'Alice’s change'],
      [GHOST, 'Ghost’s change'],
    ]);
    await untilTrain('ppl', 1, (x) => x.state === 'verifying');
    await slack.waitFor(() => threadOf('ppl', 1).includes(`${GHOST} (not on Slack): Your change is on train #1; it is building now.`), 10_000);
    await slack.waitFor(
      () =>
        threadOf('ppl', 1).includes(
          `${GHOST} (not on Slack): Train #1 is on staging. Please verify your changes (${ghostSha!.slice(0, 8)}), then press Verify or run \`/conductor verify\`.`,
        ),
      10_000,
    );
    // Alice, on Slack, is DMed as usual.
    await slack.waitFor(() => slack.dms(USERS.alice.id).some((m) => m.text.startsWith('Train #1 is on staging. Please verify')), 10_000);
    // Nothing was posted anywhere but the line's channel and real users' DMs.
    expect(slack.callsTo('chat.postMessage').every((c) => c.args.channel === channelOf('ppl') || /^D/.test(String(c.args.channel)))).toBe(true);
    expect(slack.callsTo('conversations.open').every((c) => String(c.args.users).startsWith('U0'))).toBe(true);
    // The card names the ghost by email, the others by mention.
    expect(JSON.stringify(card('ppl', 1)!.blocks)).toContain(GHOST);
    expect(JSON.stringify(card('ppl', 1)!.blocks)).toContain('<@U0ALICE>');
  });

  it('caches users.lookupByEmail answers, misses too, across several DMs to the same people', async () => {
    // Alice (engineer) already got: "you are the engineer", "your change is on train #1", "please verify".
    await slack.waitFor(() => slack.dms(USERS.alice.id).length >= 3, 10_000);
    const ghostMentions = () => threadOf('ppl', 1).filter((m) => m.startsWith(`${GHOST} (not on Slack)`)).length;
    expect(ghostMentions()).toBe(2);
    // More messages to the same people: verify, ready-to-deploy DM, engineer hand-over DMs.
    await press('alice', ACTIONS.verify, 'ppl', 1);
    await slack.waitFor(() => slack.dms(USERS.alice.id).length >= 3 && threadOf('ppl', 1).some((m) => m.startsWith('<@U0ALICE> verified their changes')), 10_000);
    await push('ppl', [[GHOST, 'Another ghost change']]); // on the platform: no DM yet
    expect(await press('carol', ACTIONS.claim, 'ppl', 1)).toBe('You are now the engineer of train #1.');
    await slack.waitFor(() => slack.dms(USERS.alice.id).some((m) => m.text === '<@U0CAROL> is now the engineer of train #1.'), 10_000);
    expect(slack.dms(USERS.alice.id).length).toBeGreaterThanOrEqual(4);
    expect(lookups(USERS.alice.email)).toBe(1);
    expect(lookups(GHOST)).toBe(1); // the miss (users_not_found) is remembered too
    expect(lookups(USERS.carol.email)).toBeLessThanOrEqual(1);
    const row = await t.db.prisma.slackUser.findUnique({ where: { email: GHOST } });
    expect(row).toMatchObject({ email: GHOST, slackId: null });
  });

  it('/conductor engineer <@U…|name>: an admin gives the role (mention resolved to the email); a non-admin is told only admins may', async () => {
    // Bob has never used Conductor: the mention is resolved with users.info.
    expect(await answer('admin', 'ppl', 'engineer <@U0BOB|bob>')).toBe('bob@example.com is now the engineer of train #1.');
    expect(slack.callsTo('users.info').some((c) => c.args.user === USERS.bob.id)).toBe(true);
    expect((await train('ppl', 1)).engineer).toBe(USERS.bob.email);
    await slack.waitFor(() => slack.dms(USERS.bob.id).some((m) => m.text === '<@U0ADMIN> made you the engineer of train #1.'), 10_000);
    await slack.waitFor(() => slack.dms(USERS.carol.id).some((m) => m.text === '<@U0BOB> is now the engineer of train #1.'), 10_000);

    const refused = await answer('alice', 'ppl', 'engineer <@U0CAROL|carol>');
    expect(refused).toContain('Only admins may give the engineer role to someone else');
    expect(refused).toContain('Admins: admin@example.com.');
    expect((await train('ppl', 1)).engineer).toBe(USERS.bob.email);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'train.engineer', line: { name: 'ppl' } } })).toBe(2); // carol's claim, then the admin's
  });

  it('emergency reset: a modal lists what leaves the branch and the target; confirming resets, lists the removed commits and DMs each author', async () => {
    const target = await branchHead('emerg');
    const [a, b] = await push('emerg', [
      [USERS.alice.email, 'Alice ships a bug'],
      [USERS.bob.email, 'Bob builds on it'],
    ]);
    await untilTrain('emerg', 1, (x) => x.state === 'verifying');
    const [c] = await push('emerg', [[USERS.carol.email, 'Carol waits on the platform']]);
    const oldHead = await branchHead('emerg');
    expect(oldHead).toBe(c);
    expect((await status('emerg')).platform).toHaveLength(1);

    // Not an admin: refused at once, no modal.
    const opened = slack.views.opened.length;
    expect(await answer('alice', 'emerg', 'emergency')).toContain('Only admins may run an emergency reset');
    expect(slack.views.opened.length).toBe(opened);

    const modal = await modalFor('admin', 'emerg', 'emergency prod is down');
    expect(modal.title.text).toBe('Emergency reset');
    expect(modal.said).toContain('Reason: prod is down');
    expect(modal.said).toContain('Train #1 (2 commits) will be derailed.');
    expect(modal.said).toContain(`The branch main will be force-pushed back to \`${target.slice(0, 8)}\` (the commit just before train #1).`);
    expect(modal.said).toContain('These 3 commits leave the branch (train #1 and the platform):');
    expect(modal.said).toContain(`\`${a!.slice(0, 8)}\` alice@example.com: Alice ships a bug`);
    expect(modal.said).toContain(`\`${b!.slice(0, 8)}\` bob@example.com: Bob builds on it`);
    expect(modal.said).toContain(`\`${c!.slice(0, 8)}\` carol@example.com: Carol waits on the platform`);
    // Nothing happens before confirming.
    expect((await status('emerg')).mode).toBe('schedule');
    expect(await branchHead('emerg')).toBe(oldHead);

    expect((await submit('admin', modal)).status).toBe(200);
    await t.until('the branch reset', async () => ((await branchHead('emerg')) === target ? true : null), 15_000);
    const s = await status('emerg');
    expect(s).toMatchObject({ mode: 'manual', platform: [] });
    expect(s.train).toMatchObject({ number: 1, state: 'derailed' });
    // The old head is kept under a backup ref.
    const refs = (await simpleGit(repos.emerg).raw(['for-each-ref', '--format=%(refname) %(objectname)', 'refs/conductor/backup/emerg/'])).trim().split('\n');
    expect(refs).toHaveLength(1);
    expect(refs[0]).toMatch(new RegExp(`^refs/conductor/backup/emerg/\\d{8}T\\d{6}Z ${oldHead}$`));

    // The channel lists the removed commits (broadcast from the card's thread).
    await slack.waitFor(() => slack.messages().some((m) => m.channel === channelOf('emerg') && m.text.includes('Emergency reset by <@U0ADMIN>: prod is down.')), 10_000);
    const announced = slack.messages().find((m) => m.channel === channelOf('emerg') && m.text.includes('Emergency reset by <@U0ADMIN>'))!;
    expect(announced.text).toContain('These 3 commits are taken off the branch (the backup ref keeps them):');
    for (const sha of [a, b, c]) expect(announced.text).toContain(sha!.slice(0, 8));
    expect(slack.callsTo('chat.postMessage').find((x) => String(x.args.text).includes('Emergency reset by'))!.args.reply_broadcast).toBeTruthy();
    // Each author gets a DM naming their removed commits, and only theirs.
    for (const [who, sha] of [
      ['alice', a],
      ['bob', b],
      ['carol', c],
    ] as const) {
      await slack.waitFor(() => slack.dms(USERS[who].id).some((m) => m.text.startsWith('An emergency reset took your commit off main:')), 10_000);
      const dm = slack.dms(USERS[who].id).find((m) => m.text.startsWith('An emergency reset took your commit'))!;
      expect(dm.text).toContain(sha!.slice(0, 8));
      for (const other of [a, b, c].filter((x) => x !== sha)) expect(dm.text).not.toContain(other!.slice(0, 8));
    }
    // The admin reads the answer in the channel.
    await slack.waitFor(() => slack.ephemerals.some((e) => e.user === USERS.admin.id && e.text.startsWith('Emergency reset: the branch goes back to')), 10_000);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'line.emergency' } })).toBe(1);
  });

  it('/conductor rollback N and /conductor extend open confirmation modals that say what will happen', async () => {
    await push('roll', [[USERS.alice.email, 'First release']]);
    await ship('roll', 1, ['alice'], 'alice');
    const [second] = await push('roll', [[USERS.alice.email, 'Second release']]);
    await ship('roll', 2, ['alice'], 'alice');
    await push('roll', [[USERS.alice.email, 'Third, going']]);
    await untilTrain('roll', 3, (x) => x.state === 'verifying');
    const [fix] = await push('roll', [[USERS.bob.email, 'Revert the bad bit']]);
    expect((await status('roll')).platform).toHaveLength(1);
    const first = (await train('roll', 1)).headSha as string;

    // Rolling back to what production runs now is refused without a modal.
    const opened = slack.views.opened.length;
    const r2 = await cmd('alice', 'roll', 'rollback 2', { triggerId: triggerId() });
    expect(r2.status).toBe(200);
    await slack.waitFor(() => slack.responses.some((x) => String(x.body?.text).includes('Train #2 is what production runs now')), 10_000);
    expect(slack.views.opened.length).toBe(opened);

    const rb = await modalFor('alice', 'roll', 'rollback 1');
    expect(rb.title.text).toBe('Roll back to train #1');
    expect(rb.said).toContain(`Production will be rolled back to train #1: the deploy job runs for its head \`${first.slice(0, 8)}\`.`);
    expect(rb.said).toContain('Train #3 (1 commit) will be blocked with reason "rollback": it does everything except deploy until it is unblocked.');
    expect(rb.said).toContain('Next: revert the bad commit (`/conductor revert &lt;sha&gt;`), extend the train (`/conductor extend`), then unblock it.');
    expect((await train('roll', 3)).blocked).toBeNull();
    expect(second).toBeTruthy();

    const ex = await modalFor('alice', 'roll', 'extend');
    expect(ex.title.text).toBe('Extend train #3');
    expect(ex.said).toContain('Train #3 (1 commit) will be derailed and replaced by train #4 with 2 commits: its own 1 commit plus the 1 commit on the platform.');
    expect(ex.said).toContain(`\`${fix!.slice(0, 8)}\` bob@example.com: Revert the bad bit`);
    expect(ex.said).toContain('The engineer stays: alice@example.com.');
    expect((await status('roll')).train.number).toBe(3);

    // Confirming does what the modals said.
    await submit('alice', rb);
    await t.until('train #3 blocked by the rollback', async () => ((await train('roll', 3)).blocked === 'rollback' ? true : null), 10_000);
    await submit('alice', ex);
    const t4 = await untilTrain('roll', 4, (x) => x.commits.length === 2);
    expect(t4.engineer).toBe(USERS.alice.email);
    expect((await train('roll', 3)).state).toBe('derailed');
  });

  it('acks the first command of a user Conductor has never seen at once, and answers via response_url once users.info says who they are', async () => {
    expect(await t.db.prisma.slackUser.findFirst({ where: { slackId: USERS.dave.id } })).toBeNull();
    slack.failNext('users.info', { delayMs: 1500 }); // Slack is slow to say who Dave is
    const responseUrl = slack.responseUrl();
    const r = await send(base, slashCommand({ text: 'status', userId: USERS.dave.id, channelId: channelOf('ppl'), responseUrl }));
    expect(r.status).toBe(200);
    expect(r.body).toBe(''); // an empty ack
    expect(r.ms).toBeLessThan(1000);
    await slack.waitFor(() => slack.responses.some((x) => x.url === responseUrl), 10_000);
    const info = slack.callsTo('users.info').find((c) => c.args.user === USERS.dave.id)!;
    const answered = slack.responses.find((x) => x.url === responseUrl)!;
    expect(answered.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answered.body.text)).toContain('*ppl*');
    expect(answered.at).toBeGreaterThanOrEqual(info.at + 1500);
    expect(await t.db.prisma.slackUser.findFirst({ where: { slackId: USERS.dave.id } })).toMatchObject({ email: USERS.dave.email });

    // Known now: the next command is answered without asking Slack who Dave is again.
    const infos = slack.callsTo('users.info').length;
    expect(await answer('dave', 'ppl', 'status')).toContain('*ppl*');
    expect(slack.callsTo('users.info').length).toBe(infos);
    slack.expectNoUnexpectedCalls();
  });

  it("/conductor revert authors the revert commit with the requester's Slack display name (behaviour.md §10)", async () => {
    const [sha] = await push('ppl', [['erin', 'Erin breaks the build']]);
    expect(await answer('erin', 'ppl', `revert ${sha!.slice(0, 10)}`)).toBe(`Reverting ${sha!.slice(0, 8)}; the revert commit will appear on the platform shortly.`);
    const git = simpleGit(repos.ppl);
    await t.until('the revert is pushed', async () => ((await git.raw(['log', '-n1', '--format=%s', 'main'])).trim() === 'Revert "Erin breaks the build"' ? true : null));
    expect((await git.raw(['log', '-n1', '--format=%an <%ae>', 'main'])).trim()).toBe('Erin Slackname <erin@example.com>');
  });
});
