import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeJira } from '../support/fake-jira.js';
import { type JiraApp, startJiraApp } from '../support/jira-app.js';

const SECRET = 'jira-hook-secret';

/** A line whose tickets live in Jira (a strict fake): both sides agree whichever side verifies. */
describe('end to end: Jira tickets', () => {
  let t: RunningApp;
  let jira: FakeJira;
  let repo: string;
  let hook: JiraApp['hook'];

  beforeAll(async () => {
    ({ t, jira, repo, hook } = await startJiraApp({ tmpPrefix: 'conductor-jira-', webhookSecret: SECRET }));
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await jira?.stop();
  });

  const ticketKeys = async () => (await t.db.prisma.ticket.findMany({ orderBy: { authorEmail: 'asc' } })).map((k) => [k.authorEmail, k.externalKey, k.state] as const);

  it('opens a parent and a sub-task per author at delivery, and keeps both sides in step', async () => {
    const dev = await t.developer(repo);
    await dev.commit('carol@example.com', 'Carol changes');
    await dev.commit('dave@example.com', 'Dave changes');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    await t.until('sub-tasks created and keys stored', async () => (await ticketKeys()).every(([, key]) => !!key) && (await ticketKeys()).length === 2);
    const [[, carolKey], [, daveKey]] = (await ticketKeys()) as [readonly [string, string, string], readonly [string, string, string]];
    const carolIssue = jira.issue(carolKey);
    expect(carolIssue.assignee).toBe('acc-carol');
    expect(jira.issue(daveKey).assignee).toBeNull(); // no Jira account: unassigned, email in the description
    expect(JSON.stringify(jira.issue(daveKey).description)).toContain('dave@example.com');
    expect(
      jira
        .subtasksOf(carolIssue.parent!)
        .map((i) => i.key)
        .sort(),
    ).toEqual([carolKey, daveKey].sort());

    // Verify in Conductor → the sub-task moves to Done in Jira.
    expect((await t.api('carol@example.com', 'verify')).ok).toBe(true);
    await t.until('Carol’s sub-task done in Jira', async () => jira.issue(carolKey).status === 'Done');

    // Done in Jira (webhook) → verified in Conductor. Wrong secret: 401, nothing changes.
    jira.setStatus(daveKey, 'Done');
    expect((await hook(daveKey, 'Done', 'nope')).status).toBe(401);
    expect((await ticketKeys()).find(([a]) => a === 'dave@example.com')![2]).toBe('pending');
    expect((await hook(daveKey, 'Done')).status).toBe(200);
    expect((await t.status('web')).train).toMatchObject({ deployable: true });

    // Reopened in Jira, no webhook: the poller notices and the deploy is blocked again.
    jira.setStatus(carolKey, 'To Do');
    await t.until('reopened by polling', async () => (await ticketKeys()).find(([a]) => a === 'carol@example.com')![2] === 'pending', 10_000);
    expect((await t.status('web')).train.deployable).toBe(false);
    jira.expectNoUnexpectedCalls();
  }, 60_000);
});
