// Web App pages: the server time of the overview with 50 lines and of a train
// page with 5,000 commits by 300 authors, measured over HTTP on loopback
// (keep-alive, signed in), with the HTML size. The engine runs without git or
// runners: commits are recorded as the fetch poller records them and jobs are
// reported as the runner reports them, so only the pages are measured.
import type { Logger } from 'pino';
import { executeCommand } from '../src/engine/commands.js';
import { Engine } from '../src/engine/engine.js';
import { ensureLine, jobFinished, recordCommits } from '../src/engine/inputs.js';
import type { FeatureContext } from '../src/feature.js';
import { startHttpServer } from '../src/http/server.js';
import { webFeature } from '../src/web/feature.js';
import type { ScratchDatabase } from './support/database.js';
import { ADMIN, ALWAYS, assertOk, fakeCommits, ROBOT, rootSha } from './support/engine.js';
import { ms, summarise, table } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const LINES = 50;
const COMMITS = 5_000;
const AUTHORS = 300;
const REQUESTS = 200;
const TARGET_P99_MS = 100;

async function multiLineEngine(db: ScratchDatabase, log: Logger, names: string[]): Promise<Engine> {
  for (const name of names) {
    await ensureLine(db.prisma, { name, repo: `/nonexistent/${name}.git`, branch: 'main', mode: 'manual', autoTime: ALWAYS, freezes: [], timezone: 'UTC' }, async () => rootSha(name));
  }
  return new Engine({
    db: db.prisma,
    pool: db.pool,
    config: {
      lines: names.map((name) => ({ name, branch: 'main', maxCommits: null, reminderMinutes: 30, timeouts: { build: 10, deploy: 20, rollback: 20 } })),
      policy: { admins: [ADMIN], robots: [ROBOT] },
      publicUrl: 'http://127.0.0.1:3000',
    },
    clock: () => new Date(),
    random: Math.random,
    log,
  });
}

/** Records `authors.length` commits on a line, starts a train and lets its build succeed (tickets are requested). */
async function trainOn(engine: Engine, db: ScratchDatabase, line: string, authors: string[]): Promise<void> {
  const since = (await db.prisma.line.findUniqueOrThrow({ where: { name: line } })).knownHeadSha;
  const commits = fakeCommits(authors, 'Change the thing in module X so that it behaves better under load');
  assertOk(await recordCommits(engine, line, since, { headSha: commits[commits.length - 1]!.sha, commits, rewritten: false }), `push on ${line}`);
  assertOk(await executeCommand(engine, { user: ADMIN, text: 'start', line }), `start on ${line}`);
  const job = await db.prisma.job.findFirstOrThrow({ where: { kind: 'build', train: { number: 1, line: { name: line } } } });
  assertOk(await jobFinished(engine, { jobId: job.id, succeeded: true, output: 'built', exitCode: 0, timedOut: false }), `build on ${line}`);
}

async function measure(url: string, cookie: string, n: number, deadline: number): Promise<{ samples: number[]; bytes: number }> {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n && Date.now() < deadline; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { cookie } });
    const body = await res.text();
    samples.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
    bytes = Buffer.byteLength(body);
  }
  return { samples, bytes };
}

export const webPages: Benchmark = {
  name: 'web-pages',
  group: 'web',
  title: `Web App pages: the overview of ${LINES} lines, a train page of ${COMMITS.toLocaleString('en-US')} commits by ${AUTHORS} authors`,
  budgetSeconds: 120,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const db = await ctx.server.scratch('web_pages');
    try {
      const names = Array.from({ length: LINES }, (_, i) => `line-${String(i + 1).padStart(2, '0')}`);
      const engine = await multiLineEngine(db, ctx.log, names);
      ctx.progress(`${LINES} lines, a train of 3 commits on every other one`);
      for (const [i, name] of names.entries()) if (i % 2 === 0 && i > 0) await trainOn(engine, db, name, ['a@example.com', 'b@example.com', 'c@example.com']);
      ctx.progress(`a train of ${COMMITS} commits by ${AUTHORS} authors on ${names[0]}`);
      const authors = Array.from({ length: AUTHORS }, (_, i) => `dev${String(i).padStart(3, '0')}@example.com`);
      await trainOn(
        engine,
        db,
        names[0]!,
        Array.from({ length: COMMITS }, (_, i) => authors[(i * 7919) % AUTHORS]!),
      );

      const web = webFeature({
        config: { env: { dataDir: ctx.tmpDir, publicUrl: 'http://127.0.0.1' } },
        engine,
        log: ctx.appLog,
        databaseUrl: db.url,
        lines: { ports: new Map() },
        options: {},
      } as unknown as FeatureContext)!;
      const http = await startHttpServer({ engine, pool: db.pool, log: ctx.appLog, port: 0, host: '127.0.0.1', extend: (router, metrics) => web.routes?.(router, metrics) });
      try {
        await web.start?.();
        const base = `http://127.0.0.1:${http.port}`;
        const signIn = await fetch(`${base}/auth/local`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
          body: new URLSearchParams({ email: 'dev001@example.com' }),
        });
        const cookie = signIn.headers.getSetCookie()[0]?.split(';')[0] ?? '';
        if (!cookie) throw new Error(`sign-in answered ${signIn.status} without a cookie`);
        // An admin sees every button the rules allow (src/web/actions): the most dry runs per page.
        const asAdmin = await fetch(`${base}/auth/local`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
          body: new URLSearchParams({ email: ADMIN }),
        });
        const adminCookie = asAdmin.headers.getSetCookie()[0]?.split(';')[0] ?? '';
        const pages = [
          { name: `overview, ${LINES} lines`, path: '/' },
          { name: `train page, ${COMMITS} commits`, path: `/lines/${names[0]}/trains/1` },
          { name: `line page with the ${COMMITS}-commit train`, path: `/lines/${names[0]}` },
          { name: `train page, ${COMMITS} commits, as an admin`, path: `/lines/${names[0]}/trains/1`, cookie: adminCookie },
        ];
        const rows: (string | number)[][] = [['page', 'p50 ms', 'p99 ms', 'max ms', 'HTML KiB', `target p99 < ${TARGET_P99_MS} ms`]];
        const json: Record<string, unknown> = {};
        const headline: [string, number, string][] = [];
        for (const p of pages) {
          ctx.progress(`GET ${p.path} × ${REQUESTS}`);
          const as = ('cookie' in p && p.cookie) || cookie;
          await measure(`${base}${p.path}`, as, 10, ctx.deadline); // warm-up
          const { samples, bytes } = await measure(`${base}${p.path}`, as, REQUESTS, ctx.deadline);
          const s = summarise(samples);
          rows.push([p.name, ms(s.p50), ms(s.p99), ms(s.max), Math.round(bytes / 1024), s.p99 < TARGET_P99_MS ? 'met' : 'MISSED']);
          json['cookie' in p ? `${p.path} (admin)` : p.path] = { p50Ms: ms(s.p50), p99Ms: ms(s.p99), maxMs: ms(s.max), htmlKiB: Math.round(bytes / 1024), requests: samples.length };
          headline.push([`web: ${p.name} p99`, ms(s.p99), 'ms']);
        }
        return { text: table(rows), json, headline };
      } finally {
        await web.stop?.();
        await http.close();
      }
    } finally {
      await db.drop();
    }
  },
};
