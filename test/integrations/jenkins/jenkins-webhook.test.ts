import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobResult } from '../../../src/engine/ports/build-runner.js';
import { jenkinsWebhookHandler } from '../../../src/http/jenkins-webhook.js';
import { HttpError, sendJson } from '../../../src/http/router.js';
import { createJenkinsRunner, type JenkinsRunner } from '../../../src/integrations/jenkins/jenkins-runner.js';
import { FakeJenkins } from '../../support/fake-jenkins.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const TOKEN = 'webhook-secret-token';

interface Harness {
  fake: FakeJenkins;
  runner: JenkinsRunner;
  results: JobResult[];
  post(body: string, headers?: Record<string, string>): Promise<{ status: number; body: unknown }>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<Harness> {
  const fake = await FakeJenkins.start({ jobs: ['build-web', 'deploy-web'] });
  cleanups.push(() => fake.close());
  const results: JobResult[] = [];
  const runner = createJenkinsRunner({
    url: fake.url,
    user: fake.user,
    apiToken: fake.token,
    jobs: { build: 'build-web', deploy: 'deploy-web', rollback: 'deploy-web' },
    pollSeconds: 60, // results come by callback in these tests
    queuePollMs: 20,
    log,
    onResult: (r) => void results.push(r),
  });
  cleanups.push(() => runner.close());
  const handler = jenkinsWebhookHandler({ token: TOKEN, runner, log });
  // The app's server turns a thrown HttpError into its status the same way.
  const server = http.createServer((req, res) => {
    void Promise.resolve(handler({ req, res, params: {}, log })).catch((err: unknown) => {
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.message });
      else sendJson(res, 500, { error: String(err) });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/jenkins`;
  return {
    fake,
    runner,
    results,
    async post(body, headers = { authorization: `Bearer ${TOKEN}` }) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: res.status, body: await res.json() };
    },
  };
}

const job = (jobId: number) => ({
  jobId,
  kind: 'build' as const,
  line: 'web',
  train: 3,
  sha: 'b'.repeat(40),
  branch: 'main',
  engineer: 'bob@example.com',
  conductorUrl: 'https://conductor.example.com',
  timeoutMinutes: 30,
  idempotencyKey: `k${jobId}`,
});

describe('POST /webhooks/jenkins', () => {
  it('401 without the right bearer token; nothing changes', async () => {
    const h = await setup();
    const handle = await h.runner.start(job(1));
    const body = JSON.stringify({ jobId: 1, build: handle.url, result: 'SUCCESS' });
    expect((await h.post(body, {})).status).toBe(401);
    expect((await h.post(body, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await h.post(body, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await h.post(body, { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` })).status).toBe(401);
    expect(h.results).toEqual([]);
    // …and the job still takes its result.
    expect((await h.post(body)).status).toBe(200);
    expect(h.results).toHaveLength(1);
  });

  it('400 for malformed JSON or fields; nothing changes', async () => {
    const h = await setup();
    const handle = await h.runner.start(job(2));
    for (const bad of [
      '{not json',
      '[]',
      '"SUCCESS"',
      JSON.stringify({ jobId: 2 }),
      JSON.stringify({ jobId: 2, result: 42 }),
      JSON.stringify({ jobId: 2, result: 'no such result!' }),
      JSON.stringify({ jobId: -1, result: 'SUCCESS' }),
      JSON.stringify({ jobId: 2.5, result: 'SUCCESS' }),
      JSON.stringify({ jobId: 2, build: 'not a url', result: 'SUCCESS' }),
      JSON.stringify({ jobId: 2, number: '7x', result: 'SUCCESS' }),
      JSON.stringify({ result: 'SUCCESS' }),
    ]) {
      const r = await h.post(bad);
      expect(r.status, bad).toBe(400);
    }
    expect(h.results).toEqual([]);
    expect((await h.post(JSON.stringify({ jobId: '2', build: handle.url, result: 'success' }))).status).toBe(200);
    expect(h.results[0]).toMatchObject({ jobId: 2, succeeded: true });
  });

  it('409 for unknown builds and for builds already reported; 200 accepted once', async () => {
    const h = await setup();
    const handle = await h.runner.start(job(3));
    expect(await h.post(JSON.stringify({ jobId: 404, result: 'SUCCESS' }))).toMatchObject({ status: 409 });
    expect(await h.post(JSON.stringify({ build: `${h.fake.url}/job/other/1/`, result: 'SUCCESS' }))).toMatchObject({ status: 409 });
    expect(h.results).toEqual([]);
    const ok = await h.post(JSON.stringify({ jobId: 3, build: handle.url, result: 'FAILURE' }));
    expect(ok).toEqual({ status: 200, body: { status: 'accepted' } });
    expect(h.results).toHaveLength(1);
    expect(h.results[0]).toMatchObject({ jobId: 3, succeeded: false });
    expect(h.results[0]!.output).toMatch(/^Jenkins FAILURE: /);
    const again = await h.post(JSON.stringify({ jobId: 3, build: handle.url, result: 'SUCCESS' }));
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: 'the result of this build was already reported' });
    expect(h.results).toHaveLength(1);
    h.fake.expectNoUnexpectedCalls();
  });

  it('refuses to be built without a token', () => {
    expect(() => jenkinsWebhookHandler({ token: '', runner: { handleCallback: async () => 'unknown' }, log })).toThrow();
  });
});
