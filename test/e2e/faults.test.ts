import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/registrations.js';
import type { FakeBuild } from '../support/fake-jenkins.js';
import { CHANNEL, type IntegrationsApp, LINE, type Person, startIntegrationsApp } from '../support/integrations-app.js';

/**
 * Every integration on at once; one of them fails for a while, then recovers.
 * Nothing is lost and nothing is done twice. The trains run one after the other
 * (#1 … #4) on the same app; each is taken to production before the next.
 */
describe('end to end: faults in the integrations, then recovery', () => {
  let x: IntegrationsApp;
  beforeAll(async () => {
    x = await startIntegrationsApp('conductor-faults-');
  }, 60_000);
  afterAll(() => x?.stop());

  const AUTHORS: Person[] = ['carol', 'dave'];
  const buildOf = (job: string, n: number) => x.jenkins.builds.filter((b) => b.job === job && b.params.TRAIN === String(n));
  const waitBuild = (job: string, n: number, ms?: number): Promise<FakeBuild> => x.t.until(`${job} of train #${n}`, async () => buildOf(job, n)[0], ms);
  const pushTrain = async (n: number) => {
    const { shas, status } = await x.pushViaWebhook(AUTHORS.map((a) => [a, `${a} change for train ${n}`]));
    expect(status).toBe(200);
    const train = (await x.t.status(LINE)).train;
    expect(train).toMatchObject({ number: n, headSha: shas.at(-1) });
    return shas;
  };
  /** From a running build to production, through Slack buttons and Jenkins. */
  const deliverAndDeploy = async (n: number) => {
    const { t, jenkins } = x;
    const build = await waitBuild('web-build', n);
    jenkins.finish('web-build', build.number, 'SUCCESS');
    await t.until(`train #${n} verifying`, async () => (await t.status(LINE)).train.state === 'verifying');
    await t.until(`train #${n} Jira keys`, async () => {
      const rows = await t.db.prisma.ticket.findMany({ where: { train: { number: n } } });
      return rows.length === AUTHORS.length && rows.every((r) => r.externalKey);
    });
    for (const a of AUTHORS) expect((await x.click(a, ACTIONS.verify, n)).status).toBe(200);
    await t.until(`train #${n} deployable`, async () => (await t.status(LINE)).train.deployable === true);
    const engineer = x.personOf((await t.status(LINE)).train.engineer as string);
    expect((await x.click(engineer, ACTIONS.deploy, n)).status).toBe(200);
    const deploy = await waitBuild('web-deploy', n);
    await t.until(`train #${n} deploy running`, async () => (await t.status(LINE)).train.jobs.some((j: { kind: string; state: string }) => j.kind === 'deploy' && j.state === 'running'));
    jenkins.finish('web-deploy', deploy.number, 'SUCCESS');
    await t.until(`train #${n} deployed`, async () => (await t.status(LINE)).lastDeployed?.number === n);
  };
  const jiraIssuesOf = (n: number) => [...x.jira.issues.values()].filter((i) => i.labels.some((l) => l.endsWith(`-${n}`) && !l.startsWith('conductor-author-')));
  const cardPosts = (n: number) => x.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === CHANNEL && !c.args.thread_ts && String(c.args.text).startsWith(`Train #${n} `));
  const settled = () => x.t.until('outbox drained', async () => (await x.t.db.prisma.outboxItem.count({ where: { doneAt: null } })) === 0, 20_000);

  it('(a) Jenkins down when the build should start: the train exists at once, exactly one build once Jenkins is back', async () => {
    const { t, jenkins } = x;
    await jenkins.down();
    const t0 = performance.now();
    const shas = await pushTrain(1);
    expect(performance.now() - t0).toBeLessThan(5_000);
    // The start is attempted (and fails) while Jenkins refuses connections: no build, the job is still queued.
    await t.until('job.start attempted and failed', async () => t.db.prisma.outboxItem.findFirst({ where: { kind: 'job.start', doneAt: null, lastError: { not: null } } }));
    expect(jenkins.builds).toHaveLength(0);
    expect((await t.status(LINE)).train.jobs.find((j: { kind: string }) => j.kind === 'build')?.state).toBe('queued');

    await jenkins.up();
    const build = await waitBuild('web-build', 1);
    expect(build.params).toMatchObject({ TRAIN: '1', SHA: shas.at(-1) });
    await t.until('build running', async () => (await t.status(LINE)).train.jobs.some((j: { kind: string; state: string }) => j.kind === 'build' && j.state === 'running'));
    await deliverAndDeploy(1);
    await settled();
    expect(buildOf('web-build', 1)).toHaveLength(1);
    expect(jenkins.callsTo('POST', /\/job\/web-build\/buildWithParameters/)).toHaveLength(1);
    expect(buildOf('web-deploy', 1)).toHaveLength(1);
    expect(await t.db.prisma.job.count({ where: { train: { number: 1 } } })).toBe(2);
    jenkins.expectNoUnexpectedCalls();
  }, 45_000);

  it('(b) Jira answering 500 while the tickets are opened: one parent and one sub-task per author in the end', async () => {
    const { t, jira } = x;
    await pushTrain(2);
    // The failures start right after the parent issue is created: the open breaks half way.
    const j = jira as unknown as { createIssue: (res: unknown, body: unknown) => void };
    const create = j.createIssue.bind(jira);
    let armed = true;
    j.createIssue = (res, body) => {
      create(res, body);
      const f = (body as { fields?: { parent?: unknown } }).fields;
      if (armed && f && f.parent === undefined) {
        armed = false;
        jira.failNext(500, 3);
      }
    };
    try {
      await deliverAndDeploy(2);
    } finally {
      j.createIssue = create;
    }
    expect(armed).toBe(false);
    const open = await t.db.prisma.outboxItem.findFirstOrThrow({ where: { kind: 'tickets.open', payload: { path: ['train'], equals: 2 } } });
    expect(open.attempts).toBeGreaterThanOrEqual(2);
    const issues = jiraIssuesOf(2);
    const parents = issues.filter((i) => i.parent === null);
    expect(parents).toHaveLength(1);
    const subtasks = jira.subtasksOf(parents[0]!.key);
    expect(subtasks).toHaveLength(AUTHORS.length);
    expect(subtasks.map((s) => s.assignee).sort()).toEqual(['acc-carol', 'acc-dave']);
    expect(issues).toHaveLength(1 + AUTHORS.length);
    expect(subtasks.every((s) => s.status === 'Done')).toBe(true);
    const keys = (await t.db.prisma.ticket.findMany({ where: { train: { number: 2 } } })).map((r) => r.externalKey).sort();
    expect(keys).toEqual(subtasks.map((s) => s.key).sort());
    await settled();
    jira.expectNoUnexpectedCalls();
  }, 45_000);

  it('(c) Slack answering 429 on chat.update during the flow: the card is posted once and ends up right', async () => {
    const { slack } = x;
    const before = slack.callsTo('chat.update').length;
    slack.failNext('chat.update', { rateLimited: 1 }, 2);
    await pushTrain(3);
    await slack.waitFor(() => !!x.card(3), 10_000);
    await deliverAndDeploy(3);
    await settled();
    await slack.waitFor(() => (x.card(3)?.text ?? '').includes('deployed'), 10_000);
    const updates = slack.callsTo('chat.update').slice(before);
    expect(updates.filter((c) => c.injected === 'rateLimited 1')).toHaveLength(2);
    expect(updates.filter((c) => c.answer?.ok === true).length).toBeGreaterThan(0);
    expect(cardPosts(3)).toHaveLength(1);
    expect(slack.messages().filter((m) => m.channel === CHANNEL && !m.thread_ts && m.text.startsWith('Train #3 '))).toHaveLength(1);
    expect(JSON.stringify(x.card(3)!.blocks)).not.toContain(ACTIONS.deploy); // no Deploy button left on a deployed train
    slack.expectNoUnexpectedCalls();
  }, 45_000);

  it('(d) GitHub statuses answering 500 for a while: delivered afterwards, a stale retry never overwrites "deployed"', async () => {
    const { gh } = x;
    gh.failNext(500, 3);
    const shas = await pushTrain(4);
    // The "on train" statuses fail three times; the train is taken to production while they wait to be retried.
    await x.t.until('three statuses refused', async () => gh.statuses.filter((c) => c.injected === 500 && shas.includes(c.sha)).length === 3, 15_000);
    await deliverAndDeploy(4);
    await settled();
    // Each commit's last status is the newest: the late retry of "on train #4" does not overwrite "deployed".
    for (const sha of shas) {
      expect(x.finalStatusOf(sha)).toBe('success: deployed with train #4');
      expect(x.statusesOf(sha).filter((s) => s === 'success: deployed with train #4')).toHaveLength(1);
    }
    const onTrain = await x.t.db.prisma.outboxItem.findMany({ where: { kind: 'code.status', payload: { path: ['description'], equals: 'on train #4' } } });
    expect(onTrain).toHaveLength(1);
    expect(onTrain[0]!.attempts).toBeGreaterThanOrEqual(4); // three refusals, then closed
    expect(onTrain[0]!.doneAt).not.toBeNull();
    expect(gh.statuses.filter((c) => c.injected === 500)).toHaveLength(3);
    gh.expectNoUnexpectedCalls();
  }, 45_000);

  // Every fake is checked after each test and after the file for calls it does not understand (test/support/strict-fakes.ts).
});
