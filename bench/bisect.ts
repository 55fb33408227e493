// Culprit finding (behaviour.md §8): a train of n commits whose build fails at
// commit k; the build takes 1 s (`sleep 1`, then it fails when the commit is one
// of the bad ones). Measured on the whole app (real git, the local runner, the
// outbox): the time from the train's failed build to the culprit named, and the
// builds the search used, against the bound ⌈log₂ n⌉ + 2 and against building
// the commits one by one (oldest first: k + 1 builds; every commit: n builds).
import fs from 'node:fs/promises';
import path from 'node:path';
import { maxBuilds } from '../src/domain/bisect.js';
import { startBenchApp, waitFor } from './support/app.js';
import { createRepository } from './support/git.js';
import { table } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const SIZES = [8, 33, 128];
const BUILD_SECONDS = 1;

interface Run {
  n: number;
  k: number;
  builds: number;
  bound: number;
  seconds: number;
  found: boolean;
}

export const bisect: Benchmark = {
  name: 'bisect',
  title: `Culprit finding: time to the culprit and builds used (${BUILD_SECONDS} s build, 2 at once)`,
  budgetSeconds: 240,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const runs: Run[] = [];
    for (const n of SIZES) {
      // The culprit early, in the middle and last: the search's cost hardly depends on where.
      for (const k of [1, Math.floor(n / 2), n - 1]) {
        if (Date.now() > ctx.deadline - 30_000) break;
        ctx.progress(`n = ${n}, culprit at ${k}`);
        runs.push(await once(ctx, n, k));
      }
    }
    const rows = runs.map((r) => [
      r.n,
      r.k,
      r.found ? 'yes' : 'NO',
      r.builds,
      r.bound,
      (Math.round(r.seconds * 10) / 10).toFixed(1),
      r.k + 1,
      ((r.k + 1) * BUILD_SECONDS).toFixed(0),
      r.n,
      (r.n * BUILD_SECONDS).toFixed(0),
    ]);
    const text = table([
      ['commits', 'culprit at', 'found', 'builds', 'bound', 'time to culprit s', 'one by one: builds', 'one by one: s', 'every commit: builds', 'every commit: s'],
      ...rows,
    ]);
    const worst = (n: number) => runs.filter((r) => r.n === n).reduce((m, r) => (r.seconds > m.seconds ? r : m), { seconds: 0, builds: 0 } as Pick<Run, 'seconds' | 'builds'>);
    return {
      text,
      json: { buildSeconds: BUILD_SECONDS, runs },
      headline: SIZES.flatMap((n): [string, number, string][] => [
        [`bisect n=${n}: slowest time to culprit`, Math.round(worst(n).seconds * 10) / 10, 's'],
        [`bisect n=${n}: most builds (bound ${maxBuilds(n)})`, Math.max(0, ...runs.filter((r) => r.n === n).map((r) => r.builds)), 'builds'],
      ]),
    };
  },
};

async function once(ctx: BenchContext, n: number, k: number): Promise<Run> {
  const db = await ctx.server.scratch(`bisect_${n}_${k}`);
  const dir = path.join(ctx.tmpDir, `n${n}-k${k}`);
  const repo = await createRepository(path.join(dir, 'repo'));
  const badList = path.join(dir, 'bad-shas');
  await fs.writeFile(badList, '');
  const { app, line } = await startBenchApp({
    dataDir: path.join(dir, 'data'),
    databaseUrl: db.url,
    repo: repo.bare,
    log: ctx.appLog,
    build: `sleep ${BUILD_SECONDS}; ! grep -qx "$SHA" ${JSON.stringify(badList)}`,
  });
  try {
    const authors = ['alice', 'bob', 'carol', 'dave'].map((a) => ({ name: a, email: `${a}@example.com` }));
    const shas: string[] = [];
    // One push of n commits, several authors.
    const messages = Array.from({ length: n }, (_, i) => `Change ${i}`);
    for (let i = 0; i < n; i += 8) shas.push(...(await repo.push(authors[(i / 8) % authors.length]!, messages.slice(i, i + 8))));
    await fs.writeFile(badList, `${shas.slice(k).join('\n')}\n`);
    await app.scheduler.fetchNow(line);
    const train = await waitFor(
      'the search to end',
      async () => {
        const t = await db.prisma.train.findFirst({ where: { number: 1 }, include: { jobs: true } });
        const b = t?.bisect as { state: string; builds: number; culprit: { sha: string } | null; endedAt: string | null } | null | undefined;
        return t && b && b.state !== 'running' ? { t, b } : undefined;
      },
      180_000,
      50,
    );
    const failedAt = train.t.jobs.find((j) => j.kind === 'build')?.finishedAt;
    const endedAt = train.b.endedAt ? new Date(train.b.endedAt) : null;
    return {
      n,
      k,
      builds: train.b.builds,
      bound: maxBuilds(n),
      seconds: failedAt && endedAt ? (endedAt.getTime() - failedAt.getTime()) / 1000 : Number.NaN,
      found: train.b.state === 'found' && train.b.culprit?.sha === shas[k],
    };
  } finally {
    await app.stop();
    await db.drop();
  }
}
