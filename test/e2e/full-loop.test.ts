import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/registrations.js';
import { CHANNEL, type IntegrationsApp, LINE, PEOPLE, startIntegrationsApp } from '../support/integrations-app.js';

/**
 * The issue's loop with EVERY integration on in one app, each against its strict fake:
 * GitHub push webhook → train → Jenkins build → Jira parent + sub-tasks → Verify in Slack →
 * Jira sub-task Done → Deploy in Slack → Jenkins deploy → GitHub "deployed with train #1" and the Slack card.
 */
describe('end to end: the full loop with Slack, GitHub, Jenkins and Jira at once', () => {
  let x: IntegrationsApp;
  beforeAll(async () => {
    x = await startIntegrationsApp('conductor-full-');
  }, 60_000);
  afterAll(() => x?.stop());

  it('takes a push through build, tickets, verification and deploy, every side in step', async () => {
    const { t, slack, gh, jenkins, jira } = x;

    // 1. Push + signed webhook: the train exists at once (no git poll: pollSeconds is 3600).
    const { shas, status } = await x.pushViaWebhook([
      ['carol', 'Carol adds search'],
      ['dave', 'Dave fixes login'],
    ]);
    expect(status).toBe(200);
    const train = (await t.status(LINE)).train;
    expect(train).toMatchObject({ number: 1, headSha: shas[1] });
    expect(train.commits.map((c: { sha: string }) => c.sha)).toEqual(shas);
    const engineer = train.engineer as string;
    expect([PEOPLE.carol.email, PEOPLE.dave.email]).toContain(engineer);

    // 2. Jenkins build with the train's parameters, recorded with its Jenkins URL.
    const build = await t.until('Jenkins build triggered', async () => jenkins.lastBuild('web-build'));
    expect(build.params).toMatchObject({ TRAIN: '1', LINE: 'web', SHA: shas[1], BRANCH: 'main', ENGINEER: engineer });
    const running = await t.until('build running with its URL', async () => {
      const j = (await t.status(LINE)).train.jobs.find((k: { kind: string }) => k.kind === 'build');
      return j?.state === 'running' ? j : null;
    });
    expect(running.url).toBe(build.url);

    // GitHub: each commit is "on train #1".
    await t.until('on-train statuses', async () => shas.every((s) => x.statusesOf(s).includes('pending: on train #1')));
    expect(gh.statuses.every((c) => c.owner === 'acme' && c.repo === 'web' && c.context === 'conductor')).toBe(true);

    // Slack: the card is posted once.
    await slack.waitFor(() => !!x.card(1), 10_000);

    // 3. The build finishes (learnt by polling) → delivered → Jira parent + one sub-task per author.
    jenkins.finish('web-build', build.number, 'SUCCESS');
    await t.until('verifying', async () => (await t.status(LINE)).train.state === 'verifying');
    const tickets = await t.until('Jira keys stored', async () => {
      const rows = await t.db.prisma.ticket.findMany({ orderBy: { authorEmail: 'asc' } });
      return rows.length === 2 && rows.every((r) => r.externalKey) ? rows : null;
    });
    const [carolKey, daveKey] = tickets.map((r) => r.externalKey!) as [string, string];
    const parents = [...jira.issues.values()].filter((i) => i.parent === null);
    expect(parents).toHaveLength(1);
    expect(
      jira
        .subtasksOf(parents[0]!.key)
        .map((i) => i.key)
        .sort(),
    ).toEqual([carolKey, daveKey].sort());
    expect(jira.issue(carolKey).assignee).toBe(PEOPLE.carol.jira);
    expect(jira.issue(daveKey).assignee).toBe(PEOPLE.dave.jira);
    expect(jira.issue(carolKey).status).not.toBe('Done');

    // 4. Carol presses Verify in Slack (signed block action) → her sub-task moves to Done in Jira.
    expect((await x.click('carol', ACTIONS.verify, 1)).status).toBe(200);
    await t.until('Carol’s sub-task Done in Jira', async () => jira.issue(carolKey).status === 'Done');
    expect(jira.issue(daveKey).status).not.toBe('Done');
    expect((await t.status(LINE)).train.deployable).toBe(false);
    expect((await x.click('dave', ACTIONS.verify, 1)).status).toBe(200);
    await t.until('Dave’s sub-task Done in Jira', async () => jira.issue(daveKey).status === 'Done');
    await t.until('deployable', async () => (await t.status(LINE)).train.deployable === true);

    // 5. The engineer presses Deploy in Slack → Jenkins deploy; it finishes → deployed.
    expect((await x.click(x.personOf(engineer), ACTIONS.deploy, 1)).status).toBe(200);
    const deploy = await t.until('Jenkins deploy triggered', async () => jenkins.lastBuild('web-deploy'));
    expect(deploy.params).toMatchObject({ TRAIN: '1', LINE: 'web', SHA: shas[1], BRANCH: 'main', ENGINEER: engineer });
    await t.until('deploy running', async () => (await t.status(LINE)).train.jobs.some((j: { kind: string; state: string }) => j.kind === 'deploy' && j.state === 'running'));
    jenkins.finish('web-deploy', deploy.number, 'SUCCESS');
    await t.until('deployed', async () => (await t.status(LINE)).lastDeployed?.number === 1);

    // 6. GitHub: every commit ends "deployed with train #1"; the Slack card shows deployed.
    await t.until('deployed statuses', async () => shas.every((s) => x.finalStatusOf(s) === 'success: deployed with train #1'));
    await slack.waitFor(() => (x.card(1)?.text ?? '').includes('deployed'), 10_000);

    // Nothing done twice.
    expect(jenkins.builds.map((b) => `${b.job}#${b.number}`)).toEqual(['web-build#1', 'web-deploy#1']);
    expect(jenkins.callsTo('POST', /buildWithParameters/)).toHaveLength(2);
    expect(jira.callsTo('POST', /^\/rest\/api\/3\/issue$/)).toHaveLength(3);
    expect(jira.issues.size).toBe(3);
    const cardPosts = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === CHANNEL && !c.args.thread_ts && String(c.args.text).startsWith('Train #1'));
    expect(cardPosts).toHaveLength(1);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'train.deployed' } })).toBe(1);
    expect(await t.db.prisma.outboxItem.count({ where: { doneAt: null } })).toBe(0);

    slack.expectNoUnexpectedCalls();
    gh.expectNoUnexpectedCalls();
    jenkins.expectNoUnexpectedCalls();
    jira.expectNoUnexpectedCalls();
  }, 60_000);
});
