import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startTestApp } from '../support/app-harness.js';

describe('POST /api/command: an Idempotency-Key replays only the request it was first used for', () => {
  let t: RunningApp;
  let base: string;
  const post = (key: string, body: Record<string, unknown>) => fetch(`${base}/api/command`, { method: 'POST', headers: { 'idempotency-key': key }, body: JSON.stringify(body) });
  beforeAll(async () => {
    t = await startTestApp();
    base = `http://127.0.0.1:${t.app.port}`;
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('replays the same request, and answers 422 to another request with the same key, changing nothing', async () => {
    const first = await post('k-1', { user: 'admin@example.com', text: 'mode manual' });
    expect(first.status).toBe(200);
    const answer = await first.json();
    expect(answer).toMatchObject({ ok: true });
    expect((await t.status('demo')).mode).toBe('manual');

    const again = await post('k-1', { user: 'Admin@example.com', text: 'mode manual' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(answer);

    for (const other of [
      { user: 'admin@example.com', text: 'mode schedule' },
      { user: 'admin@example.com', text: 'mode manual', line: 'demo' },
    ]) {
      const reused = await post('k-1', other);
      expect(reused.status).toBe(422);
      expect(await reused.json()).toMatchObject({ ok: false, error: expect.stringMatching(/already used for a different request/) });
    }
    expect((await t.status('demo')).mode).toBe('manual');
  });

  it('also for a key whose first request was refused', async () => {
    const refused = await post('k-2', { user: 'stranger@example.com', text: 'mode schedule' });
    expect(refused.status).toBe(200);
    expect(await refused.json()).toMatchObject({ ok: false });
    const reused = await post('k-2', { user: 'stranger@example.com', text: 'mode manual' });
    expect(reused.status).toBe(422);
    // Another person's key of the same name is theirs: keys are per user.
    const theirs = await post('k-2', { user: 'admin@example.com', text: 'mode schedule' });
    expect(theirs.status).toBe(200);
    expect((await t.status('demo')).mode).toBe('schedule');
  });
});
