// The insights read model (docs/behaviour.md §7) on a history made by the real
// engine with a clock the test moves, so every figure has a known answer:
// five trains on one day, with a revert, a rollback, a derail with a reason
// and an emergency reset; an empty period; a line that never deployed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InsightsJson, readInsights } from '../../src/engine/read/insights.js';
import { ADMIN, engineHarness, type Harness } from '../support/engine-harness.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const DAN = 'dan@example.com';
const ERIN = 'erin@example.com';

const T = Date.parse('2026-11-10T08:00:00Z');
const MIN = 60_000;
const H = 60 * MIN;

let h: Harness;

async function ok(p: Promise<{ ok: boolean; text: string }>): Promise<void> {
  const r = await p;
  if (!r.ok) throw new Error(r.text);
}

/** Start (admin), build, verification by the authors, deploy, at the given minutes after `startAt`. */
async function ship(n: number, startAt: number, authors: string[], at = { built: 10, verified: 30, deploy: 35, deployed: 50 }): Promise<void> {
  h.set(new Date(startAt));
  await ok(h.cmd(ADMIN, 'start', 'web'));
  h.set(new Date(startAt + at.built * MIN));
  await h.finishJob('web', n, 'build');
  h.set(new Date(startAt + at.verified * MIN));
  for (const a of authors) await ok(h.cmd(a, 'verify', 'web'));
  h.set(new Date(startAt + at.deploy * MIN));
  await ok(h.cmd(ADMIN, 'deploy', 'web'));
  h.set(new Date(startAt + at.deployed * MIN));
  await h.finishJob('web', n, 'deploy');
}

beforeAll(async () => {
  h = await engineHarness({
    start: new Date(T),
    lines: [
      { name: 'web', mode: 'manual' },
      { name: 'api', mode: 'manual' },
    ],
  });
  // Train 1: pushed at T, started an hour later, deployed at T+1h50.
  const [aliceSha] = await h.push('web', [ALICE]);
  await ship(1, T + H, [ALICE]);
  // Train 2 (T+2h → T+3h50); at T+4h Bob reverts his deployed commit: train 2 failed.
  h.set(new Date(T + 2 * H));
  const [bobSha] = await h.push('web', [BOB, CAROL]);
  await ship(2, T + 3 * H, [BOB, CAROL]);
  h.set(new Date(T + 4 * H));
  await ok(h.cmd(BOB, `revert ${bobSha}`, 'web'));
  // Train 3 (T+5h → T+6h50) restores production (2 h 50 min after the revert); at T+7h it is rolled back to train 2, done 10 min later.
  h.set(new Date(T + 5 * H));
  await h.push('web', [DAN]);
  await ship(3, T + 6 * H, [DAN]);
  // A revert of train 1's commit while train 3 runs in production: not one of train 3's commits, so not its failure.
  h.set(new Date(T + 6 * H + 55 * MIN));
  await ok(h.cmd(ALICE, `revert ${aliceSha}`, 'web'));
  h.set(new Date(T + 7 * H));
  await ok(h.cmd(ADMIN, 'rollback 2', 'web'));
  h.set(new Date(T + 7 * H + 10 * MIN));
  await h.finishJob('web', 2, 'rollback');
  // Train 4 (pushed T+8h, started T+9h) is derailed at T+9h20: its commit waits again until train 5 starts at T+10h05.
  h.set(new Date(T + 8 * H));
  await h.push('web', [ERIN]);
  h.set(new Date(T + 9 * H));
  await ok(h.cmd(ADMIN, 'start', 'web'));
  h.set(new Date(T + 9 * H + 10 * MIN));
  await h.finishJob('web', 4, 'build');
  h.set(new Date(T + 9 * H + 20 * MIN));
  await ok(h.cmd(ADMIN, 'derail flaky tests', 'web'));
  await ship(5, T + 10 * H + 5 * MIN, [ERIN]);
  // T+11h: an emergency reset after train 5's deploy (T+10h55); nothing deploys after it.
  h.set(new Date(T + 11 * H));
  await ok(h.cmd(ADMIN, 'emergency bad config', 'web'));
}, 60_000);
afterAll(() => h?.close());

async function insights(line: string, days: number, now: string): Promise<InsightsJson> {
  h.set(new Date(now));
  return readInsights(h.engine, line, days);
}

describe('insights of a seeded day', () => {
  it('counts deployments and their frequency (the derailed train is not one)', async () => {
    const i = await insights('web', 30, '2026-11-20T10:00:00Z');
    expect(i).toMatchObject({ line: 'web', days: 30, deployments: 4, deploymentsPerDay: 0.13, deploymentsPerWeek: 0.93, bucket: 'day', timezone: 'UTC' });
    expect(i.trend).toHaveLength(31);
    expect(i.trend.find((b) => b.start === '2026-11-10')).toEqual({ start: '2026-11-10', deployments: 4, failures: 3, leadTimeSeconds: { p50: 6600, p90: 8940 } });
    expect(i.trend.filter((b) => b.deployments > 0)).toHaveLength(1);
  });

  it('lead time: from first seen to production, per commit (p50, p90)', async () => {
    const i = await insights('web', 30, '2026-11-20T10:00:00Z');
    // Four commits took 1 h 50 min; Erin's waited through the derail: 2 h 55 min. percentile_cont interpolates.
    expect(i.leadTimeSeconds).toEqual({ p50: 6600, p90: 8940, commits: 5 });
  });

  it('change failure rate and time to restore: a revert, a rollback, an emergency reset', async () => {
    const i = await insights('web', 30, '2026-11-20T10:00:00Z');
    expect(i.failedDeployments).toBe(3);
    expect(i.changeFailureRate).toBe(0.75);
    expect(i.failures).toEqual([
      { train: 2, deployedAt: iso(T + 3 * H + 50 * MIN), signal: 'revert', signalAt: iso(T + 4 * H), restoredAt: iso(T + 6 * H + 50 * MIN), restoreSeconds: 10_200 },
      { train: 3, deployedAt: iso(T + 6 * H + 50 * MIN), signal: 'rollback', signalAt: iso(T + 7 * H), restoredAt: iso(T + 7 * H + 10 * MIN), restoreSeconds: 600 },
      { train: 5, deployedAt: iso(T + 10 * H + 55 * MIN), signal: 'emergency', signalAt: iso(T + 11 * H), restoredAt: null, restoreSeconds: null },
    ]);
    expect(i.timeToRestoreSeconds).toEqual({ p50: 5400, p90: 9240, restored: 2, open: 1 });
  });

  it('where the time goes: build, verification, waiting, deploy', async () => {
    const i = await insights('web', 30, '2026-11-20T10:00:00Z');
    expect(i.steps).toEqual({
      buildSeconds: { p50: 600, p90: 600 },
      verificationSeconds: { p50: 1200, p90: 1200 },
      waitingToDeploySeconds: { p50: 300, p90: 300 },
      deploySeconds: { p50: 900, p90: 900 },
    });
  });

  it('derails with their reasons', async () => {
    const i = await insights('web', 30, '2026-11-20T10:00:00Z');
    expect(i.derails).toEqual({
      count: 1,
      extended: 0,
      reasons: [{ reason: 'flaky tests', count: 1 }],
      recent: [{ train: 4, at: iso(T + 9 * H + 20 * MIN), reason: 'flaky tests' }],
    });
  });

  it('platform length over time, a derailed train giving its commit back', async () => {
    const i = await insights('web', 7, '2026-11-15T10:00:00Z');
    expect(i.platform.sampleHours).toBe(2);
    const at = (hours: number) => i.platform.points.find((p) => p.at === iso(T + hours * H))?.commits;
    expect([at(0), at(2), at(4), at(8), at(10), at(12)]).toEqual([1, 2, 0, 1, 1, 0]);
    expect(i.platform).toMatchObject({ now: 0, max: 2 });
    expect(i.platform.points).toHaveLength(85);
  });

  it('an empty period: zeros and nulls', async () => {
    const i = await insights('web', 7, '2026-12-01T10:00:00Z');
    expect(i).toMatchObject({
      deployments: 0,
      deploymentsPerDay: 0,
      leadTimeSeconds: { p50: null, p90: null, commits: 0 },
      changeFailureRate: null,
      failedDeployments: 0,
      timeToRestoreSeconds: { p50: null, p90: null, restored: 0, open: 0 },
      steps: { buildSeconds: { p50: null, p90: null } },
      derails: { count: 0, reasons: [], recent: [] },
      platform: { now: 0, max: 0 },
    });
    expect(i.trend).toHaveLength(8);
    expect(i.trend.every((b) => b.deployments === 0 && b.leadTimeSeconds.p50 === null)).toBe(true);
  });

  it('a line that never deployed', async () => {
    const i = await insights('api', 90, '2026-11-20T10:00:00Z');
    expect(i).toMatchObject({ line: 'api', days: 90, bucket: 'week', deployments: 0, changeFailureRate: null, leadTimeSeconds: { p50: null } });
    expect(i.trend.length).toBeGreaterThanOrEqual(13);
  });

  it('a period that starts after a deploy does not count it', async () => {
    // From T+5h: trains 3 and 5 only; train 3 was rolled back, train 5 reset.
    h.set(new Date(T + 29 * H));
    const i = await readInsights(h.engine, 'web', 1);
    expect(i).toMatchObject({ deployments: 2, failedDeployments: 2, changeFailureRate: 1 });
  });
});

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
