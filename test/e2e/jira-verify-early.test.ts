import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeJira } from '../support/fake-jira.js';
import { startJiraApp } from '../support/jira-app.js';

/**
 * An author verifies while Jira is still failing to create the sub-tasks: once
 * Jira is back, the sub-task is created and moved to Done (through the same
 * outbox path as any verify), and the Jira poll never takes the verification back.
 */
describe('end to end: verified before the Jira sub-task exists', () => {
  let t: RunningApp;
  let jira: FakeJira;
  let repo: string;

  beforeAll(async () => {
    ({ t, jira, repo } = await startJiraApp({ tmpPrefix: 'conductor-jira-early-' }));
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await jira?.stop();
  });

  const carol = async () => await t.db.prisma.ticket.findFirstOrThrow({ where: { authorEmail: 'carol@example.com' } });

  it('creates the sub-task once Jira is back, moves it to Done, and keeps the verification', async () => {
    // Jira refuses to create issues for a while: tickets.open waits in the outbox.
    jira.failOn('POST', /\/rest\/api\/3\/issue$/, 500, { times: 2 });
    const dev = await t.developer(repo);
    await dev.commit('carol@example.com', 'Carol changes');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    await t.until('delivered', async () => (await t.status('web')).train?.state === 'verifying');
    expect((await carol()).externalKey).toBeNull();
    expect((await t.api('carol@example.com', 'verify')).ok).toBe(true);

    const key = await t.until('the sub-task exists', async () => (await carol()).externalKey, 20_000);
    await t.until('moved to Done in Jira', async () => jira.issue(key).status === 'Done', 20_000);
    // Two poll intervals later, the verification stands.
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await carol()).state).toBe('verified');
    expect((await t.status('web')).train).toMatchObject({ deployable: true });
    expect(await t.db.prisma.outboxItem.count({ where: { kind: 'ticket.sync' } })).toBe(1);
    jira.expectNoUnexpectedCalls();
  }, 60_000);
});
