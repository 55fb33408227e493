// Job results (src/engine/job-results.ts): recorded through the engine, retried
// while that fails, and the retries end at stop rather than keeping the process busy.
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { JobResults } from '../../src/engine/job-results.js';
import { engineHarness, type Harness } from '../support/engine-harness.js';

const result = { jobId: 4242, succeeded: true, output: 'ok', exitCode: 0, timedOut: false };

describe('JobResults', () => {
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
  });

  it('stop ends a retry that waits for the engine at once', async () => {
    const results = new JobResults({ log: pino({ level: 'silent' }), retryDelayMs: () => 60_000 });
    let settled = false;
    let refusal: unknown;
    // It settles by rejecting: the result was not recorded, so a runner that keeps results keeps it.
    const delivering = results.deliver(result).then(
      () => (settled = true),
      (err: unknown) => ((settled = true), (refusal = err)),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false); // waiting for its next attempt (no engine yet)

    const started = Date.now();
    await results.stop();
    await delivering;

    expect(settled).toBe(true);
    expect(String(refusal)).toContain('stopping before the result of job');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('hands the result to the engine once it is attached', async () => {
    h = await engineHarness();
    const lines: { msg: string; jobId?: number; applied?: boolean }[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const results = new JobResults({ log, retryDelayMs: () => 20 });
    const delivering = results.deliver(result);
    await new Promise((r) => setTimeout(r, 50));
    results.attach(h.engine);
    await delivering;

    // An unknown job: the engine answers (nothing to apply), and the result is not retried any more.
    expect(lines.filter((l) => l.msg === 'job finished')).toEqual([expect.objectContaining({ jobId: 4242, applied: false })]);
    expect(lines.filter((l) => l.msg === 'could not record a job result; retrying').length).toBeGreaterThan(0);
  });
});
