// GitHub push webhooks: throughput, zero lost commits, push → build latency.
// Conductor runs whole (startApp, GITHUB_WEBHOOK_SECRET set) with lines that
// watch branches of one bare repository holding real commit chains made by
// `git fast-import` (bench/support/github-chains.ts). Before the webhook of a
// commit is sent, the branch is moved to that commit (as on GitHub), so the
// git fetch Conductor falls back to for an out-of-order delivery is real too.
// Each webhook is a signed push of ONE commit whose `before` is the previous
// one of the chain. GitHub's side (the sends, the branch moves, the timing)
// runs in a child process (support/push-sender.ts), as GitHub is another
// machine; it still shares the 2 cores.
//   a) one line (manual mode: no train is made), pushes sent in chain order
//      with 1, 16 and 64 in flight. Deliveries that arrive while the line's
//      transaction runs are recorded together in the next one (group commit,
//      src/engine/coalescer.ts), put back in branch order first; a delivery
//      that still does not continue the known head is refused by
//      recordPushes and answered 200 while a git fetch records the commits
//      ("fallbacks"). Each level gets its own fresh line (a manual line keeps
//      every commit on the platform, and the platform is loaded by every
//      transaction).
//   b) 20 lines in parallel, one chain each, one push at a time per line; then
//      20 other lines with 8 in flight each.
//   After each, every pushed SHA must be recorded exactly once on its line, in
//   branch order (commit rows counted in the database).
//   c) push → build triggered: a schedule-mode line (auto-time 24/7, no train
//      going), one robot commit per round; from sending the webhook to the
//      build's job row (its created_at, and first seen by polling), to the job
//      marked started (started_at), and to the build command itself running
//      (it writes `date +%s%3N` to a file). Each round's train is then
//      deployed, so the next push finds no train going.
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from './support/app.js';
import { GITHUB_ADMIN, GITHUB_ROBOT, type GithubConductor, type SignedPush, signedCommitPush, startGithubConductor } from './support/github-app.js';
import { type Chain, type ChainRepo, type ChainSpec, createChains } from './support/github-chains.js';
import { sendPushes } from './support/push-sender.js';
import { ms, type Summary, summarise, table } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

/** One line, pushes in flight: each level on its own fresh line, bounded by count and time. */
const ONE_LINE = [
  { inFlight: 1, max: 3000 },
  { inFlight: 16, max: 6000 },
  { inFlight: 64, max: 12000 },
] as const;
const MANY_LINES = 20;
const MANY_PER_LINE = 400;
const MANY_IN_FLIGHT = 8;
const PHASE_SECONDS = 6;
const LATENCY_ROUNDS = 30;
const LATENCY_WARMUP = 2;
const AUTHORS = ['alice', 'bob', 'carol', 'dave', 'erin'];

interface PhaseResult {
  name: string;
  lines: number;
  inFlight: number;
  sent: number;
  seconds: number;
  perSecond: number;
  latency: Summary;
  /** Webhooks/s over the first and the last fifth of the sends (the platform grows on a manual line). */
  firstFifthPerSecond: number;
  lastFifthPerSecond: number;
  errors: string[];
  /** Deliveries refused as not continuing the known head (each queued a git fetch). */
  fallbacks: number;
  /** From the last answer until every commit was recorded and the head was the last one sent. */
  settleMs: number;
  recorded: number;
  lost: number;
  duplicates: number;
  misordered: number;
}

interface LatencyResult {
  response: Summary;
  jobCreated: Summary;
  jobSeen: Summary;
  jobStarted: Summary;
  commandRunning: Summary;
  cycle: Summary;
}

export const githubWebhook: Benchmark = {
  name: 'github-webhook',
  title: 'GitHub push webhooks: throughput on 1 and 20 lines (zero lost commits), push → build latency',
  budgetSeconds: 140,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const oneLines = ONE_LINE.map((p) => ({ ...p, line: `one-k${p.inFlight}` }));
    const many = Array.from({ length: MANY_LINES }, (_, i) => `many-${String(i + 1).padStart(2, '0')}`);
    const manyK = Array.from({ length: MANY_LINES }, (_, i) => `many${MANY_IN_FLIGHT}-${String(i + 1).padStart(2, '0')}`);
    const author = (i: number) => ({ name: AUTHORS[i % AUTHORS.length]!, email: `${AUTHORS[i % AUTHORS.length]!}@example.com` });
    const specs: ChainSpec[] = [
      ...oneLines.map((p) => ({ branch: p.line, count: p.max, author, message: (i: number) => `${p.line} change ${i + 1}` })),
      ...[...many, ...manyK].map((l) => ({ branch: l, count: MANY_PER_LINE, author, message: (i: number) => `${l} change ${i + 1}` })),
      {
        branch: 'sched',
        count: LATENCY_ROUNDS + LATENCY_WARMUP,
        author: () => ({ name: 'Bot', email: GITHUB_ROBOT }),
        message: (i: number) => `Automated update ${i + 1} [no-verify]`,
      },
    ];
    ctx.progress(`making ${specs.reduce((n, s) => n + s.count + 1, 0)} commits with git fast-import`);
    const repo = await createChains(path.join(ctx.tmpDir, 'repo'), specs);
    const marker = path.join(ctx.tmpDir, 'build-started');
    ctx.progress(`starting Conductor with ${specs.length} lines (GITHUB_WEBHOOK_SECRET set)`);
    const c = await startGithubConductor(ctx, {
      label: 'github_webhook',
      repo: repo.bare,
      lines: [
        ...oneLines.map((p) => ({ name: p.line, branch: p.line, mode: 'manual' as const })),
        ...[...many, ...manyK].map((l) => ({ name: l, branch: l, mode: 'manual' as const })),
        { name: 'sched', branch: 'sched', mode: 'schedule' as const, build: `date +%s%3N > ${JSON.stringify(marker)}` },
      ],
    });
    try {
      const phases: PhaseResult[] = [];
      for (const p of oneLines) {
        ctx.progress(`1 line, ${p.inFlight} in flight: up to ${p.max} pushes or ${PHASE_SECONDS} s`);
        phases.push(await runPhase(ctx, c, repo, `1 line, ${p.inFlight} in flight`, [p.line], p.inFlight, p.max));
      }
      ctx.progress(`${MANY_LINES} lines in parallel, 1 in flight each: up to ${MANY_PER_LINE} pushes per line or ${PHASE_SECONDS} s`);
      phases.push(await runPhase(ctx, c, repo, `${MANY_LINES} lines, 1 in flight each`, many, 1, MANY_PER_LINE));
      ctx.progress(`${MANY_LINES} lines in parallel, ${MANY_IN_FLIGHT} in flight each: up to ${MANY_PER_LINE} pushes per line or ${PHASE_SECONDS} s`);
      phases.push(await runPhase(ctx, c, repo, `${MANY_LINES} lines, ${MANY_IN_FLIGHT} in flight each`, manyK, MANY_IN_FLIGHT, MANY_PER_LINE));
      ctx.progress(`push → build triggered: ${LATENCY_ROUNDS} rounds on a schedule-mode line`);
      const latency = await latencyRounds(ctx, c, repo, repo.chains.get('sched')!, marker);
      return report(phases, latency);
    } finally {
      await c.stop();
    }
  },
};

async function runPhase(ctx: BenchContext, c: GithubConductor, repo: ChainRepo, name: string, lines: string[], inFlight: number, max: number): Promise<PhaseResult> {
  const tag = `${name.replace(/[^a-z0-9]+/gi, '-')}-${Date.now()}`;
  const chains = lines.map((l) => repo.chains.get(l)!);
  // Signed before the clock starts: the client's HMAC and JSON are not timed.
  const payloads = new Map<string, SignedPush[]>(
    chains.map((ch) => [
      ch.branch,
      ch.commits.slice(0, max).map((cm, i) => signedCommitPush(ch.branch, ch.branch, i === 0 ? ch.root : ch.commits[i - 1]!.sha, cm, `${tag}-${ch.branch}-${i}`)),
    ]),
  );
  // GitHub's side runs in its own process: its sends and branch moves are not charged to Conductor.
  const sender = await sendPushes(
    {
      url: c.app.url,
      bare: repo.bare,
      // One at a time, every push continues the head and no fetch happens: the branch is moved once at the end.
      advance: inFlight > 1,
      inFlight,
      durationMs: PHASE_SECONDS * 1000,
      deadline: ctx.deadline - 40_000,
      chains: chains.map((ch) => ({
        branch: ch.branch,
        pushes: payloads.get(ch.branch)!.map((p, i) => ({ body: p.body.toString('utf8'), headers: p.headers, sha: ch.commits[i]!.sha })),
      })),
    },
    ctx.tmpDir,
  );
  const { samples, doneAt, errors, seconds } = sender;
  const sent = new Map(Object.entries(sender.sent));
  const total = samples.length;

  // Settle: out-of-order deliveries left fetches behind them.
  const s0 = performance.now();
  await waitFor(
    `${name}: every pushed commit recorded`,
    async () => {
      for (const ch of chains) {
        const n = sent.get(ch.branch)!;
        const row = await c.db.prisma.line.findUnique({ where: { name: ch.branch }, select: { id: true, knownHeadSha: true } });
        if (!row || row.knownHeadSha !== ch.commits[n - 1]!.sha) return false;
        if ((await c.db.prisma.commit.count({ where: { lineId: row.id } })) < n) return false;
      }
      return true;
    },
    30_000,
    20,
  ).catch((err: Error) => errors.push(err.message));
  const settleMs = performance.now() - s0;

  // Every pushed SHA exactly once, in branch order.
  let recorded = 0;
  let lost = 0;
  let duplicates = 0;
  let misordered = 0;
  for (const ch of chains) {
    const n = sent.get(ch.branch)!;
    const want = ch.commits.slice(0, n).map((x) => x.sha);
    const rows = await c.db.prisma.commit.findMany({ where: { line: { name: ch.branch } }, select: { sha: true }, orderBy: { position: 'asc' } });
    recorded += rows.length;
    const got = rows.map((r) => r.sha);
    const gotSet = new Set(got);
    duplicates += got.length - gotSet.size;
    lost += want.filter((s) => !gotSet.has(s)).length;
    const extra = got.filter((s) => !want.includes(s)).length;
    if (extra) errors.push(`${ch.branch}: ${extra} commit(s) recorded that were not pushed`);
    const wantIndex = new Map(want.map((s, i) => [s, i]));
    const order = got.map((s) => wantIndex.get(s) ?? -1);
    for (let i = 1; i < order.length; i++) if (order[i]! <= order[i - 1]!) misordered++;
  }
  const fallbacks = Number(
    (await c.db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM processed_input WHERE key LIKE $1 AND reply::text LIKE '%fetching instead%'`, [`github:${tag}-%`])).rows[0]?.n ??
      0,
  );

  doneAt.sort((a, b) => a - b);
  const fifth = Math.max(1, Math.floor(total / 5));
  const rate = (from: number, to: number) => (to > from ? (to - from) / ((doneAt[to - 1]! - (from === 0 ? 0 : doneAt[from - 1]!)) / 1000) : Number.NaN);
  return {
    name,
    lines: lines.length,
    inFlight,
    sent: total,
    seconds,
    perSecond: total / seconds,
    latency: summarise(samples),
    firstFifthPerSecond: rate(0, fifth),
    lastFifthPerSecond: rate(total - fifth, total),
    errors,
    fallbacks,
    settleMs,
    recorded,
    lost,
    duplicates,
    misordered,
  };
}

async function latencyRounds(ctx: BenchContext, c: GithubConductor, repo: ChainRepo, chain: Chain, marker: string): Promise<LatencyResult> {
  const response: number[] = [];
  const jobCreated: number[] = [];
  const jobSeen: number[] = [];
  const jobStarted: number[] = [];
  const commandRunning: number[] = [];
  const cycle: number[] = [];
  const line = 'sched';
  const trainState = async (n: number) => (await c.db.prisma.train.findFirst({ where: { number: n, line: { name: line } }, select: { state: true } }))?.state;
  for (let round = 1; round <= chain.commits.length && Date.now() < ctx.deadline - 8_000; round++) {
    const commit = chain.commits[round - 1]!;
    const before = round === 1 ? chain.root : chain.commits[round - 2]!.sha;
    const req = signedCommitPush(line, line, before, commit, `latency-${Date.now()}-${round}`);
    fs.rmSync(marker, { force: true });
    repo.advance(line, commit.sha);
    const wall0 = Date.now();
    const t0 = performance.now();
    const r = await c.poster.post(req);
    if (r.status !== 200) throw new Error(`round ${round}: HTTP ${r.status} ${r.body}`);
    const job = await waitFor(
      `the build job of train #${round}`,
      async () => (await c.db.prisma.job.findFirst({ where: { kind: 'build', train: { number: round, line: { name: line } } }, select: { createdAt: true } })) ?? undefined,
      10_000,
      1,
    );
    const seen = performance.now() - t0;
    const started = await waitFor(
      `the build job of train #${round} to start`,
      async () => (await c.db.prisma.job.findFirst({ where: { kind: 'build', train: { number: round, line: { name: line } } }, select: { startedAt: true } }))?.startedAt ?? undefined,
      10_000,
      1,
    );
    const ran = await waitFor(
      `the build command of train #${round} to run`,
      async () => {
        try {
          const v = Number(fs.readFileSync(marker, 'utf8').trim());
          return Number.isFinite(v) && v > 0 ? v : undefined;
        } catch {
          return undefined;
        }
      },
      10_000,
      1,
    );
    if (round > LATENCY_WARMUP) {
      response.push(r.ms);
      jobCreated.push(job.createdAt.getTime() - wall0);
      jobSeen.push(seen);
      jobStarted.push(started.getTime() - wall0);
      commandRunning.push(ran - wall0);
    }
    const c0 = performance.now();
    await waitFor(`train #${round} to be delivered`, async () => (await trainState(round)) === 'verifying', 30_000, 5);
    const d = await c.api(GITHUB_ADMIN, line, 'deploy');
    if (!d.ok) throw new Error(`deploy of train #${round}: ${d.text}`);
    await waitFor(`train #${round} to be deployed`, async () => (await trainState(round)) === 'deployed', 30_000, 5);
    if (round > LATENCY_WARMUP) cycle.push(performance.now() - c0);
  }
  return {
    response: summarise(response),
    jobCreated: summarise(jobCreated),
    jobSeen: summarise(jobSeen),
    jobStarted: summarise(jobStarted),
    commandRunning: summarise(commandRunning),
    cycle: summarise(cycle),
  };
}

function report(phases: PhaseResult[], l: LatencyResult): BenchResult {
  const one = phases.find((p) => p.lines === 1 && p.inFlight === 1)!;
  const many = phases.find((p) => p.lines > 1 && p.inFlight === 1)!;
  const manyK = phases.find((p) => p.lines > 1 && p.inFlight > 1)!;
  const most = phases.filter((p) => p.lines === 1).sort((a, b) => b.inFlight - a.inFlight)[0]!;
  const throughput = table([
    ['run', 'sent', 's', 'webhooks/s', 'first 1/5 /s', 'last 1/5 /s', 'p50 ms', 'p99 ms', 'max ms', 'fallbacks', 'settle ms', 'lost', 'dupes', 'misordered', 'errors'],
    ...phases.map((p) => [
      p.name,
      p.sent,
      Math.round(p.seconds * 10) / 10,
      Math.round(p.perSecond),
      Math.round(p.firstFifthPerSecond),
      Math.round(p.lastFifthPerSecond),
      ms(p.latency.p50),
      ms(p.latency.p99),
      ms(p.latency.max),
      p.fallbacks,
      Math.round(p.settleMs),
      p.lost,
      p.duplicates,
      p.misordered,
      p.errors.length,
    ]),
  ]);
  const row = (name: string, s: Summary) => [name, s.n, ms(s.mean), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
  const latency = table([
    ['webhook sent → (schedule mode, no train going)', 'rounds', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
    row('HTTP 200 (train and build job committed)', l.response),
    row('build job row created_at', l.jobCreated),
    row('build job row seen (polling 1 ms)', l.jobSeen),
    row('build job started_at (runner started)', l.jobStarted),
    row('build command running (its own clock)', l.commandRunning),
    row('(between rounds: build → deploy → deployed)', l.cycle),
  ]);
  const errs = phases.flatMap((p) => [...new Set(p.errors)].slice(0, 3).map((e) => `  ${p.name}: ${e}`));
  const text = [
    throughput,
    '  fallbacks: deliveries that did not continue the known head (refused, answered 200, a git fetch recorded them).',
    '  lost/dupes/misordered: commit rows per line in the database against every SHA pushed.',
    '',
    latency,
    ...(errs.length ? ['', '  errors:', ...errs] : []),
  ].join('\n');
  const j = (s: Summary) => ({ n: s.n, meanMs: ms(s.mean), p50Ms: ms(s.p50), p90Ms: ms(s.p90), p99Ms: ms(s.p99), maxMs: ms(s.max) });
  const lostTotal = phases.reduce((n, p) => n + p.lost + p.duplicates, 0);
  return {
    text,
    json: {
      phases: phases.map((p) => ({
        name: p.name,
        lines: p.lines,
        inFlight: p.inFlight,
        sent: p.sent,
        seconds: Math.round(p.seconds * 100) / 100,
        perSecond: Math.round(p.perSecond),
        firstFifthPerSecond: Math.round(p.firstFifthPerSecond),
        lastFifthPerSecond: Math.round(p.lastFifthPerSecond),
        latency: j(p.latency),
        fallbacks: p.fallbacks,
        settleMs: Math.round(p.settleMs),
        recorded: p.recorded,
        lost: p.lost,
        duplicates: p.duplicates,
        misordered: p.misordered,
        errors: p.errors.length,
      })),
      pushToBuild: { response: j(l.response), jobCreated: j(l.jobCreated), jobSeen: j(l.jobSeen), jobStarted: j(l.jobStarted), commandRunning: j(l.commandRunning) },
    },
    headline: [
      ['github webhooks/s, 1 line sequential', Math.round(one.perSecond), '/s'],
      [`github webhooks/s, 1 line, ${most.inFlight} in flight`, Math.round(most.perSecond), '/s'],
      [`github webhook p99, 1 line, ${most.inFlight} in flight`, ms(most.latency.p99), 'ms'],
      [`github webhooks/s, ${many.lines} lines, 1 in flight each`, Math.round(many.perSecond), '/s'],
      [`github webhooks/s, ${manyK.lines} lines, ${manyK.inFlight} in flight each`, Math.round(manyK.perSecond), '/s'],
      ['github lost+duplicated commits (all runs)', lostTotal, 'commits'],
      ['github push → build job row p99', ms(l.jobSeen.p99), 'ms'],
      ['github push → build command running p99', ms(l.commandRunning.p99), 'ms'],
    ],
  };
}
