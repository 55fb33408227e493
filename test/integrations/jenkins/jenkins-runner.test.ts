import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobRequest, JobResult } from '../../../src/engine/ports/build-runner.js';
import { createJenkinsRunner, type JenkinsRunner, type JenkinsRunnerOptions } from '../../../src/integrations/jenkins/jenkins-runner.js';
import { FakeJenkins } from '../../support/fake-jenkins.js';

const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const JOBS = { build: 'web/build', deploy: 'web-deploy', rollback: 'web-rollback' };

interface Harness {
  fake: FakeJenkins;
  runner: JenkinsRunner;
  results: JobResult[];
  result(jobId: number, timeoutMs?: number): Promise<JobResult>;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.runner.close();
    await h.fake.close();
  }
});

async function setup(extra: Partial<JenkinsRunnerOptions> = {}): Promise<Harness> {
  const fake = await FakeJenkins.start({ jobs: Object.values(JOBS) });
  const results: JobResult[] = [];
  const waiters: { jobId: number; resolve: (r: JobResult) => void }[] = [];
  const runner = createJenkinsRunner({
    url: fake.url,
    user: fake.user,
    apiToken: fake.token,
    jobs: JOBS,
    pollSeconds: 0.05,
    queuePollMs: 20,
    log: silentLog,
    onResult: (r) => {
      results.push(r);
      for (const w of waiters.filter((x) => x.jobId === r.jobId)) w.resolve(r);
    },
    ...extra,
  });
  const h: Harness = {
    fake,
    runner,
    results,
    result: (jobId, timeoutMs = 5_000) => {
      const done = results.find((r) => r.jobId === jobId);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no result for job ${jobId}`)), timeoutMs);
        waiters.push({ jobId, resolve: (r) => (clearTimeout(t), resolve(r)) });
      });
    },
  };
  harnesses.push(h);
  return h;
}

function request(jobId: number, over: Partial<JobRequest> = {}): JobRequest {
  return {
    jobId,
    kind: 'build',
    line: 'web',
    train: 42,
    sha: 'a'.repeat(40),
    branch: 'main',
    engineer: 'alice@example.com',
    conductorUrl: 'https://conductor.example.com',
    timeoutMinutes: 30,
    idempotencyKey: `job-${jobId}`,
    ...over,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('jenkins runner: start', () => {
  it('triggers the job with its parameters and returns job#number and the build URL', async () => {
    const h = await setup();
    const handle = await h.runner.start(request(7));
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
    const deploy = await h.runner.start(request(8, { kind: 'deploy', engineer: null }));
    expect(deploy.externalId).toBe('web-deploy#1');
    expect(h.fake.build('web-deploy', 1).params.ENGINEER).toBe('');
    h.fake.expectNoUnexpectedCalls();
  });

  it('waits for the queue item to get a build number', async () => {
    const h = await setup();
    h.fake.queueDelayMs = 150;
    const t0 = Date.now();
    const handle = await h.runner.start(request(1));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(handle.externalId).toBe('web/build#1');
    expect(h.fake.callsTo('GET', /^\/queue\/item\/100\/api\/json$/).length).toBeGreaterThan(1);
    h.fake.expectNoUnexpectedCalls();
  });

  it('is idempotent by jobId while the job runs', async () => {
    const h = await setup();
    h.fake.queueDelayMs = 100;
    const [a, b] = await Promise.all([h.runner.start(request(3)), h.runner.start(request(3))]);
    const c = await h.runner.start(request(3));
    expect(a).toEqual(b);
    expect(c).toEqual(a);
    expect(h.fake.callsTo('POST', /buildWithParameters$/)).toHaveLength(1);
    h.fake.finish('web/build', 1, 'SUCCESS');
    await h.result(3);
    // Once it has ended, the same jobId starts a new build.
    const again = await h.runner.start(request(3));
    expect(again.externalId).toBe('web/build#2');
    h.fake.expectNoUnexpectedCalls();
  });

  it('throws when Jenkins is unreachable, and starts normally once it is back', async () => {
    const h = await setup();
    await h.fake.down('refused');
    await expect(h.runner.start(request(5))).rejects.toThrow(/Jenkins refused to start web\/build/);
    await h.fake.up();
    h.fake.failNext(503);
    await expect(h.runner.start(request(5))).rejects.toThrow();
    await h.fake.down('503');
    await expect(h.runner.start(request(5))).rejects.toThrow();
    await h.fake.up();
    const handle = await h.runner.start(request(5));
    expect(handle.externalId).toBe('web/build#1');
    expect(h.fake.builds).toHaveLength(1);
    expect(h.results).toEqual([]);
    h.fake.expectNoUnexpectedCalls();
  });

  it('reports a queue item cancelled in Jenkins as failed', async () => {
    const h = await setup();
    h.fake.queueDelayMs = Infinity;
    const started = h.runner.start(request(9));
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
    await h.runner.start(request(10));
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
    const handle = await h.runner.start(request(11));
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
    await h.runner.start(request(12));
    h.fake.finish('web/build', 1, 'SUCCESS', 'x'.repeat(5000) + '\nlast line\n');
    const r = await h.result(12);
    expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(1024);
    expect(r.output).toMatch(/^Jenkins SUCCESS: /);
    expect(r.output).toMatch(/bytes of the console log dropped/);
    expect(r.output).toMatch(/last line\nFinished: SUCCESS\n$/);
  });

  it('polls every pollSeconds', async () => {
    const h = await setup({ pollSeconds: 0.1 });
    await h.runner.start(request(13));
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
    await h.runner.start(request(14));
    h.fake.failNext(503, 3);
    await sleep(100);
    h.fake.finish('web/build', 1, 'SUCCESS');
    expect((await h.result(14)).succeeded).toBe(true);
  });

  it('stops a build that outlives its timeout and reports it timed out', async () => {
    const h = await setup();
    await h.runner.start(request(15, { timeoutMinutes: 0.005 })); // 300 ms
    const r = await h.result(15);
    expect(r).toMatchObject({ jobId: 15, succeeded: false, timedOut: true });
    expect(h.fake.build('web/build', 1).result).toBe('ABORTED');
    await sleep(150);
    expect(h.results).toHaveLength(1);
    h.fake.expectNoUnexpectedCalls();
  });
});

describe('jenkins runner: callback', () => {
  it('reports the callback result at once, and polling does not report it again', async () => {
    const h = await setup({ pollSeconds: 0.2 });
    const handle = await h.runner.start(request(21));
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
    await h.runner.start(request(22));
    h.fake.finish('web/build', 1, 'SUCCESS');
    await h.result(22);
    expect(await h.runner.handleCallback({ jobId: 22, result: 'SUCCESS' })).toBe('finished');
    expect(h.results).toHaveLength(1);
  });

  it('matches by build URL, refuses unknown jobs and other builds of the job', async () => {
    const h = await setup();
    const handle = await h.runner.start(request(23));
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
    await h.runner.start(request(31));
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
    const started = h.runner.start(request(32));
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
    await h.runner.start(request(36));
    await h.runner.stop(36);
    expect(h.fake.build('web/build', 1).result).toBe('ABORTED');
    h.fake.queueDelayMs = Infinity;
    const started = h.runner.start(request(37));
    await sleep(60);
    await h.runner.stop(37);
    await started;
    expect(h.fake.queue.get(101)!.cancelled).toBe(true);
    h.fake.expectNoUnexpectedCalls();
  });

  it('throws when Jenkins cannot be reached to stop, and a later stop retries', async () => {
    const h = await setup();
    await h.runner.start(request(33));
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
    await h.runner.start(request(34));
    await h.runner.close();
    const n = h.fake.calls.length;
    h.fake.finish('web/build', 1, 'SUCCESS');
    await sleep(200);
    expect(h.fake.calls.length).toBe(n);
    expect(h.results).toEqual([]);
    await expect(h.runner.start(request(35))).rejects.toThrow(/closed/);
  });
});
