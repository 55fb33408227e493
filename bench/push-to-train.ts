// 2. Push seen → train created. The line is in schedule mode with auto-time
// 24/7 and no train going, so a new commit makes a train in the same
// transaction that records it (rule 3).
//   a) engine: one recordCommits call (what the fetch poller does), timed until
//      it returns; the train row is checked to exist afterwards.
//   b) the real poller path on the whole app: `git push` to the bare
//      repository, then `scheduler.fetchNow(line)` (git fetch + log +
//      recordCommits), timed until it returns with the train committed.
// Between rounds the train goes all the way (build → verify → deploy →
// deployed) so the next push finds no going train. (Derailing would not do: in
// schedule mode inside auto-time a derail starts a new train at once with the
// same commits.)
import path from 'node:path';
import { startBenchApp, waitFor } from './support/app.js';
import { assertOk, benchEngine, fakeCommits } from './support/engine.js';
import { createRepository } from './support/git.js';
import { ms, type Summary, summarise, table } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const ENGINE_ROUNDS = 50;
const APP_ROUNDS = 30;
const AUTHORS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.com'];

export const pushToTrain: Benchmark = {
  name: 'push-to-train',
  title: 'Push seen → train created (schedule mode, 24/7 auto-time)',
  budgetSeconds: 90,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const engine = await engineRounds(ctx);
    const poller = await pollerRounds(ctx);
    const row = (name: string, s: Summary) => [name, s.n, ms(s.mean), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
    const text = table([
      ['path', 'rounds', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      row('engine: recordCommits → train row', engine.latency),
      row('engine: deliver+verify+deploy cycle', engine.cycle),
      row('app: git push (1 commit)', poller.push),
      row('app: fetchNow → train row', poller.fetch),
      row('app: git push + fetchNow', poller.total),
    ]);
    const j = (s: Summary) => ({ rounds: s.n, meanMs: ms(s.mean), p50Ms: ms(s.p50), p90Ms: ms(s.p90), p99Ms: ms(s.p99), maxMs: ms(s.max) });
    return {
      text,
      json: { engineRecordCommits: j(engine.latency), appGitPush: j(poller.push), appFetchNow: j(poller.fetch), appPushPlusFetch: j(poller.total) },
      headline: [
        ['push→train (engine) p50', ms(engine.latency.p50), 'ms'],
        ['push→train (engine) p99', ms(engine.latency.p99), 'ms'],
        ['push→train (poller: fetchNow) p50', ms(poller.fetch.p50), 'ms'],
        ['push→train (poller: fetchNow) p99', ms(poller.fetch.p99), 'ms'],
      ],
    };
  },
};

async function engineRounds(ctx: BenchContext): Promise<{ latency: Summary; cycle: Summary }> {
  const db = await ctx.server.scratch('push_to_train');
  try {
    const e = await benchEngine(db, ctx.log, { mode: 'schedule' });
    const latency: number[] = [];
    const cycle: number[] = [];
    ctx.progress(`engine: ${ENGINE_ROUNDS} rounds`);
    for (let round = 1; round <= ENGINE_ROUNDS + 3 && Date.now() < ctx.deadline - 45_000; round++) {
      const author = AUTHORS[round % AUTHORS.length]!;
      const commits = fakeCommits([author], 'Fix a bug');
      const t0 = performance.now();
      assertOk(await e.push(commits), 'push');
      const took = performance.now() - t0;
      if (!(await e.trainExists(round))) throw new Error(`train #${round} was not created by the push`);
      if (round > 3) latency.push(took); // the first rounds warm up

      const c0 = performance.now();
      assertOk(await e.finishJob(round, 'build'), 'build result');
      assertOk(await e.cmd(author, 'verify'), 'verify');
      assertOk(await e.cmd(author, 'deploy'), 'deploy'); // the only author is the engineer
      assertOk(await e.finishJob(round, 'deploy'), 'deploy result');
      if (round > 3) cycle.push(performance.now() - c0);
    }
    return { latency: summarise(latency), cycle: summarise(cycle) };
  } finally {
    await db.drop();
  }
}

async function pollerRounds(ctx: BenchContext): Promise<{ push: Summary; fetch: Summary; total: Summary }> {
  const db = await ctx.server.scratch('push_to_train_app');
  const repo = await createRepository(path.join(ctx.tmpDir, 'repo'));
  const { app, line } = await startBenchApp({ dataDir: path.join(ctx.tmpDir, 'data'), databaseUrl: db.url, repo: repo.bare, log: ctx.appLog });
  try {
    const push: number[] = [];
    const fetch: number[] = [];
    const total: number[] = [];
    // The robot's commits need no verification and the train has no engineer: the admin deploys it.
    const robot = { name: 'Bot', email: 'bot@example.com' };
    const admin = app.engine.deps.config.policy.admins[0]!;
    ctx.progress(`app: up to ${APP_ROUNDS} rounds through git push + fetchNow`);
    for (let round = 1; round <= APP_ROUNDS + 2 && Date.now() < ctx.deadline - 5_000; round++) {
      const t0 = performance.now();
      await repo.push(robot, [`Automated update ${round} [no-verify]`]);
      const t1 = performance.now();
      await app.scheduler.fetchNow(line);
      const t2 = performance.now();
      const train = await db.prisma.train.findFirst({ where: { number: round } });
      if (!train) throw new Error(`train #${round} was not created by the push`);
      if (round > 2) {
        push.push(t1 - t0);
        fetch.push(t2 - t1);
        total.push(t2 - t0);
      }
      // Let it run: the build job (`true`) runs through the outbox and the shell runner.
      await waitFor(`train #${round} to be delivered`, async () => (await db.prisma.train.findFirst({ where: { number: round } }))?.state === 'verifying', 30_000);
      const r = await fetchCommand(app.url, admin, 'deploy');
      if (!r.ok) throw new Error(`deploy of train #${round}: ${r.text}`);
      await waitFor(`train #${round} to be deployed`, async () => (await db.prisma.train.findFirst({ where: { number: round } }))?.state === 'deployed', 30_000);
    }
    return { push: summarise(push), fetch: summarise(fetch), total: summarise(total) };
  } finally {
    await app.stop();
    await db.drop();
  }
}

async function fetchCommand(base: string, user: string, text: string): Promise<{ ok: boolean; text: string }> {
  const res = await fetch(`${base}/api/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, text }),
  });
  return (await res.json()) as { ok: boolean; text: string };
}
