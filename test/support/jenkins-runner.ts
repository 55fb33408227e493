import pino from 'pino';
import type { JobRequest, JobResult } from '../../src/engine/ports/build-runner.js';
import { createJenkinsRunner, type JenkinsRunner, type JenkinsRunnerOptions } from '../../src/integrations/jenkins/jenkins-runner.js';
import type { FakeJenkins } from './fake-jenkins.js';

const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The line's jobs: the build in a folder (its URL path is `/job/web/job/build`), the others at the top. */
export const JENKINS_JOBS = { build: 'web/build', deploy: 'web-deploy', rollback: 'web-rollback' };

/** A Jenkins runner (one Conductor process's), with what it reported. */
export interface RunnerUnderTest {
  runner: JenkinsRunner;
  results: JobResult[];
  /** The result of `jobId`, once reported (within `timeoutMs`, default 5 s). */
  result(jobId: number, timeoutMs?: number): Promise<JobResult>;
}

/** A runner for JENKINS_JOBS on `fake`, polling fast so that tests are quick; the caller closes it. */
export function jenkinsRunnerOn(fake: FakeJenkins, extra: Partial<JenkinsRunnerOptions> = {}): RunnerUnderTest {
  const results: JobResult[] = [];
  const waiters: { jobId: number; resolve: (r: JobResult) => void }[] = [];
  const runner = createJenkinsRunner({
    url: fake.url,
    user: fake.user,
    apiToken: fake.token,
    jobs: JENKINS_JOBS,
    pollSeconds: 0.05,
    queuePollMs: 20,
    log: silentLog,
    onResult: (r) => {
      results.push(r);
      for (const w of waiters.filter((x) => x.jobId === r.jobId)) w.resolve(r);
    },
    ...extra,
  });
  return {
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
}

/** A build of train 42 on `web` by alice, as the engine asks for it; `over` changes what a test needs. */
export function jobRequest(jobId: number, over: Partial<JobRequest> = {}): JobRequest {
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
