// 1. Command API round-trip: the whole app (startApp) on 127.0.0.1, hammered
// with POST /api/command by 1 and by 20 concurrent clients (node's fetch,
// keep-alive). The mix: status, queue, verify by someone with no ticket (a
// refusal that still takes the line lock) and history, on a line with a train
// waiting for verification and three commits on the platform.
import path from 'node:path';
import { startBenchApp, waitFor } from './support/app.js';
import { createRepository } from './support/git.js';
import { ms, type Summary, summarise, table } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const KINDS = [
  { kind: 'status', user: 'alice@example.com', text: 'status', expectOk: true },
  { kind: 'queue', user: 'bob@example.com', text: 'queue', expectOk: true },
  { kind: 'verify (refused)', user: 'carol@example.com', text: 'verify', expectOk: false },
  { kind: 'history', user: 'alice@example.com', text: 'history 20', expectOk: true },
] as const;

const LEVELS = [
  { clients: 1, requests: 2_000, seconds: 30 },
  { clients: 20, requests: 4_000, seconds: 30 },
];
const WARMUP = 300;

interface Sample {
  kind: string;
  ms: number;
}

interface LevelResult {
  clients: number;
  requests: number;
  errors: number;
  seconds: number;
  throughput: number;
  all: Summary;
  byKind: Record<string, Summary>;
}

export const commandApi: Benchmark = {
  name: 'command-api',
  title: 'Command API round-trip (POST /api/command on the whole app)',
  budgetSeconds: 100,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const db = await ctx.server.scratch('command_api');
    const repo = await createRepository(path.join(ctx.tmpDir, 'repo'));
    const { app, line } = await startBenchApp({ dataDir: path.join(ctx.tmpDir, 'data'), databaseUrl: db.url, repo: repo.bare, log: ctx.appLog });
    try {
      // A realistic line: a train of two authors waiting for verification, three commits queued behind it.
      await repo.push({ name: 'Alice', email: 'alice@example.com' }, ['Add the login page']);
      await repo.push({ name: 'Bob', email: 'bob@example.com' }, ['Fix the footer']);
      await app.scheduler.fetchNow(line);
      await waitFor('train #1 to reach verification', async () => {
        const t = await db.prisma.train.findFirst({ where: { number: 1 } });
        return t?.state === 'verifying';
      });
      await repo.push({ name: 'Alice', email: 'alice@example.com' }, ['Tweak the login copy', 'Add a test']);
      await repo.push({ name: 'Bob', email: 'bob@example.com' }, ['Bump a dependency']);
      await app.scheduler.fetchNow(line);
      const platform = await db.prisma.commit.count({ where: { state: 'platform' } });
      if (platform !== 3) throw new Error(`expected 3 commits on the platform, found ${platform}`);

      const url = `${app.url}/api/command`;
      const call = async (i: number): Promise<Sample & { error?: string }> => {
        const k = KINDS[i % KINDS.length]!;
        const t0 = performance.now();
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user: k.user, line, text: k.text }),
        });
        const body = (await res.json()) as { ok?: boolean; text?: string };
        const took = performance.now() - t0;
        let error: string | undefined;
        if (res.status !== 200) error = `HTTP ${res.status}`;
        else if (body.ok !== k.expectOk) error = `${k.kind}: ok=${String(body.ok)} ${body.text ?? ''}`;
        return { kind: k.kind, ms: took, error };
      };

      ctx.progress(`warm-up: ${WARMUP} requests`);
      await drive(call, 4, WARMUP, ctx.deadline);

      const levels: LevelResult[] = [];
      for (const level of LEVELS) {
        ctx.progress(`${level.clients} client(s): up to ${level.requests} requests or ${level.seconds} s`);
        const until = Math.min(ctx.deadline, Date.now() + level.seconds * 1000);
        const t0 = performance.now();
        const { samples, errors } = await drive(call, level.clients, level.requests, until);
        const seconds = (performance.now() - t0) / 1000;
        const byKind: Record<string, Summary> = {};
        for (const k of KINDS) byKind[k.kind] = summarise(samples.filter((s) => s.kind === k.kind).map((s) => s.ms));
        levels.push({
          clients: level.clients,
          requests: samples.length,
          errors: errors.length,
          seconds,
          throughput: samples.length / seconds,
          all: summarise(samples.map((s) => s.ms)),
          byKind,
        });
        if (errors.length) ctx.log.warn({ first: errors.slice(0, 3), count: errors.length }, 'unexpected answers');
      }

      const rows: (string | number)[][] = [['clients', 'requests', 'errors', 'req/s', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms']];
      for (const l of levels) rows.push([String(l.clients), l.requests, l.errors, Math.round(l.throughput), ms(l.all.mean), ms(l.all.p50), ms(l.all.p90), ms(l.all.p99), ms(l.all.max)]);
      const kindRows: (string | number)[][] = [['command', ...levels.flatMap((l) => [`p50 @${l.clients}`, `p99 @${l.clients}`])]];
      for (const k of KINDS) kindRows.push([k.kind, ...levels.flatMap((l) => [ms(l.byKind[k.kind]!.p50), ms(l.byKind[k.kind]!.p99)])]);
      const text = `${table(rows)}\n\n  By command (ms):\n${table(kindRows)}`;

      return {
        text,
        json: Object.fromEntries(
          levels.map((l) => [
            `c${l.clients}`,
            {
              requests: l.requests,
              errors: l.errors,
              reqPerSec: Math.round(l.throughput),
              meanMs: ms(l.all.mean),
              p50Ms: ms(l.all.p50),
              p90Ms: ms(l.all.p90),
              p99Ms: ms(l.all.p99),
              maxMs: ms(l.all.max),
              byCommand: Object.fromEntries(Object.entries(l.byKind).map(([k, s]) => [k, { p50Ms: ms(s.p50), p99Ms: ms(s.p99) }])),
            },
          ]),
        ),
        headline: levels.flatMap((l): [string, number, string][] => [
          [`command API p50 @${l.clients} client${l.clients === 1 ? '' : 's'}`, ms(l.all.p50), 'ms'],
          [`command API p99 @${l.clients} client${l.clients === 1 ? '' : 's'}`, ms(l.all.p99), 'ms'],
          [`command API throughput @${l.clients} client${l.clients === 1 ? '' : 's'}`, Math.round(l.throughput), 'req/s'],
        ]),
      };
    } finally {
      await app.stop();
      await db.drop();
    }
  },
};

/** `clients` loops, each sending one request at a time, until `total` requests were sent or `until` passed. */
async function drive(call: (i: number) => Promise<Sample & { error?: string }>, clients: number, total: number, until: number): Promise<{ samples: Sample[]; errors: string[] }> {
  const samples: Sample[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total && Date.now() < until) {
      const i = next++;
      try {
        const s = await call(i);
        if (s.error) errors.push(s.error);
        samples.push({ kind: s.kind, ms: s.ms });
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return { samples, errors };
}
