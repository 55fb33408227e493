import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ticket, Train } from '../../../src/domain/index.js';
import { PermanentEffectError, RetryLaterError } from '../../../src/engine/outbox.js';
import { plainText } from '../../../src/integrations/jira/adf.js';
import {
  PermanentJiraError,
  RetryableJiraError,
  createJiraDesk,
  trainLabel,
  type JiraDesk,
  type JiraDeskOptions,
} from '../../../src/integrations/jira/jira-desk.js';
import { ALICE, BOB, CAROL, aCommit } from '../../support/domain-builders.js';
import { FakeJira, type FakeJiraOptions } from '../../support/fake-jira.js';

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

  it('moves the sub-task of a ticket verified in Slack before it was opened to Done', async () => {
    const { fake, desk } = await setup();
    const opened = await desk.open({ line: 'web', train: aTrain(5, [ticket(ALICE, ['a1'], { state: 'verified' }), ticket(BOB, ['b1'])]), key: 'k' });
    expect(fake.issue(opened[0]!.externalKey).status).toBe('Done');
    expect(fake.issue(opened[1]!.externalKey).status).toBe('To Do');
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
      { statuses: [{ name: 'Open', category: 'new' }, { name: 'VERIFIED', category: 'done' }], transitions: [{ id: '5', name: 'Approve', to: 'VERIFIED' }, { id: '6', name: 'Reject', to: 'Open' }] },
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

  it('without a transition to the done status, says so permanently', async () => {
    const { desk, a } = await opened({ transitions: [{ id: '8', name: 'Rework', to: 'In Progress' }] });
    const err = await desk.setDone(a, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJiraError);
    expect((err as Error).message).toMatch(/no transition to "Done".*"Rework" → In Progress/);
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
