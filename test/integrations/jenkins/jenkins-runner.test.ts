import { afterEach, describe, expect, it } from 'vitest';
import type { JenkinsRunnerOptions } from '../../../src/integrations/jenkins/jenkins-runner.js';
import { FakeJenkins } from '../../support/fake-jenkins.js';
import { JENKINS_JOBS, jenkinsRunnerOn, jobRequest, type RunnerUnderTest } from '../../support/jenkins-runner.js';

/** Each test's own fake Jenkins and runner, both closed after it. */
interface Harness extends RunnerUnderTest {
  fake: FakeJenkins;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.runner.close();
    await h.fake.close();
  }
});

async function setup(extra: Partial<JenkinsRunnerOptions> = {}): Promise<Harness> {
  const fake = await FakeJenkins.start({ jobs: Object.values(JENKINS_JOBS) });
  const h: Harness = { fake, ...jenkinsRunnerOn(fake, extra) };
  harnesses.push(h);
  return h;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('jenkins runner: start', () => {
  it('triggers the job with its parameters and returns job#number and the build URL', async () => {
    const h = await setup();
    const handle = await h.runner.start(jobRequest(7));
    expect(handle.externalId).toBe('web/build#1');
    expect(handle.url).toBe(`${h.fake.url}/job/web/job/build/1/`);
    const b = h.fake.build('web/build', 1);
    expect(b.params).toEqual({
      TRAIN: '42',
      LINE: 'web',
      SHA: 'a'.repeat(40),
      BRANCH: 'main',
      CONDUCTOR_URL: 'https://conductor.example.com',
      ENGINEER: 'alice@example.com',
      CONDUCTOR_JOB_ID: '7',
    });
    expect(h.fake.callsTo('POST', /^\/job\/web\/job\/build\/buildWithParameters$/)).toHaveLength(1);
    const deploy = await h.runner.start(jobRequest(8, { kind: 'deploy', engineer: null }));
    expect(deploy.externalId).toBe('web-deploy#1');
    expect(h.fake.build('web-deploy', 1).params.ENGINEER).toBe('');
    h.fake.expectNoUnexpectedCalls();
  });

  it('waits for the queue item to get a build number', async () => {
    const h = await setup();
    h.fake.queueDelayMs = 150;
    const t0 = Date.now();
    const handle = await h.runner.start(jobRequest(1));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(handle.externalId).toBe('web/build#1');
    expect(h.fake.callsTo('GET', /^\/queue\/item\/100\/api\/json$/).length).toBeGreaterThan(1);
    h.fake.expectNoUnexpectedCalls();
  });

  it('is idempotent by jobId while the job runs', async () => {
    const h = await setup();
    h.fake.queueDelayMs = 100;
    const [a, b] = await Promise.all([h.runner.start(jobRequest(3)), h.runner.start(jobRequest(3))]);
    const c = await h.runner.start(jobRequest(3));
    expect(a).toEqual(b);
    expect(c).toEqual(a);
    expect(h.fake.callsTo('POST', /buildWithParameters$/)).toHaveLength(1);
    h.fake.finish('web/build', 1, 'SUCCESS');
    await h.result(3);
    // Once it has ended, the same jobId starts a new build.
    const again = await h.runner.start(jobRequest(3));
    expect(again.externalId).toBe('web/build#2');
    h.fake.expectNoUnexpectedCalls();
  });

  it('throws when Jenkins is unreachable, and starts normally once it is back', async () => {
    const h = await setup();
    await h.fake.down('refused');
    await expect(h.runner.start(jobRequest(5))).rejects.toThrow(/Jenkins refused to start web\/build/);
    await h.fake.up();
    h.fake.failNext(503);
    await expect(h.runner.start(jobRequest(5))).rejects.toThrow();
    await h.fake.down('503');
    await expect(h.runner.start(jobRequest(5))).rejects.toThrow();
    await h.fake.up();
    const handle = await h.runner.start(jobRequest(5));
    expect(handle.externalId).toBe('web/build#1');
    expect(h.fake.builds).toHaveLength(1);
    expect(h.results).toEqual([]);
    h.fake.expectNoUnexpectedCalls();
  });

  it('reports a queue item cancelled in Jenkins as failed', async () => {
    const h = await setup();
    h.fake.queueDelayMs = Infinity;
    const started = h.runner.start(jobRequest(9));
    await sleep(60);
    h.fake.cancelQueueItem(100);
    const handle = await started;
    expect(handle.url).toBeNull();
    const r = await h.result(9);
    expect(r).toMatchObject({ jobId: 9, succeeded: false, exitCode: null, timedOut: false });
    expect(r.output).toMatch(/cancelled/);
    h.fake.expectNoUnexpectedCalls();
  });

  it('cancels and fails a queue item that does not start within queueTimeoutMs', async () => {
    const h = await setup({ queueTimeoutMs: 200 });
    h.fake.queueDelayMs = Infinity;
    await h.runner.start(jobRequest(10));
    const r = await h.result(10);
    expect(r.succeeded).toBe(false);
    expect(r.output).toMatch(/did not start within/);
    expect(h.fake.queue.get(100)!.cancelled).toBe(true);
    h.fake.expectNoUnexpectedCalls();
  });
});

describe('jenkins runner: results by polling', () => {
  it.each([
    ['SUCCESS', true],
    ['FAILURE', false],
    ['ABORTED', false],
  ] as const)('reports %s once', async (result, succeeded) => {
    const h = await setup();
    const handle = await h.runner.start(jobRequest(11));
    await sleep(120);
    expect(h.results).toEqual([]);
    h.fake.finish('web/build', 1, result, 'compiling\n');
    const r = await h.result(11);
    expect(r).toEqual({ jobId: 11, succeeded, exitCode: null, timedOut: false, output: expect.any(String) });
    expect(r.output.split('\n')[0]).toBe(`Jenkins ${result}: ${handle.url}`);
    expect(r.output).toContain('compiling');
    expect(r.output).toContain(`Finished: ${result}`);
    await sleep(150);
    expect(h.results).toHaveLength(1);
    h.fake.expectNoUnexpectedCalls();
  });

  it('keeps only the tail of a long console log (≤ maxOutputBytes)', async () => {
    const h = await setup({ maxOutputBytes: 1024 });
    await h.runner.start(jobRequest(12));
    h.fake.finish('web/build', 1, 'SUCCESS', 'x'.repeat(5000) + '\nlast line\n');
    const r = await h.result(12);
    expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(1024);
    expect(r.output).toMatch(/^Jenkins SUCCESS: /);
    expect(r.output).toMatch(/bytes of the console log dropped/);
    expect(r.output).toMatch(/last line\nFinished: SUCCESS\n$/);
  });

  it('polls every pollSeconds', async () => {
    const h = await setup({ pollSeconds: 0.1 });
    await h.runner.start(jobRequest(13));
    const t0 = Date.now();
    await sleep(550);
    h.fake.finish('web/build', 1, 'SUCCESS');
    await h.result(13);
    const elapsed = Date.now() - t0;
    const polls = h.fake.callsTo('GET', /^\/job\/web\/job\/build\/1\/api\/json$/);
    expect(polls.length).toBeGreaterThanOrEqual(4);
    expect(polls.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    for (let i = 1; i < polls.length; i++) expect(polls[i]!.at - polls[i - 1]!.at).toBeGreaterThanOrEqual(90);
  });

  it('keeps polling through Jenkins errors', async () => {
    const h = await setup();
    await h.runner.start(jobRequest(14));
    h.fake.failNext(503, 3);
    await sleep(100);
    h.fake.finish('web/build', 1, 'SUCCESS');
    expect((await h.result(14)).succeeded).toBe(true);
  });

  it('stops a build that outlives its timeout and reports it timed out', async () => {
    const h = await setup();
    await h.runner.start(jobRequest(15, { timeoutMinutes: 0.005 })); // 300 ms
    const r = await h.result(15);
    expect(r).toMatchObject({ jobId: 15, succeeded: false, timedOut: true });
    expect(h.fake.build('web/build', 1).result).toBe('ABORTED');
    await sleep(150);
    expect(h.results).toHaveLength(1);
    h.fake.expectNoUnexpectedCalls();
  });

  it('reports a timed-out build at once even when Jenkins refuses the stop, and keeps stopping it until Jenkins takes it', async () => {
    // Polls every 400 ms, so the only requests after the 300 ms timeout are the stops.
    const h = await setup({ pollSeconds: 0.4 });
    await h.runner.start(jobRequest(16, { timeoutMinutes: 0.005 }));
    h.fake.failNext(503, 2);
    const r = await h.result(16);
    expect(r).toMatchObject({ jobId: 16, succeeded: false, timedOut: true });
    expect(r.output).toContain('Jenkins could not be reached to stop the build: Conductor keeps trying');
    expect(h.fake.build('web/build', 1).result).toBeNull(); // still running when reported
    for (let i = 0; i < 60 && h.fake.build('web/build', 1).result !== 'ABORTED'; i++) await sleep(50);
    expect(h.fake.build('web/build', 1).result).toBe('ABORTED');
    expect(h.fake.callsTo('POST', /\/job\/web\/job\/build\/1\/stop$/).length).toBeGreaterThanOrEqual(2); // refused, then taken
    expect(h.results).toHaveLength(1);
  });
});

describe('jenkins runner: callback', () => {
  it('reports the callback result at once, and polling does not report it again', async () => {
    const h = await setup({ pollSeconds: 0.2 });
    const handle = await h.runner.start(jobRequest(21));
    expect(await h.runner.handleCallback({ jobId: 21, build: handle.url!, result: 'FAILURE' })).toBe('accepted');
    const r = await h.result(21, 100);
    expect(r).toMatchObject({ jobId: 21, succeeded: false });
    expect(r.output).toMatch(/^Jenkins FAILURE: /);
    h.fake.finish('web/build', 1, 'FAILURE');
    await sleep(500);
    expect(h.results).toHaveLength(1);
    expect(await h.runner.handleCallback({ jobId: 21, result: 'SUCCESS' })).toBe('finished');
    expect(await h.runner.handleCallback({ build: handle.url!, result: 'SUCCESS' })).toBe('finished');
    expect(h.results).toHaveLength(1);
  });

  it('after polling reported, a callback is "finished"', async () => {
    const h = await setup();
    await h.runner.start(jobRequest(22));
    h.fake.finish('web/build', 1, 'SUCCESS');
    await h.result(22);
    expect(await h.runner.handleCallback({ jobId: 22, result: 'SUCCESS' })).toBe('finished');
    expect(h.results).toHaveLength(1);
  });

  it('matches by build URL, refuses unknown jobs and other builds of the job', async () => {
    const h = await setup();
    const handle = await h.runner.start(jobRequest(23));
    expect(await h.runner.handleCallback({ jobId: 999, result: 'SUCCESS' })).toBe('unknown');
    expect(await h.runner.handleCallback({ jobId: 23, build: `${h.fake.url}/job/web/job/build/77/`, result: 'SUCCESS' })).toBe('unknown');
    expect(await h.runner.handleCallback({ jobId: 23, number: 77, result: 'SUCCESS' })).toBe('unknown');
    expect(h.results).toEqual([]);
    expect(await h.runner.handleCallback({ build: handle.url!.replace(/\/$/, ''), result: 'SUCCESS' })).toBe('accepted');
    expect((await h.result(23)).succeeded).toBe(true);
  });
});

describe('jenkins runner: stop and close', () => {
  it('stops a running build without reporting', async () => {
    const h = await setup();
    await h.runner.start(jobRequest(31));
    await h.runner.stop(31);
    expect(h.fake.callsTo('POST', /^\/job\/web\/job\/build\/1\/stop$/)).toHaveLength(1);
    expect(h.fake.build('web/build', 1).result).toBe('ABORTED');
    await sleep(200);
    expect(h.results).toEqual([]);
    expect(await h.runner.handleCallback({ jobId: 31, result: 'ABORTED' })).toBe('finished');
    await h.runner.stop(31); // no-op
    await h.runner.stop(12345); // unknown: no-op
    expect(h.fake.callsTo('POST', /\/stop$/)).toHaveLength(1);
    h.fake.expectNoUnexpectedCalls();
  });

  it('cancels a queued item without reporting', async () => {
    const h = await setup();
    h.fake.queueDelayMs = Infinity;
    const started = h.runner.start(jobRequest(32));
    await sleep(60);
    await h.runner.stop(32);
    const handle = await started;
    expect(handle.externalId).toBe('web/build (queue item 100)');
    expect(h.fake.callsTo('POST', /^\/queue\/item\/100\/cancelQueue$/)).toHaveLength(1);
    expect(h.fake.queue.get(100)!.cancelled).toBe(true);
    expect(h.fake.builds).toEqual([]);
    await sleep(150);
    expect(h.results).toEqual([]);
    h.fake.expectNoUnexpectedCalls();
  });

  it.each([200, 204] as const)('accepts a bare %i to stop and cancel', async (status) => {
    const h = await setup();
    h.fake.stopStatus = status;
    await h.runner.start(jobRequest(36));
    await h.runner.stop(36);
    expect(h.fake.build('web/build', 1).result).toBe('ABORTED');
    h.fake.queueDelayMs = Infinity;
    const started = h.runner.start(jobRequest(37));
    await sleep(60);
    await h.runner.stop(37);
    await started;
    expect(h.fake.queue.get(101)!.cancelled).toBe(true);
    h.fake.expectNoUnexpectedCalls();
  });

  it('throws when Jenkins cannot be reached to stop, and a later stop retries', async () => {
    const h = await setup();
    await h.runner.start(jobRequest(33));
    await h.fake.down('503');
    await expect(h.runner.stop(33)).rejects.toThrow(/could not stop web\/build#1/);
    await h.fake.up();
    await h.runner.stop(33);
    expect(h.fake.build('web/build', 1).result).toBe('ABORTED');
    await sleep(150);
    expect(h.results).toEqual([]);
  });

  it('close() stops the pollers and refuses new jobs', async () => {
    const h = await setup();
    await h.runner.start(jobRequest(34));
    await h.runner.close();
    const n = h.fake.calls.length;
    h.fake.finish('web/build', 1, 'SUCCESS');
    await sleep(200);
    expect(h.fake.calls.length).toBe(n);
    expect(h.results).toEqual([]);
    await expect(h.runner.start(jobRequest(35))).rejects.toThrow(/closed/);
  });
});
