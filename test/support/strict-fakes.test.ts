// The after-each check of strict-fakes.ts can fail a test: it reports unexpected
// calls and unused expectations of every fake started, once each, and forgets
// closed fakes. The check is called directly here, so the real after-each
// hook (strict-fakes-setup.ts) finds nothing left to report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGithub, startFakeGithub } from './fake-github.js';
import { FakeJira } from './fake-jira.js';
import { startFakeSlack } from './fake-slack.js';
import { acknowledgeFakeProblems, checkStrictFakes, registeredStrictFakes } from './strict-fakes.js';

/** A call to a Slack method the fake does not implement: a violation. */
const unknownSlackMethod = (url: string) => fetch(`${url}conversations.kick`, { method: 'POST', headers: { authorization: 'Bearer xoxb-test' } });

describe('strict fakes: the after-each check', () => {
  it('reports an unexpected call to a fake started in the test, naming the fake and the call', async () => {
    const slack = await startFakeSlack();
    try {
      await unknownSlackMethod(slack.url);
      const problems = checkStrictFakes();
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^fake Slack:\n {2}1\. unexpected: conversations\.kick: unknown method/);
      // Reported once: the next check has nothing new.
      expect(checkStrictFakes()).toEqual([]);
    } finally {
      await slack.close();
    }
  });

  it('reports expectations declared and never used, once, for every kind of fake', async () => {
    const slack = await startFakeSlack();
    const jira = await FakeJira.start();
    try {
      slack.failNext('chat.postMessage', { status: 500 }, 2);
      jira.failOn('POST', /\/transitions$/, 500);
      jira.moveBeforeNextTransition('WEB-1', 'Done');
      const problems = checkStrictFakes().join('\n');
      expect(problems).toMatch(/fake Slack:\n.*declared but never used: failNext chat\.postMessage \{"status":500\} \(2 left\)/);
      expect(problems).toMatch(/fake Jira:\n.*declared but never used: failOn POST .*transitions.* → 500\n.*declared but never used: moveBeforeNextTransition WEB-1 → Done/);
      expect(checkStrictFakes()).toEqual([]);
    } finally {
      await slack.close();
      await jira.stop();
    }
  });

  it('a used expectation is not reported', async () => {
    const slack = await startFakeSlack();
    try {
      slack.failNext('auth.test', { ok: false, error: 'account_inactive' });
      const r = await fetch(`${slack.url}auth.test`, { method: 'POST', headers: { authorization: 'Bearer xoxb-test' } });
      expect(await r.json()).toMatchObject({ ok: false, error: 'account_inactive' });
      // A delay is a condition (Slack is slow for up to n calls), not an expectation: leftovers are not reported.
      slack.failNext('chat.update', { delayMs: 10 }, 3);
      expect(checkStrictFakes()).toEqual([]);
    } finally {
      await slack.close();
    }
  });

  it('forgets a closed fake after checking it once more', async () => {
    const before = registeredStrictFakes();
    const slack = await startFakeSlack();
    expect(registeredStrictFakes()).toBe(before + 1);
    await unknownSlackMethod(slack.url);
    await slack.close();
    expect(checkStrictFakes()).toEqual([expect.stringMatching(/conversations\.kick/)]);
    expect(registeredStrictFakes()).toBe(before);
  });

  it('acknowledged problems (provoked on purpose) are not reported', async () => {
    const slack = await startFakeSlack();
    try {
      await unknownSlackMethod(slack.url);
      slack.failNext('chat.update', { status: 503 });
      acknowledgeFakeProblems();
      expect(checkStrictFakes()).toEqual([]);
    } finally {
      await slack.close();
    }
  });
});

describe('strict fakes: a fake started in beforeAll', () => {
  let github: FakeGithub;
  beforeAll(async () => {
    github = await startFakeGithub({ token: 'ghp_good' });
  });
  afterAll(() => github.close());

  const unknownRoute = () => fetch(`${github.url}/repos/acme/web/commits`, { headers: { authorization: 'token ghp_good' } });

  it('answers in each test for the calls made since the previous check only', async () => {
    await unknownRoute();
    expect(checkStrictFakes()).toEqual([expect.stringMatching(/^fake GitHub:\n {2}1\. unexpected: unexpected GET \/repos\/acme\/web\/commits$/)]);
    await unknownRoute();
    github.failNext(502);
    const again = checkStrictFakes();
    // The second call only, numbered 1 again, and the unused failNext.
    expect(again).toEqual([expect.stringMatching(/^fake GitHub:\n {2}1\. unexpected: unexpected GET \S+\n {2}2\. declared but never used: failNext 502$/)]);
  });

  it('is still checked in the next test, which starts clean', async () => {
    expect(checkStrictFakes()).toEqual([]);
    await unknownRoute();
    expect(checkStrictFakes()).toHaveLength(1);
  });
});
