import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeJira } from '../support/fake-jira.js';
import { type JiraApp, startJiraApp } from '../support/jira-app.js';

const SECRET = 'jira-hook-secret';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A Jira workflow Conductor cannot walk: sub-tasks go To Do → In Review and back, never to Done, and Done (where
 * only a person can put an issue) has no way out. When Jira cannot follow a change made in Conductor, the
 * polling safety net must not take Jira's (unchanged) view for a change made in Jira and undo it; the channel
 * is told instead. A person's explicit transition in Jira (webhook) is still applied.
 */
describe('end to end: a Jira workflow that cannot follow Conductor', () => {
  let t: RunningApp;
  let jira: FakeJira;
  let repo: string;
  let hook: JiraApp['hook'];

  beforeAll(async () => {
    ({ t, jira, repo, hook } = await startJiraApp({
      tmpPrefix: 'conductor-jira-dead-end-',
      webhookSecret: SECRET,
      jira: {
        statuses: [
          { name: 'To Do', category: 'new' },
          { name: 'In Review', category: 'indeterminate' },
          { name: 'Done', category: 'done' },
        ],
        workflow: {
          'To Do': [{ id: '21', name: 'Submit for review', to: 'In Review' }],
          'In Review': [{ id: '11', name: 'Send back', to: 'To Do' }],
          Done: [],
        },
      },
    }));
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await jira?.stop();
  });

  const stateOf = async (author: string) => (await t.db.prisma.ticket.findFirstOrThrow({ where: { authorEmail: author }, orderBy: { id: 'desc' } })).state;
  const keyOf = async (author: string) => (await t.db.prisma.ticket.findFirst({ where: { authorEmail: author }, orderBy: { id: 'desc' } }))?.externalKey;
  const syncs = (key: string) => t.db.prisma.outboxItem.findMany({ where: { kind: 'ticket.sync', payload: { path: ['externalKey'], equals: key } }, orderBy: { id: 'asc' } });
  const polls = () => jira.callsTo('POST', /\/search\/jql$/).filter((c) => /^key in/.test(String((c.body as { jql?: string }).jql))).length;
  /** Waits until the poller has compared both sides at least `n` more times. */
  const pollsPass = async (n: number) => {
    const from = polls();
    await t.until(`${n} Jira polls`, async () => polls() >= from + n, 15_000);
    await sleep(300); // the last poll's decisions, if any, are written
  };

  it('keeps a verification Jira cannot reach Done, tells the thread, and still takes an explicit reopen from Jira', async () => {
    const dev = await t.developer(repo);
    await dev.commit('carol@example.com', 'Carol changes');
    await dev.commit('dave@example.com', 'Dave changes');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    await t.until('sub-tasks created', async () => !!(await keyOf('carol@example.com')) && !!(await keyOf('dave@example.com')));
    const carol = (await keyOf('carol@example.com'))!;

    // Carol verifies in Conductor; Jira's workflow has no way to Done: the sync gives up.
    expect((await t.api('carol@example.com', 'verify')).ok).toBe(true);
    await t.until('the sync gave up', async () => (await syncs(carol)).some((s) => s.lastError?.startsWith('gave up:')));
    expect(jira.issue(carol).status).toBe('In Review'); // walked as far as it goes

    // The polling safety net sees "not done" in Jira, but must not take it for a reopen.
    await pollsPass(2);
    expect(await stateOf('carol@example.com')).toBe('verified');
    expect(await syncs(carol)).toHaveLength(1); // nothing was undone (an undo would have written a new sync)

    // The thread was told: the issue, why in short, and that the verification stands. Once, and audited.
    const notice = (m: { kind: string; text: string }) => m.kind === 'announce' && m.text.startsWith('Jira could not follow');
    await t.until('the thread told', async () => t.app.chat.messages.some(notice));
    const told = t.app.chat.messages.filter(notice);
    expect(told).toHaveLength(1);
    expect(told[0]!.train).toBe(1);
    expect(told[0]!.text).toContain(`${carol} could not be moved to done (no transition to "Done" from "In Review")`);
    expect(told[0]!.text).toContain("Conductor keeps carol@example.com's verification");
    const audit = await t.db.prisma.auditEntry.findMany({ where: { action: 'ticket.sync_failed' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ externalKey: carol, done: true });

    // A person reopens it in Jira (explicit transition, webhook): that is applied, give-up or not.
    jira.setStatus(carol, 'To Do');
    const res = await hook(carol, 'To Do');
    expect(res.status).toBe(200);
    expect(await stateOf('carol@example.com')).toBe('pending');
    await t.until('the reopen told', async () => t.app.chat.messages.some((m) => m.text.includes(`reopened in the ticket ${carol}`)));
    // Its echo (Conductor's own reopen, mirrored to Jira) finds Jira already open: delivered, not given up.
    await t.until('the reopen sync delivered', async () => {
      const s = await syncs(carol);
      return s.length === 2 && s[1]!.doneAt !== null && s[1]!.lastError === null;
    });
    jira.expectNoUnexpectedCalls();
  }, 60_000);

  it('keeps a reopen Jira cannot follow out of Done: the poll does not verify it again', async () => {
    const dave = (await keyOf('dave@example.com'))!;
    // A person moves Dave's sub-task to Done in Jira (by hand: the workflow has no transition there).
    jira.setStatus(dave, 'Done');
    expect((await hook(dave, 'Done')).status).toBe(200);
    expect(await stateOf('dave@example.com')).toBe('verified');

    // Dave reopens in Conductor; Done has no way out in this workflow: the sync gives up.
    expect((await t.api('dave@example.com', 'reopen broken on staging')).ok).toBe(true);
    await t.until('the reopen sync gave up', async () => (await syncs(dave)).at(-1)?.lastError?.startsWith('gave up:'));
    expect(jira.issue(dave).status).toBe('Done');

    await pollsPass(2);
    expect(await stateOf('dave@example.com')).toBe('pending');
    const notice = (m: { text: string }) => m.text.startsWith(`Jira could not follow: ${dave}`);
    await t.until('the thread told', async () => t.app.chat.messages.some(notice));
    const told = t.app.chat.messages.filter(notice);
    expect(told).toHaveLength(1);
    expect(told[0]!.text).toContain('could not be reopened (no transition to an open status from "Done")');
    jira.expectNoUnexpectedCalls();
  }, 60_000);
});
