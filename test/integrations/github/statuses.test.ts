import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createGithubStatuses,
  deployedStatus,
  onTrainStatus,
  PermanentGithubError,
  RetryableGithubError,
  removedByResetStatus,
  truncateDescription,
  waitingOnPlatformStatus,
} from '../../../src/integrations/github/statuses.js';
import { type FakeGithub, fakeSha, startFakeGithub } from '../../support/fake-github.js';
import { acknowledgeFakeProblems } from '../../support/strict-fakes.js';

const log = pino({ level: 'silent' });
const repo = { owner: 'acme', name: 'web' };
const sha = fakeSha(7);

let fake: FakeGithub;
beforeEach(async () => {
  fake = await startFakeGithub({ token: 'ghp_good' });
});
afterEach(() => fake.close());

const statuses = (token = 'ghp_good') => createGithubStatuses({ token, apiUrl: fake.url, log });

describe('GitHub commit statuses', () => {
  it.each([
    ['waiting on the platform', waitingOnPlatformStatus(), 'pending', 'waiting on the platform'],
    ['on a train', onTrainStatus(12), 'pending', 'on train #12'],
    ['deployed', deployedStatus(12), 'success', 'deployed with train #12'],
    ['removed by an emergency reset', removedByResetStatus(), 'error', 'removed by emergency reset'],
  ])('sets the "conductor" status: %s', async (_, status, state, description) => {
    await statuses().set(repo, sha, { ...status, targetUrl: 'https://conductor.example.com/lines/web/trains/12' });
    expect(fake.statuses).toEqual([{ owner: 'acme', repo: 'web', sha, state, description, context: 'conductor', targetUrl: 'https://conductor.example.com/lines/web/trains/12' }]);
    fake.expectNoUnexpectedCalls();
  });

  it('sends no target_url when none is given', async () => {
    await statuses().set(repo, sha, onTrainStatus(1));
    expect(fake.statuses[0]!.targetUrl).toBeNull();
    fake.expectNoUnexpectedCalls();
  });

  it('truncates descriptions to GitHub’s 140 characters', async () => {
    const long = 'x'.repeat(139) + '😀😀😀';
    await statuses().set(repo, sha, { state: 'pending', description: long });
    const sent = fake.statuses[0]!.description!;
    expect(Array.from(sent)).toHaveLength(140);
    expect(sent).toBe('x'.repeat(139) + '…');
    expect(truncateDescription('a'.repeat(140))).toBe('a'.repeat(140));
    fake.expectNoUnexpectedCalls();
  });

  it('throws a retryable error on a 500 (the outbox retries), then succeeds', async () => {
    fake.failNext(500);
    const s = statuses();
    const err = await s.set(repo, sha, onTrainStatus(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableGithubError);
    expect(err).not.toBeInstanceOf(PermanentGithubError);
    expect((err as RetryableGithubError).status).toBe(500);
    await s.set(repo, sha, onTrainStatus(3));
    expect(fake.statuses.map((c) => c.injected ?? 201)).toEqual([500, 201]);
    fake.expectNoUnexpectedCalls();
  });

  it.each([422, 404])('throws PermanentGithubError on a %i', async (status) => {
    fake.failNext(status);
    const err = await statuses()
      .set(repo, sha, deployedStatus(3))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentGithubError);
    expect((err as PermanentGithubError).status).toBe(status);
    fake.expectNoUnexpectedCalls();
  });

  it('throws a retryable error when GitHub cannot be reached', async () => {
    const url = fake.url;
    await fake.close();
    const s = createGithubStatuses({ token: 'ghp_good', apiUrl: url, log });
    await expect(s.set(repo, sha, onTrainStatus(1))).rejects.toBeInstanceOf(RetryableGithubError);
    fake = await startFakeGithub();
  });

  it('is refused by the fake with a wrong token (401, not permanent)', async () => {
    const err = await statuses('ghp_wrong')
      .set(repo, sha, onTrainStatus(1))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableGithubError);
    expect((err as RetryableGithubError).status).toBe(401);
    expect(fake.statuses).toEqual([]);
    expect(() => fake.expectNoUnexpectedCalls()).toThrow(/wrong token/);
    acknowledgeFakeProblems(); // provoked on purpose
  });
});

describe('the fake GitHub is strict', () => {
  it('refuses an unknown route with 404 and records it', async () => {
    const res = await fetch(`${fake.url}/repos/acme/web/commits`, { headers: { authorization: 'token ghp_good' } });
    expect(res.status).toBe(404);
    expect(() => fake.expectNoUnexpectedCalls()).toThrow(/unexpected GET \/repos\/acme\/web\/commits/);
    acknowledgeFakeProblems(); // provoked on purpose
  });

  it('refuses an invalid status body with 422', async () => {
    const res = await fetch(`${fake.url}/repos/acme/web/statuses/${sha}`, {
      method: 'POST',
      headers: { authorization: 'Bearer ghp_good', 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'done', description: 'y'.repeat(141) }),
    });
    expect(res.status).toBe(422);
    expect(() => fake.expectNoUnexpectedCalls()).toThrow(/state "done".*context must be.*141 characters/);
    acknowledgeFakeProblems(); // provoked on purpose
  });

  it('reports failNext answers that were never used', () => {
    fake.failNext(500, 2);
    expect(() => fake.expectNoUnexpectedCalls()).toThrow(/2 failNext/);
    acknowledgeFakeProblems(); // provoked on purpose
  });
});
