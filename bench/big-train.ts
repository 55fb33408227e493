// 3. Big train: 5,000 commits by 300 authors recorded in one recordCommits
// call (manual mode, so nothing starts), then an admin's `start` creates the
// train (timed alone), the build succeeds (300 tickets), and the status is
// rendered (engine read + lineStatusJson, and GET /api/lines/<line>/status).
// RSS is sampled every 5 ms throughout.

import { lineStatusJson } from '../src/engine/views.js';
import { startHttpServer } from '../src/http/server.js';
import { ADMIN, assertOk, benchEngine, fakeCommits } from './support/engine.js';
import { median, mib, ms, RssSampler, summarise, table, timed } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const COMMITS = 5_000;
const AUTHORS = 300;
const RENDERS = 7;
const VERIFIES = 10;

export const bigTrain: Benchmark = {
  name: 'big-train',
  title: `Big train: ${COMMITS.toLocaleString('en-US')} commits by ${AUTHORS} authors`,
  budgetSeconds: 60,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const db = await ctx.server.scratch('big_train');
    const rss = new RssSampler(5).start();
    try {
      const e = await benchEngine(db, ctx.log, { mode: 'manual' });
      const authors = Array.from({ length: AUTHORS }, (_, i) => `dev${String(i).padStart(3, '0')}@example.com`);
      const commits = fakeCommits(
        Array.from({ length: COMMITS }, (_, i) => authors[(i * 7919) % AUTHORS]!),
        'Change the thing in module X so that it behaves better under load',
      );
      const phases: { name: string; ms: number; peakRss: number; note: string }[] = [];
      const phase = async (name: string, work: () => Promise<string>) => {
        global.gc?.();
        rss.reset();
        const t = await timed(work);
        rss.sample();
        phases.push({ name, ms: t.ms, peakRss: rss.peak, note: t.value });
      };

      ctx.progress('recording 5,000 commits');
      await phase('record 5,000 commits (one recordCommits)', async () => {
        assertOk(await e.push(commits), 'push');
        return `${await db.prisma.commit.count({ where: { state: 'platform' } })} on the platform`;
      });
      ctx.progress('start');
      await phase('create the train (admin `start`)', async () => {
        assertOk(await e.cmd(ADMIN, 'start'), 'start');
        const t = await db.prisma.train.findFirstOrThrow({ where: { number: 1 }, include: { _count: { select: { commits: true } } } });
        return `${t._count.commits} commits, engineer ${t.engineerEmail}`;
      });
      ctx.progress('build success → tickets');
      let engineer = '';
      await phase('deliver (build success → tickets)', async () => {
        assertOk(await e.finishJob(1, 'build'), 'build result');
        const t = await db.prisma.train.findFirstOrThrow({ where: { number: 1 }, include: { _count: { select: { tickets: true } } } });
        engineer = t.engineerEmail ?? '';
        return `${t._count.tickets} tickets, state ${t.state}`;
      });
      const outbox = await db.prisma.outboxItem.count();

      ctx.progress('rendering the status');
      const renders: number[] = [];
      let bytes = 0;
      rss.reset();
      for (let i = 0; i < RENDERS; i++) {
        const t = await timed(async () => {
          const { state } = await e.engine.read(e.line, { newestTrain: true });
          return JSON.stringify(lineStatusJson(state, new Date()));
        });
        renders.push(t.ms);
        bytes = Buffer.byteLength(t.value);
      }
      phases.push({ name: `status: engine.read + lineStatusJson (median of ${RENDERS})`, ms: median(renders), peakRss: rss.peak, note: `${Math.round(bytes / 1024)} KiB JSON` });

      const http = await startHttpServer({ engine: e.engine, pool: db.pool, log: ctx.appLog, port: 0, host: '127.0.0.1' });
      try {
        const gets: number[] = [];
        let status = 0;
        rss.reset();
        for (let i = 0; i < RENDERS; i++) {
          const t = await timed(async () => {
            const res = await fetch(`http://127.0.0.1:${http.port}/api/lines/${e.line}/status`);
            status = res.status;
            return res.text();
          });
          gets.push(t.ms);
        }
        if (status !== 200) throw new Error(`GET status answered ${status}`);
        phases.push({ name: `GET /api/lines/${e.line}/status (median of ${RENDERS})`, ms: median(gets), peakRss: rss.peak, note: `HTTP ${status}` });
      } finally {
        await http.close();
      }

      ctx.progress('verifications and text status on the big train');
      rss.reset();
      const texts: number[] = [];
      for (let i = 0; i < RENDERS; i++) texts.push((await timed(() => e.cmd('dev001@example.com', 'status'))).ms);
      phases.push({ name: `\`status\` command (median of ${RENDERS})`, ms: median(texts), peakRss: rss.peak, note: '' });
      rss.reset();
      const verifies: number[] = [];
      for (const a of authors.slice(0, VERIFIES)) {
        const t = await timed(() => e.cmd(a, 'verify'));
        assertOk(t.value, `verify by ${a}`);
        verifies.push(t.ms);
      }
      const v = summarise(verifies);
      phases.push({ name: `one author's \`verify\` (median of ${VERIFIES})`, ms: v.p50, peakRss: rss.peak, note: `max ${ms(v.max)} ms` });
      rss.stop();

      const rows: (string | number)[][] = [['phase', 'ms', 'peak RSS MiB', '']];
      for (const p of phases) rows.push([p.name, ms(p.ms), mib(p.peakRss), p.note]);
      const overallPeak = Math.max(rss.peak, ...phases.map((p) => p.peakRss));
      const text = `${table(rows)}\n  RSS at the start of this benchmark: ${mib(rss.baseline)} MiB; peak: ${mib(overallPeak)} MiB (+${mib(overallPeak - rss.baseline)} MiB); outbox rows written: ${outbox}; engineer: ${engineer}`;
      const byName = (prefix: string) => phases.find((p) => p.name.startsWith(prefix))!;
      return {
        text,
        json: {
          commits: COMMITS,
          authors: AUTHORS,
          recordMs: ms(byName('record').ms),
          createTrainMs: ms(byName('create').ms),
          deliverMs: ms(byName('deliver').ms),
          statusJsonMs: ms(byName('status: engine').ms),
          statusJsonKiB: Math.round(bytes / 1024),
          httpStatusMs: ms(byName('GET').ms),
          statusCommandMs: ms(byName('`status`').ms),
          verifyMs: ms(v.p50),
          rssBeforeMiB: mib(rss.baseline),
          peakRssMiB: mib(overallPeak),
          peakRssGrowthMiB: mib(overallPeak - rss.baseline),
          outboxRows: outbox,
        },
        headline: [
          ['big train: create (start) 5,000 commits', ms(byName('create').ms), 'ms'],
          ['big train: deliver → 300 tickets', ms(byName('deliver').ms), 'ms'],
          ['big train: GET status', ms(byName('GET').ms), 'ms'],
          ['big train: peak RSS', mib(overallPeak), 'MiB'],
        ],
      };
    } finally {
      rss.stop();
      await db.drop();
    }
  },
};
