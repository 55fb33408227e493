import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ticket, Train } from '../../../src/domain/index.js';
import { PermanentEffectError, RetryLaterError } from '../../../src/engine/outbox.js';
import { plainText } from '../../../src/integrations/jira/adf.js';
import { createJiraDesk, type JiraDesk, type JiraDeskOptions, MAX_WALK, PermanentJiraError, RetryableJiraError, trainLabel } from '../../../src/integrations/jira/jira-desk.js';
import { ALICE, aCommit, BOB, CAROL } from '../../support/domain-builders.js';
import { FakeJira, type FakeJiraOptions, type FakeStatus, type FakeTransition } from '../../support/fake-jira.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const fakes: FakeJira[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.stop();
});

async function setup(opts: FakeJiraOptions = {}, desk: Partial<JiraDeskOptions> = {}): Promise<{ fake: FakeJira; desk: JiraDesk }> {
  const fake = await FakeJira.start({
    users: [
      { accountId: 'acc-alice', email: ALICE, displayName: 'Alice Liddell' },
      { accountId: 'acc-bob', email: BOB, displayName: 'Bob Builder', emailVisible: false },
    ],
    ...opts,
  });
  fakes.push(fake);
  return {
    fake,
    desk: createJiraDesk({ url: fake.url, email: fake.email, apiToken: fake.token, project: 'WEB', doneStatus: 'Done', log, timeoutMs: 5000, ...desk }),
  };
}

function ticket(email: string, shas: string[], extra: Partial<Ticket> = {}): Ticket {
  const c = aCommit('x', email);
  return {
    authorEmail: email,
    authorName: c.authorName,
    state: 'pending',
    commitShas: shas.map((s) => aCommit(s, email).sha),
    verifiedBy: null,
    verifiedAt: null,
    requestedAt: new Date(),
    remindedAt: null,
    externalKey: null,
    externalUrl: null,
    createdAt: new Date(),
    ...extra,
  };
}

function aTrain(number: number, tickets: Ticket[]): Train {
  const commits = [
    aCommit('a1', ALICE, 'Add the login page\n\nLong body that must not show'),
    aCommit('a2', ALICE, 'Fix the logout button'),
    aCommit('b1', BOB, 'Speed up search'),
    aCommit('c1', CAROL, 'Update copy'),
  ];
  return {
    number,
    state: 'verifying',
    headSha: commits.at(-1)!.sha,
    baseSha: 'base'.padEnd(40, '0'),
    engineer: ALICE,
    blocked: null,
    derailReason: null,
    replaces: null,
    createdBy: 'conductor',
    createdAt: new Date(),
    deliveredAt: new Date(),
    verifiedAt: null,
    deployStartedAt: null,
    deployedAt: null,
    derailedAt: null,
    commits,
    tickets,
    jobs: [],
    health: null,
    bisect: null,
  };
}

const standardTickets = (): Ticket[] => [ticket(ALICE, ['a1', 'a2']), ticket(BOB, ['b1']), ticket(CAROL, ['c1'])];

describe('JiraDesk.open', () => {
  it('creates the train issue and one sub-task per ticket, assigned by email, listing the commits', async () => {
    const { fake, desk } = await setup();
    const opened = await desk.open({ line: 'web', train: aTrain(7, standardTickets()), key: 'k1' });

    const parent = [...fake.issues.values()].find((i) => i.parent === null)!;
    expect(parent.summary).toBe('Train #7 (web)');
    expect(parent.type).toBe('Task');
    expect(parent.labels).toEqual(['conductor', trainLabel('web', 7)]);
    const subs = fake.subtasksOf(parent.key);
    expect(subs).toHaveLength(3);
    expect(subs.every((s) => s.type === 'Sub-task' && s.labels.includes('conductor') && s.labels.includes('conductor-web-train-7'))).toBe(true);

    expect(opened.map((o) => o.authorEmail)).toEqual([ALICE, BOB, CAROL]);
    for (const o of opened) {
      expect(o.externalUrl).toBe(`${fake.url}/browse/${o.externalKey}`);
      expect(fake.issue(o.externalKey).parent).toBe(parent.key);
    }
    const [alice, bob, carol] = opened.map((o) => fake.issue(o.externalKey));
    expect(alice!.summary).toBe("Verify Alice's changes on train #7");
    expect(alice!.assignee).toBe('acc-alice');
    const aliceText = plainText(alice!.description);
    expect(aliceText).toContain(`${aCommit('a1', ALICE).sha.slice(0, 10)} Add the login page`);
    expect(aliceText).toContain('Fix the logout button');
    expect(aliceText).not.toContain('Long body');
    expect(aliceText).not.toContain('Speed up search');
    // Bob's email is private in Jira: the single hit of the email query is him.
    expect(bob!.assignee).toBe('acc-bob');
    // Carol has no Jira account: unassigned, with her email in the description.
    expect(carol!.assignee).toBeNull();
    expect(plainText(carol!.description)).toContain(`No Jira account was found for ${CAROL}`);
    expect(plainText(carol!.description)).toContain('Update copy');
    expect(fake.callsTo('POST', /\/issue$/)).toHaveLength(4);
    fake.expectNoUnexpectedCalls();
  });

  it('is idempotent: a second open of the same train creates nothing new', async () => {
    const { fake, desk } = await setup();
    const train = aTrain(3, standardTickets());
    const first = await desk.open({ line: 'web', train, key: 'k' });
    const second = await desk.open({ line: 'web', train, key: 'k' });
    expect(second).toEqual(first);
    expect(fake.issues.size).toBe(4);

    // Another process (no memory of the first run) finds them by label too.
    const other = createJiraDesk({ url: fake.url, email: fake.email, apiToken: fake.token, project: 'WEB', doneStatus: 'Done', log });
    expect(await other.open({ line: 'web', train, key: 'k' })).toEqual(first);
    expect(fake.issues.size).toBe(4);
    fake.expectNoUnexpectedCalls();
  });

  it('after a partial failure, a retry reuses the parent and creates only the missing sub-tasks', async () => {
    const { fake, desk } = await setup();
    const train = aTrain(4, standardTickets());
    // An earlier attempt got as far as the parent and Alice's sub-task.
    await desk.open({ line: 'web', train: aTrain(4, [ticket(ALICE, ['a1', 'a2'])]), key: 'k' });
    expect(fake.issues.size).toBe(2);
    // Another process retries (no memory of that attempt); Jira answers 503 once.
    const other = createJiraDesk({ url: fake.url, email: fake.email, apiToken: fake.token, project: 'WEB', doneStatus: 'Done', log });
    fake.failNext(503);
    await expect(other.open({ line: 'web', train, key: 'k' })).rejects.toBeInstanceOf(RetryableJiraError);
    const opened = await other.open({ line: 'web', train, key: 'k' });
    expect(opened.map((o) => o.externalKey)).toEqual(['WEB-2', 'WEB-3', 'WEB-4']);
    expect(fake.issues.size).toBe(4);
    expect([...fake.issues.values()].filter((i) => i.parent === null)).toHaveLength(1);
    fake.expectNoUnexpectedCalls();
  });

  it('links a carried ticket (with an external key) to the new train instead of recreating it', async () => {
    const { fake, desk } = await setup();
    const [alice] = await desk.open({ line: 'web', train: aTrain(1, [ticket(ALICE, ['a1', 'a2'])]), key: 'k1' });
    const before = fake.issues.size;

    const carried = ticket(ALICE, ['a1', 'a2'], { externalKey: alice!.externalKey, externalUrl: alice!.externalUrl, state: 'verified' });
    const train2 = aTrain(2, [carried, ticket(BOB, ['b1'])]);
    const opened = await desk.open({ line: 'web', train: train2, key: 'k2' });
    expect(opened[0]).toEqual({ authorEmail: ALICE, externalKey: alice!.externalKey, externalUrl: alice!.externalUrl });
    expect(fake.issues.size).toBe(before + 2); // the new parent and Bob's sub-task only
    const parent2 = [...fake.issues.values()].find((i) => i.summary === 'Train #2 (web)')!;
    expect(parent2.links).toEqual([{ type: 'Relates', inward: alice!.externalKey, outward: parent2.key }]);
    expect(fake.issue(alice!.externalKey).parent).not.toBe(parent2.key);

    // Again: the link exists already, nothing more is sent.
    await desk.open({ line: 'web', train: train2, key: 'k2' });
    expect(fake.callsTo('POST', /\/issueLink$/)).toHaveLength(1);
    fake.expectNoUnexpectedCalls();
  });

  it('only opens: a ticket verified before its sub-task existed is moved to Done later, by the ticket.sync the caller queues', async () => {
    const { fake, desk } = await setup();
    const opened = await desk.open({ line: 'web', train: aTrain(5, [ticket(ALICE, ['a1'], { state: 'verified' }), ticket(BOB, ['b1'])]), key: 'k' });
    expect(fake.issue(opened[0]!.externalKey).status).toBe('To Do');
    expect(fake.callsTo('POST', /\/transitions$/)).toHaveLength(0);
    await desk.setDone(opened[0]!.externalKey, true);
    expect(fake.issue(opened[0]!.externalKey).status).toBe('Done');
  });

  it('creates the sub-task unassigned when Jira refuses the assignee', async () => {
    const { fake, desk } = await setup({ users: [{ accountId: 'acc-alice', email: ALICE, displayName: 'Alice', assignable: false }] });
    const [o] = await desk.open({ line: 'web', train: aTrain(6, [ticket(ALICE, ['a1'])]), key: 'k' });
    expect(fake.issue(o!.externalKey).assignee).toBeNull();
    expect(plainText(fake.issue(o!.externalKey).description)).toContain(`No Jira account was found for ${ALICE}`);
  });

  it('a 5xx or a network failure throws a retryable error; a 400 on create throws PermanentJiraError', async () => {
    const { fake, desk } = await setup();
    const train = aTrain(8, standardTickets());
    fake.failNext(500);
    const e500 = await desk.open({ line: 'web', train, key: 'k' }).catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(RetryableJiraError);
    expect(e500).not.toBeInstanceOf(PermanentEffectError);

    const bad = createJiraDesk({ url: fake.url, email: fake.email, apiToken: fake.token, project: 'WEB', doneStatus: 'Done', log, subtaskType: 'Nope' });
    const e400 = await bad.open({ line: 'web', train, key: 'k' }).catch((e: unknown) => e);
    expect(e400).toBeInstanceOf(PermanentJiraError);
    expect(e400).toBeInstanceOf(PermanentEffectError); // the outbox closes the item
    expect((e400 as PermanentJiraError).status).toBe(400);
    expect((e400 as Error).message).toMatch(/issuetype/);

    fake.failNext(429);
    const e429 = await desk.open({ line: 'web', train, key: 'k' }).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(RetryLaterError);

    const down = createJiraDesk({ url: 'http://127.0.0.1:1', email: 'x', apiToken: 'y', project: 'WEB', doneStatus: 'Done', log });
    expect(await down.states(['WEB-1']).catch((e: unknown) => e)).toBeInstanceOf(RetryableJiraError);
  });

  it('a wrong token is retried (401), not given up', async () => {
    const { fake } = await setup();
    const desk = createJiraDesk({ url: fake.url, email: fake.email, apiToken: 'wrong', project: 'WEB', doneStatus: 'Done', log });
    expect(await desk.open({ line: 'web', train: aTrain(9, standardTickets()), key: 'k' }).catch((e: unknown) => e)).toBeInstanceOf(RetryableJiraError);
    expect(fake.issues.size).toBe(0);
  });
});

describe('JiraDesk.setDone and states', () => {
  async function opened(opts: FakeJiraOptions = {}, desk: Partial<JiraDeskOptions> = {}) {
    const h = await setup(opts, desk);
    const tickets = await h.desk.open({ line: 'web', train: aTrain(1, [ticket(ALICE, ['a1']), ticket(BOB, ['b1'])]), key: 'k' });
    return { ...h, a: tickets[0]!.externalKey, b: tickets[1]!.externalKey };
  }

  it('setDone(true) picks the transition by its target status, whatever its name', async () => {
    const { fake, desk, a } = await opened();
    await desk.setDone(a, true);
    expect(fake.issue(a).status).toBe('Done');
    const posted = fake.callsTo('POST', new RegExp(`/issue/${a}/transitions$`));
    expect(posted.map((c) => c.body)).toEqual([{ transition: { id: '31' } }]); // "Ship it" → Done
    // Already done: no transition.
    await desk.setDone(a, true);
    expect(fake.callsTo('POST', /\/transitions$/)).toHaveLength(1);
    expect(fake.callsTo('GET', /\/transitions$/)).toHaveLength(1);
    fake.expectNoUnexpectedCalls();
  });

  it('compares the done status case-insensitively', async () => {
    const { fake, desk, a } = await opened(
      {
        statuses: [
          { name: 'Open', category: 'new' },
          { name: 'VERIFIED', category: 'done' },
        ],
        transitions: [
          { id: '5', name: 'Approve', to: 'VERIFIED' },
          { id: '6', name: 'Reject', to: 'Open' },
        ],
      },
      { doneStatus: 'Verified' },
    );
    await desk.setDone(a, true);
    expect(fake.issue(a).status).toBe('VERIFIED');
    expect(await desk.states([a])).toEqual([{ key: a, done: true }]);
    await desk.setDone(a, false);
    expect(fake.issue(a).status).toBe('Open');
  });

  it('setDone(false) reopens, preferring To Do, and is a no-op when not done', async () => {
    const { fake, desk, a } = await opened();
    await desk.setDone(a, false);
    expect(fake.callsTo('POST', /\/transitions$/)).toHaveLength(0);
    fake.setStatus(a, 'Done');
    await desk.setDone(a, false);
    expect(fake.issue(a).status).toBe('To Do');
  });

  it('setDone(false) falls back to another open status when there is no To Do', async () => {
    const { fake, desk, a } = await opened({
      transitions: [
        { id: '7', name: 'Ship it', to: 'Done' },
        { id: '8', name: 'Rework', to: 'In Progress' },
      ],
    });
    fake.setStatus(a, 'Done');
    await desk.setDone(a, false);
    expect(fake.issue(a).status).toBe('In Progress');
  });

  it('without a way to the done status, says so permanently, naming the steps it could take', async () => {
    const { fake, desk, a } = await opened({ transitions: [{ id: '8', name: 'Rework', to: 'In Progress' }] });
    const err = await desk.setDone(a, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJiraError);
    // In Progress might have led to Done (Jira shows only the current status's transitions): the walk tried it.
    expect((err as Error).message).toBe(`${a} (status In Progress) has no transition to "Done"; available: none; moved so far: "Rework" → In Progress`);
    expect(fake.issue(a).status).toBe('In Progress');
    expect(fake.callsTo('POST', /\/transitions$/)).toHaveLength(1);
    fake.expectNoUnexpectedCalls();
  });

  it('setDone on an unknown issue is permanent (404); a 5xx is retryable', async () => {
    const { fake, desk, a } = await opened();
    expect(await desk.setDone('WEB-999', true).catch((e: unknown) => e)).toBeInstanceOf(PermanentJiraError);
    fake.failNext(502);
    expect(await desk.setDone(a, true).catch((e: unknown) => e)).toBeInstanceOf(RetryableJiraError);
    expect(fake.issue(a).status).toBe('To Do');
  });

  it('states() reports done and not done with one search', async () => {
    const { fake, desk, a, b } = await opened();
    fake.setStatus(a, 'Done');
    fake.setStatus(b, 'In Progress');
    const before = fake.callsTo('POST', /\/search\/jql$/).length;
    expect(await desk.states([a, b])).toEqual([
      { key: a, done: true },
      { key: b, done: false },
    ]);
    const searches = fake.callsTo('POST', /\/search\/jql$/).slice(before);
    expect(searches).toHaveLength(1);
    expect(searches[0]!.body).toMatchObject({ jql: `key in (${a}, ${b})`, fields: ['status'] });
    expect(await desk.states([])).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });

  it('states() survives a deleted issue: it reads the keys one by one and skips the missing one', async () => {
    const { fake, desk, a, b } = await opened();
    fake.setStatus(b, 'Done');
    fake.issues.delete(a);
    expect(await desk.states([a, b])).toEqual([{ key: b, done: true }]);
  });

  it('states() pages through large key lists', async () => {
    const { fake, desk } = await setup();
    const tickets = Array.from({ length: 120 }, (_, i) => ticket(`dev${i}@acme.test`, []));
    const opened = await desk.open({ line: 'web', train: aTrain(1, tickets), key: 'k' });
    fake.setStatus(opened[119]!.externalKey, 'Done');
    const states = await desk.states(opened.map((o) => o.externalKey));
    expect(states).toHaveLength(120);
    expect(states.filter((s) => s.done).map((s) => s.key)).toEqual([opened[119]!.externalKey]);
    // A retry of open pages through the 121 issues of the train label.
    expect(await desk.open({ line: 'web', train: aTrain(1, tickets), key: 'k' })).toEqual(opened);
    expect(fake.issues.size).toBe(121);
  });
});

describe('JiraDesk.setDone walks the workflow', () => {
  const STATUSES: FakeStatus[] = [
    { name: 'To Do', category: 'new' },
    { name: 'In Progress', category: 'indeterminate' },
    { name: 'In Review', category: 'indeterminate' },
    { name: 'Done', category: 'done' },
    { name: "Won't Do", category: 'done' },
    { name: 'Closed', category: 'done' },
    { name: 'Reopened', category: 'new' },
  ];
  const T = {
    start: { id: '21', name: 'Start work', to: 'In Progress' },
    review: { id: '41', name: 'Ask for review', to: 'In Review' },
    ship: { id: '31', name: 'Ship it', to: 'Done' },
    stop: { id: '11', name: 'Stop work', to: 'To Do' },
    rework: { id: '51', name: 'Rework', to: 'In Progress' },
    cancel: { id: '61', name: 'Cancel', to: "Won't Do" },
    close: { id: '71', name: 'Close', to: 'Closed' },
    reopen: { id: '81', name: 'Reopen', to: 'Reopened' },
  } satisfies Record<string, FakeTransition>;

  /** One sub-task (Alice's), created in To Do, under `workflow`; every log line of the desk is kept. */
  async function walking(workflow: Record<string, FakeTransition[]>) {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const h = await setup({ statuses: STATUSES, workflow }, { log: logger });
    const [t] = await h.desk.open({ line: 'web', train: aTrain(1, [ticket(ALICE, ['a1'])]), key: 'k' });
    const posted = () => h.fake.callsTo('POST', new RegExp(`/issue/${t!.externalKey}/transitions$`)).map((c) => (c.body as { transition: { id: string } }).transition.id);
    return { ...h, a: t!.externalKey, lines, posted };
  }

  it('walks through an in-progress status to Done, never through another done status, logging each step', async () => {
    const h = await walking({
      'To Do': [T.cancel, T.start],
      'In Progress': [T.stop, T.ship],
      Done: [T.rework],
    });
    await h.desk.setDone(h.a, true);
    expect(h.fake.issue(h.a).status).toBe('Done');
    expect(h.posted()).toEqual(['21', '31']); // not "Cancel" → Won't Do, although it is listed first and in the done category
    // A fresh list of transitions at each step: they depend on the status.
    expect(h.fake.callsTo('GET', /\/transitions$/)).toHaveLength(2);
    const moves = h.lines.filter((l) => l.msg === 'jira issue moved');
    expect(moves).toMatchObject([
      { key: h.a, step: 1, from: 'To Do', to: 'In Progress', transition: 'Start work', wantDone: true },
      { key: h.a, step: 2, from: 'In Progress', to: 'Done', transition: 'Ship it', wantDone: true },
    ]);
    h.fake.expectNoUnexpectedCalls();
  });

  it('reopens through an intermediate status when Done only leads to another done status', async () => {
    const h = await walking({
      'To Do': [T.start],
      'In Progress': [T.ship],
      Done: [T.close],
      // Back to Done is a cycle; Reopened (an open status like a new issue's) beats In Progress.
      Closed: [{ id: '91', name: 'Undo close', to: 'Done' }, T.rework, T.reopen],
      Reopened: [T.start],
    });
    h.fake.setStatus(h.a, 'Done');
    await h.desk.setDone(h.a, false);
    expect(h.fake.issue(h.a).status).toBe('Reopened');
    expect(h.posted()).toEqual(['71', '81']);
    // Open now: nothing more to do.
    await h.desk.setDone(h.a, false);
    expect(h.posted()).toHaveLength(2);

    // Out of Done in one step, the new-category status is preferred to an in-progress one.
    h.fake.workflow!.Done = [T.rework, T.reopen];
    h.fake.setStatus(h.a, 'Done');
    await h.desk.setDone(h.a, false);
    expect(h.fake.issue(h.a).status).toBe('Reopened');
    expect(h.posted()).toEqual(['71', '81', '81']);
    h.fake.expectNoUnexpectedCalls();
  });

  it('a retry after a walk broke half way continues from where the issue is, with no extra transition', async () => {
    const h = await walking({
      'To Do': [T.start],
      'In Progress': [T.stop, T.review],
      'In Review': [T.rework, T.ship],
    });
    h.fake.failOn('POST', /\/transitions$/, 500, { skip: 1 }); // the second transition
    const err = await h.desk.setDone(h.a, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableJiraError);
    expect(h.fake.issue(h.a).status).toBe('In Progress');

    // The outbox retries (here with a fresh desk: nothing is remembered in memory). From In Progress, back to
    // To Do would be new to this walk too: the in-progress status is preferred.
    const retry = createJiraDesk({ url: h.fake.url, email: h.fake.email, apiToken: h.fake.token, project: 'WEB', doneStatus: 'Done', log });
    await retry.setDone(h.a, true);
    expect(h.fake.issue(h.a).status).toBe('Done');
    expect(h.posted()).toEqual(['21', '41', '41', '31']); // the failed one, then only the two still needed
    await retry.setDone(h.a, true);
    expect(h.posted()).toHaveLength(4);

    // Jira made the last transition but the answer was lost: the retry finds the issue done and sends nothing.
    h.fake.setStatus(h.a, 'In Review');
    h.fake.failOn('POST', /\/transitions$/, 500);
    await expect(h.desk.setDone(h.a, true)).rejects.toBeInstanceOf(RetryableJiraError);
    h.fake.setStatus(h.a, 'Done');
    const before = h.fake.calls.length;
    await h.desk.setDone(h.a, true);
    expect(h.fake.calls.slice(before).map((c) => `${c.method} ${c.path}`)).toEqual([`GET /rest/api/3/issue/${h.a}`]);
    h.fake.expectNoUnexpectedCalls();
  });

  it('with no way forward, says so permanently and moves nothing', async () => {
    const h = await walking({ 'To Do': [T.cancel], Done: [] });
    const err = await h.desk.setDone(h.a, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJiraError);
    expect((err as Error).message).toBe(`${h.a} (status To Do) has no transition to "Done"; available: "Cancel" → Won't Do`);
    expect((err as PermanentJiraError).summary).toBe('no transition to "Done" from "To Do"'); // what the channel is told
    expect(h.fake.issue(h.a).status).toBe('To Do');

    h.fake.setStatus(h.a, 'Done');
    const reopen = await h.desk.setDone(h.a, false).catch((e: unknown) => e);
    expect(reopen).toBeInstanceOf(PermanentJiraError);
    expect((reopen as Error).message).toBe(`${h.a} (status Done) has no transition out of "Done" to an open status; available: none`);
    expect((reopen as PermanentJiraError).summary).toBe('no transition to an open status from "Done"');
    expect(h.posted()).toEqual([]);
    h.fake.expectNoUnexpectedCalls();
  });

  it('never goes round in circles: a workflow without Done ends after visiting each status once', async () => {
    const h = await walking({
      'To Do': [T.start],
      'In Progress': [T.stop, T.review],
      'In Review': [T.stop, T.rework],
    });
    const err = await h.desk.setDone(h.a, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJiraError);
    expect((err as Error).message).toBe(
      `${h.a} (status In Review) has no transition to "Done"; available: "Stop work" → To Do, "Rework" → In Progress; ` +
        'moved so far: "Start work" → In Progress, "Ask for review" → In Review',
    );
    expect(h.posted()).toEqual(['21', '41']);
    h.fake.expectNoUnexpectedCalls();
  });

  it(`takes at most ${MAX_WALK} transitions`, async () => {
    const chain = ['S1', 'S2', 'S3', 'S4', 'S5'];
    const statuses: FakeStatus[] = [{ name: 'To Do', category: 'new' }, ...chain.map((name) => ({ name, category: 'indeterminate' as const })), { name: 'Done', category: 'done' }];
    const workflow: Record<string, FakeTransition[]> = { 'To Do': [{ id: '1', name: 'Go S1', to: 'S1' }] };
    chain.forEach((s, i) => (workflow[s] = [{ id: String(i + 2), name: `Go ${chain[i + 1] ?? 'Done'}`, to: chain[i + 1] ?? 'Done' }]));
    const { fake, desk } = await setup({ statuses, workflow });
    const [t] = await desk.open({ line: 'web', train: aTrain(1, [ticket(ALICE, ['a1'])]), key: 'k' });
    const err = await desk.setDone(t!.externalKey, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJiraError);
    expect((err as Error).message).toMatch(new RegExp(`\\(status S4\\) is not "Done" after ${MAX_WALK} transitions; available: "Go S5" → S5; moved so far: "Go S1" → S1, `));
    expect((err as PermanentJiraError).summary).toBe(`still "S4" after ${MAX_WALK} transitions`);
    expect(fake.callsTo('POST', /\/transitions$/)).toHaveLength(MAX_WALK);
    fake.expectNoUnexpectedCalls();
  });

  it('a transition refused because someone moved the issue meanwhile: the walk goes on from the new status', async () => {
    const h = await walking({
      'To Do': [T.start],
      'In Progress': [T.stop, T.review],
      'In Review': [T.rework, T.ship],
    });
    // Between the desk listing To Do's transitions and posting "Start work", a person moves the issue on.
    h.fake.moveBeforeNextTransition(h.a, 'In Review');
    await h.desk.setDone(h.a, true);
    expect(h.fake.issue(h.a).status).toBe('Done');
    expect(h.posted()).toEqual(['21', '31']); // the refused one, then the one In Review offers
    expect(h.lines.filter((l) => l.msg === 'jira issue moved')).toMatchObject([{ step: 2, from: 'In Review', to: 'Done' }]);
    expect(h.lines.find((l) => /moved meanwhile/.test(String(l.msg)))).toMatchObject({ step: 1, from: 'To Do', to: 'In Progress', movedTo: 'In Review' });
    h.fake.expectNoUnexpectedCalls();
  });

  it('a refused transition after someone moved the issue where it was going: done, nothing more sent', async () => {
    const h = await walking({ 'To Do': [T.start], 'In Progress': [T.ship], Done: [T.close], Closed: [T.reopen] });
    h.fake.moveBeforeNextTransition(h.a, 'Done');
    await h.desk.setDone(h.a, true);
    expect(h.fake.issue(h.a).status).toBe('Done');
    expect(h.posted()).toEqual(['21']);
    // Reopening: someone reopened it meanwhile.
    h.fake.moveBeforeNextTransition(h.a, 'To Do');
    await h.desk.setDone(h.a, false);
    expect(h.fake.issue(h.a).status).toBe('To Do');
    expect(h.posted()).toEqual(['21', '71']);
    h.fake.expectNoUnexpectedCalls();
  });

  it('a 400 with the issue where it was stays a permanent refusal, after one more read', async () => {
    const h = await walking({ 'To Do': [T.start], 'In Progress': [T.ship] });
    h.fake.failOn('POST', /\/transitions$/, 400);
    const before = h.fake.calls.length;
    const err = await h.desk.setDone(h.a, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJiraError);
    expect((err as PermanentJiraError).status).toBe(400);
    expect(h.fake.issue(h.a).status).toBe('To Do');
    expect(h.fake.calls.slice(before).map((c) => `${c.method} ${c.path.replace(h.a, 'KEY')}`)).toEqual([
      'GET /rest/api/3/issue/KEY',
      'GET /rest/api/3/issue/KEY/transitions',
      'POST /rest/api/3/issue/KEY/transitions',
      'GET /rest/api/3/issue/KEY',
    ]);
    h.fake.expectNoUnexpectedCalls();
  });

  it(`a refused transition counts toward the ${MAX_WALK} steps`, async () => {
    const go = (id: string, to: string): FakeTransition => ({ id, name: `Go ${to}`, to });
    const { fake, desk } = await setup({
      statuses: [
        { name: 'To Do', category: 'new' },
        { name: 'Parked', category: 'indeterminate' },
        ...['S1', 'S2', 'S3'].map((name) => ({ name, category: 'indeterminate' as const })),
        { name: 'Done', category: 'done' },
      ],
      workflow: { 'To Do': [go('1', 'S1')], Parked: [go('2', 'S1')], S1: [go('3', 'S2')], S2: [go('4', 'S3')], S3: [go('5', 'Done')] },
    });
    const [t] = await desk.open({ line: 'web', train: aTrain(1, [ticket(ALICE, ['a1'])]), key: 'k' });
    const key = t!.externalKey;
    // Parked → S1 → S2 → S3 → Done would be 4 transitions: with the refused one, one too many.
    fake.moveBeforeNextTransition(key, 'Parked');
    const err = await desk.setDone(key, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJiraError);
    expect((err as Error).message).toBe(
      `${key} (status S3) is not "Done" after ${MAX_WALK} transitions; available: "Go Done" → Done; moved so far: "Go S1" → S1, "Go S2" → S2, "Go S3" → S3`,
    );
    expect(fake.callsTo('POST', /\/transitions$/)).toHaveLength(MAX_WALK);
    fake.expectNoUnexpectedCalls();
  });

  it('the fake refuses a workflow naming an unknown status', async () => {
    await expect(FakeJira.start({ statuses: STATUSES, workflow: { 'To Do': [{ id: '1', name: 'Go', to: 'Nowhere' }] } })).rejects.toThrow(/"Nowhere"/);
  });
});
