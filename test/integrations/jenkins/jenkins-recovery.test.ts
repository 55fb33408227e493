import { afterEach, describe, expect, it } from 'vitest';
import type { RunningJob, StopHint } from '../../../src/engine/ports/build-runner.js';
import type { JenkinsRunnerOptions } from '../../../src/integrations/jenkins/jenkins-runner.js';
import { FakeJenkins } from '../../support/fake-jenkins.js';
import { JENKINS_JOBS, jenkinsRunnerOn, jobRequest, type RunnerUnderTest } from '../../support/jenkins-runner.js';

/**
 * What survives a Conductor restart and a lost trigger response: the runner
 * of a new process resumes the builds its predecessor started, and a retried
 * start adopts what the lost trigger queued instead of running the job twice.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeJenkins(): Promise<FakeJenkins> {
  const fake = await FakeJenkins.start({ jobs: Object.values(JENKINS_JOBS) });
  cleanups.push(() => fake.close());
  return fake;
}

/** One Conductor process's runner, closed after the test. */
function conductor(fake: FakeJenkins, extra: Partial<JenkinsRunnerOptions> = {}): RunnerUnderTest {
  const p = jenkinsRunnerOn(fake, extra);
  cleanups.push(() => p.runner.close());
  return p;
}

/** What the database holds for a started job, as app.ts hands it over at start-up. */
function row(jobId: number, handle: { externalId: string; url: string | null }, over: Partial<RunningJob> = {}): RunningJob {
  const startedAt = new Date(Date.now() - 60_000);
  return { jobId, kind: 'build', ...handle, startedAt, timeoutAt: new Date(startedAt.getTime() + 30 * 60_000), ...over };
}

/** What deliver.ts hands to `stop`: the job as the database records it (`jobRequest`'s defaults). */
function known(_jobId: number, externalId: string | null, over: Partial<StopHint> = {}): StopHint {
  return { kind: 'build', line: 'web', train: 42, sha: 'a'.repeat(40), conductorUrl: 'https://conductor.example.com', externalId, ...over };
}

/** Triggers a job the way another client (or another Conductor) would. */
async function triggerByHand(fake: FakeJenkins, path: string, params: Record<string, string>): Promise<void> {
  const res = await fetch(`${fake.url}${path}/buildWithParameters`, {
    method: 'POST',
    headers: { authorization: 'Basic ' + Buffer.from(`${fake.user}:${fake.token}`).toString('base64') },
    body: new URLSearchParams(params),
  });
  expect(res.status).toBe(201);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const triggers = (fake: FakeJenkins) => fake.callsTo('POST', /buildWithParameters$/).length;

describe('jenkins runner: resume after a restart', () => {
  it('a new runner resumes a running build and reports its result once, by polling', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    const handle = await before.runner.start(jobRequest(1));
    await before.runner.close(); // the process stops; the build runs on
    const after = conductor(fake);
    await after.runner.resume([row(1, handle)]);
    await after.runner.resume([row(1, handle)]); // twice: still one follower
    await sleep(150);
    expect(after.results).toEqual([]);
    fake.finish('web/build', 1, 'SUCCESS', 'deployed nothing\n');
    const r = await after.result(1);
    expect(r).toMatchObject({ jobId: 1, succeeded: true, timedOut: false });
    expect(r.output.split('\n')[0]).toBe(`Jenkins SUCCESS: ${handle.url}`);
    await sleep(200);
    expect(after.results).toHaveLength(1);
    expect(before.results).toEqual([]);
    expect(fake.builds).toHaveLength(1);
    expect(await after.runner.handleCallback({ jobId: 1, result: 'SUCCESS' })).toBe('finished');
    fake.expectNoUnexpectedCalls();
  });

  it('a callback for a resumed build is accepted (before resuming it is unknown), and polling does not report it again', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    const handle = await before.runner.start(jobRequest(2));
    await before.runner.close();
    const after = conductor(fake, { pollSeconds: 0.2 });
    // The gap this closes: the new process did not know the build.
    expect(await after.runner.handleCallback({ jobId: 2, build: handle.url!, result: 'FAILURE' })).toBe('unknown');
    await after.runner.resume([row(2, handle)]);
    fake.finish('web/build', 1, 'FAILURE');
    expect(await after.runner.handleCallback({ jobId: 2, build: handle.url!, result: 'FAILURE' })).toBe('accepted');
    expect(await after.result(2, 200)).toMatchObject({ jobId: 2, succeeded: false });
    await sleep(500);
    expect(after.results).toHaveLength(1);
    expect(await after.runner.handleCallback({ build: handle.url!, result: 'FAILURE' })).toBe('finished');
    fake.expectNoUnexpectedCalls();
  });

  it('reports at once a build that finished while no process was watching', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    const handle = await before.runner.start(jobRequest(3));
    await before.runner.close();
    fake.finish('web/build', 1, 'UNSTABLE');
    const after = conductor(fake, { pollSeconds: 60 }); // not by the regular poll
    const t0 = Date.now();
    await after.runner.resume([row(3, handle)]);
    expect(await after.result(3, 2_000)).toMatchObject({ jobId: 3, succeeded: false });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(after.results).toHaveLength(1);
  });

  it('keeps the original deadline: the timeout counts from the first start, not from the restart', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    const handle = await before.runner.start(jobRequest(4));
    await before.runner.close();
    const after = conductor(fake);
    const startedAt = new Date(Date.now() - 29 * 60_000);
    const t0 = Date.now();
    // Started 29 minutes ago with a 30-minute timeout… minus the last 59.7 s: 300 ms left.
    await after.runner.resume([row(4, handle, { startedAt, timeoutAt: new Date(Date.now() + 300) })]);
    const r = await after.result(4);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(r).toMatchObject({ jobId: 4, succeeded: false, timedOut: true });
    expect(r.output).toMatch(/timed out after 29 min/);
    expect(fake.build('web/build', 1).result).toBe('ABORTED');
    await sleep(150);
    expect(after.results).toHaveLength(1);
    // A deadline that passed while no process was watching: stopped at once.
    const second = await after.runner.start(jobRequest(5));
    await after.runner.close();
    const third = conductor(fake);
    await third.runner.resume([row(5, second, { timeoutAt: new Date(Date.now() - 1_000) })]);
    expect(await third.result(5, 1_000)).toMatchObject({ jobId: 5, timedOut: true });
    expect(fake.build('web/build', 2).result).toBe('ABORTED');
    fake.expectNoUnexpectedCalls();
  });

  it('stop after a restart stops the resumed build (a derail) and reports nothing', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    const handle = await before.runner.start(jobRequest(6, { kind: 'deploy' }));
    await before.runner.close();
    const after = conductor(fake);
    await after.runner.resume([row(6, handle, { kind: 'deploy' })]);
    await after.runner.stop(6);
    expect(fake.build('web-deploy', 1).result).toBe('ABORTED');
    await sleep(150);
    expect(after.results).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });

  it('learns the URL of a resumed build by polling, so callbacks that name only the build match', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    const handle = await before.runner.start(jobRequest(7));
    await before.runner.close();
    const after = conductor(fake, { pollSeconds: 60 });
    await after.runner.resume([row(7, { externalId: handle.externalId, url: null })]);
    await sleep(150); // the first poll, at once
    expect(await after.runner.handleCallback({ build: handle.url!, result: 'SUCCESS' })).toBe('accepted');
    expect((await after.result(7)).succeeded).toBe(true);
  });

  it('leaves to the engine what it cannot resume (no build number), touching nothing', async () => {
    const fake = await fakeJenkins();
    const after = conductor(fake);
    await after.runner.resume([row(8, { externalId: 'web/build (queue item 100)', url: null })]);
    await sleep(150);
    expect(fake.calls).toEqual([]);
    expect(await after.runner.handleCallback({ jobId: 8, result: 'SUCCESS' })).toBe('unknown');
    expect(after.results).toEqual([]);
  });
});

describe('jenkins runner: a lost trigger response', () => {
  it.each(['reset', 'hang'] as const)('a retried start adopts the build the lost trigger (%s) started: one build, one result', async (how) => {
    const fake = await fakeJenkins();
    const p = conductor(fake, { requestTimeoutMs: 300 });
    fake.loseNextTriggerResponse(how);
    await expect(p.runner.start(jobRequest(11))).rejects.toThrow(/Jenkins refused to start web\/build/);
    expect(fake.builds).toHaveLength(1); // Jenkins did start it
    const handle = await p.runner.start(jobRequest(11)); // the outbox retries
    expect(handle).toEqual({ externalId: 'web/build#1', url: `${fake.url}/job/web/job/build/1/` });
    expect(fake.builds).toHaveLength(1);
    expect(triggers(fake)).toBe(1);
    fake.finish('web/build', 1, 'SUCCESS');
    expect((await p.result(11)).succeeded).toBe(true);
    await sleep(150);
    expect(p.results).toHaveLength(1);
    expect(fake.builds).toHaveLength(1);
    fake.expectNoUnexpectedCalls();
  });

  it('adopts the queue item when the lost trigger is still waiting in the queue', async () => {
    const fake = await fakeJenkins();
    fake.queueDelayMs = Infinity;
    const p = conductor(fake);
    fake.loseNextTriggerResponse();
    await expect(p.runner.start(jobRequest(12))).rejects.toThrow();
    const retried = p.runner.start(jobRequest(12));
    await sleep(100);
    expect(fake.queue.size).toBe(1);
    fake.release();
    expect((await retried).externalId).toBe('web/build#1');
    expect(triggers(fake)).toBe(1);
    expect(fake.builds).toHaveLength(1);
    expect(fake.callsTo('POST', /cancelQueue$/)).toEqual([]);
    fake.finish('web/build', 1, 'FAILURE');
    expect((await p.result(12)).succeeded).toBe(false);
    fake.expectNoUnexpectedCalls();
  });

  it('adopts a build that already finished before the retry, and reports its result', async () => {
    const fake = await fakeJenkins();
    const p = conductor(fake);
    fake.loseNextTriggerResponse();
    await expect(p.runner.start(jobRequest(13))).rejects.toThrow();
    fake.finish('web/build', 1, 'SUCCESS');
    expect((await p.runner.start(jobRequest(13))).externalId).toBe('web/build#1');
    expect((await p.result(13)).succeeded).toBe(true);
    await sleep(150);
    expect(p.results).toHaveLength(1);
    expect(triggers(fake)).toBe(1);
  });

  it('a new process retrying the start (a restart between the attempts) adopts it too', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    fake.loseNextTriggerResponse();
    await expect(before.runner.start(jobRequest(14, { kind: 'deploy' }))).rejects.toThrow();
    await before.runner.close();
    const after = conductor(fake);
    expect((await after.runner.start(jobRequest(14, { kind: 'deploy' }))).externalId).toBe('web-deploy#1');
    expect(triggers(fake)).toBe(1);
    fake.finish('web-deploy', 1, 'SUCCESS');
    expect((await after.result(14)).succeeded).toBe(true);
  });

  it('adopts only the same work: not another train, job or Jenkins job with that CONDUCTOR_JOB_ID; a new engineer is still the same work', async () => {
    const fake = await fakeJenkins();
    fake.queueDelayMs = Infinity;
    const params = { TRAIN: '42', LINE: 'web', SHA: 'a'.repeat(40), BRANCH: 'main', CONDUCTOR_URL: 'https://conductor.example.com', ENGINEER: 'alice@example.com', CONDUCTOR_JOB_ID: '15' };
    await triggerByHand(fake, '/job/web/job/build', { ...params, TRAIN: '41' }); // another Conductor database's job 15
    await triggerByHand(fake, '/job/web-deploy', params); // the same id on another Jenkins job
    await triggerByHand(fake, '/job/web/job/build', { ...params, CONDUCTOR_JOB_ID: '16' });
    // In the queue: none of them is job 15's build.
    const p = conductor(fake);
    const started = p.runner.start(jobRequest(15));
    await sleep(100);
    expect(fake.queue.size).toBe(4);
    fake.release();
    expect((await started).externalId).toBe('web/build#3');
    fake.queueDelayMs = 0;
    // As builds: another train's job with the same id is not adopted either.
    const other = conductor(fake);
    expect((await other.runner.start(jobRequest(15, { train: 43 }))).externalId).toBe('web/build#4');
    expect(triggers(fake)).toBe(5);
    // The engineer changed between two attempts: the build of the first is adopted.
    fake.loseNextTriggerResponse();
    await expect(other.runner.start(jobRequest(17))).rejects.toThrow();
    expect((await other.runner.start(jobRequest(17, { engineer: 'bob@example.com' }))).externalId).toBe('web/build#5');
    expect(triggers(fake)).toBe(6);
    fake.expectNoUnexpectedCalls();
  });

  it('does not trigger while Jenkins cannot say whether an earlier trigger exists', async () => {
    const fake = await fakeJenkins();
    const p = conductor(fake);
    fake.failNext(503);
    await expect(p.runner.start(jobRequest(18))).rejects.toThrow(/looking for an earlier trigger/);
    await fake.down('503');
    await expect(p.runner.start(jobRequest(18))).rejects.toThrow(/looking for an earlier trigger/);
    await fake.up();
    expect(triggers(fake)).toBe(0);
    expect((await p.runner.start(jobRequest(18))).externalId).toBe('web/build#1');
    expect(triggers(fake)).toBe(1);
  });

  it('stop while the trigger is in flight stops what the trigger became', async () => {
    const fake = await fakeJenkins();
    fake.triggerDelayMs = 200;
    const p = conductor(fake);
    const started = p.runner.start(jobRequest(19));
    await sleep(80);
    await p.runner.stop(19);
    await started;
    expect(fake.build('web/build', 1).result).toBe('ABORTED');
    fake.queueDelayMs = Infinity;
    const queued = p.runner.start(jobRequest(20));
    await sleep(80);
    await p.runner.stop(20);
    await queued;
    expect(fake.queue.get(101)!.cancelled).toBe(true);
    expect(fake.builds).toHaveLength(1);
    await sleep(150);
    expect(p.results).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });
});

describe('jenkins runner: stop a job this process does not follow', () => {
  it('stops the build a start recorded before a restart (the job was not resumed), reporting nothing', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    const handle = await before.runner.start(jobRequest(41));
    await before.runner.close(); // e.g. the engine timed the job out, and the stop was not delivered before the process stopped
    const after = conductor(fake);
    // Without what the database knows, an untracked job cannot be told apart from another's: nothing is touched.
    await after.runner.stop(41);
    expect(fake.build('web/build', 1).building).toBe(true);
    await after.runner.stop(41, known(41, handle.externalId));
    expect(fake.build('web/build', 1).result).toBe('ABORTED');
    expect(fake.callsTo('POST', /^\/job\/web\/job\/build\/1\/stop$/)).toHaveLength(1);
    // Its last words (Jenkins's callback after the abort) are not a result.
    expect(await after.runner.handleCallback({ jobId: 41, build: handle.url!, result: 'ABORTED' })).toBe('finished');
    // Stopped already: a repeated stop looks, and posts nothing.
    await after.runner.stop(41, known(41, handle.externalId));
    expect(fake.callsTo('POST', /\/stop$/)).toHaveLength(1);
    await sleep(150);
    expect(after.results).toEqual([]);
    expect(before.results).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });

  it('leaves alone a build that already finished', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    const handle = await before.runner.start(jobRequest(42, { kind: 'deploy' }));
    await before.runner.close();
    fake.finish('web-deploy', 1, 'SUCCESS');
    const after = conductor(fake);
    await after.runner.stop(42, known(42, handle.externalId, { kind: 'deploy' }));
    expect(fake.build('web-deploy', 1).result).toBe('SUCCESS');
    expect(fake.callsTo('POST', /\/stop$/)).toEqual([]);
    expect(after.results).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });

  it('does not stop a recorded build number that now belongs to other work (the Jenkins job was recreated)', async () => {
    const fake = await fakeJenkins();
    await triggerByHand(fake, '/job/web/job/build', { TRAIN: '7', LINE: 'web', SHA: 'b'.repeat(40), CONDUCTOR_URL: 'https://conductor.example.com', CONDUCTOR_JOB_ID: '99' });
    const p = conductor(fake);
    await p.runner.stop(43, known(43, 'web/build#1'));
    expect(fake.build('web/build', 1).building).toBe(true);
    expect(fake.callsTo('POST', /\/stop$/)).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });

  it("with no build recorded (the trigger answer was lost), finds the build by CONDUCTOR_JOB_ID and stops it; another Conductor's job with that id is left alone", async () => {
    const fake = await fakeJenkins();
    const params = { TRAIN: '42', LINE: 'web', SHA: 'a'.repeat(40), BRANCH: 'main', ENGINEER: '', CONDUCTOR_JOB_ID: '44' };
    await triggerByHand(fake, '/job/web/job/build', { ...params, CONDUCTOR_URL: 'https://staging-conductor.example.com' });
    const before = conductor(fake);
    fake.loseNextTriggerResponse();
    await expect(before.runner.start(jobRequest(44))).rejects.toThrow();
    expect(fake.builds).toHaveLength(2); // Jenkins started it all the same
    await before.runner.close();
    const after = conductor(fake);
    await after.runner.stop(44, known(44, null));
    expect(fake.build('web/build', 2).result).toBe('ABORTED');
    expect(fake.build('web/build', 1).building).toBe(true); // staging's job 44
    expect(fake.callsTo('POST', /\/stop$/)).toHaveLength(1);
    expect(after.results).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });

  it('cancels the queue item a lost trigger left waiting: nothing runs later', async () => {
    const fake = await fakeJenkins();
    fake.queueDelayMs = Infinity;
    const before = conductor(fake);
    fake.loseNextTriggerResponse();
    await expect(before.runner.start(jobRequest(45, { kind: 'rollback' }))).rejects.toThrow();
    await before.runner.close();
    const after = conductor(fake);
    const mark = fake.calls.length;
    await after.runner.stop(45, known(45, null, { kind: 'rollback' }));
    expect(fake.queue.get(100)!.cancelled).toBe(true);
    fake.release();
    expect(fake.builds).toEqual([]);
    // Only the kind's Jenkins job is searched; after the cancel, a second look finds nothing left.
    expect(fake.calls.slice(mark).map((c) => `${c.method} ${c.path.split('?')[0]}`)).toEqual([
      'GET /queue/api/json',
      'POST /queue/item/100/cancelQueue',
      'GET /queue/api/json',
      'GET /job/web-rollback/api/json',
    ]);
    fake.expectNoUnexpectedCalls();
  });

  it('throws while Jenkins cannot be reached (the outbox retries), and a later stop stops the build', async () => {
    const fake = await fakeJenkins();
    const before = conductor(fake);
    const handle = await before.runner.start(jobRequest(46));
    await before.runner.close();
    const after = conductor(fake);
    await fake.down('refused');
    await expect(after.runner.stop(46, known(46, handle.externalId))).rejects.toThrow(/could not stop job 46 in web\/build/);
    await fake.up();
    fake.failNext(503);
    await expect(after.runner.stop(46, known(46, null))).rejects.toThrow(/could not stop job 46/);
    expect(fake.build('web/build', 1).building).toBe(true);
    await after.runner.stop(46, known(46, handle.externalId));
    expect(fake.build('web/build', 1).result).toBe('ABORTED');
    expect(after.results).toEqual([]);
    fake.expectNoUnexpectedCalls();
  });
});
