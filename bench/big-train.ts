// 3. Big train: 5,000 commits by 300 authors recorded in one recordCommits
// call (manual mode, so nothing starts), then an admin's `start` creates the
// train (timed alone), the build succeeds (300 tickets), and the status is
// rendered (engine read + lineStatusJson, and GET /api/lines/<line>/status),
// and so is the Web App's train page (read model + HTML, p50/p99).
// RSS is sampled every 5 ms throughout.

import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { Engine } from '../src/engine/engine.js';
import { readTrainPage } from '../src/engine/read/train-page.js';
import { lineStatusJson } from '../src/engine/views.js';
import { startHttpServer } from '../src/http/server.js';
import type { SignedIn } from '../src/web/auth/session.js';
import { Layout } from '../src/web/layout.js';
import { TrainView } from '../src/web/pages/train.js';
import { ADMIN, assertOk, benchEngine, fakeCommits } from './support/engine.js';
import { median, mib, ms, RssSampler, summarise, table, timed } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const COMMITS = 5_000;
const AUTHORS = 300;
const RENDERS = 7;
const VERIFIES = 10;
const PAGE_RENDERS = 100;

/** What `GET /lines/<line>/trains/1` costs the server: the read model and the HTML of the whole page (bytes returned). */
async function renderTrainPage(engine: Engine, line: string): Promise<number> {
  const p = await readTrainPage(engine, line, 1, 1);
  if (!p) throw new Error('train #1 is missing');
  const me: SignedIn = { email: 'dev001@example.com', csrf: 'x'.repeat(43), since: Date.now() };
  const html = `<!doctype html>${renderToString(
    h(Layout, { title: 'Train #1', me, assets: { css: '/a.css', js: '/a.js', morph: '/m.js' }, live: [line], children: h(TrainView, { p, live: new Map() }) }),
  )}`;
  // What a reader sees: 300 authors, 50 a page, each with their commits.
  if (!html.includes('authors page 1 of 6') || html.match(/class="author"/g)?.length !== 50 || !html.includes('Commits (5000) by author (300)'))
    throw new Error('the train page does not show the big train by author');
  return Buffer.byteLength(html);
}

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

      // The Web App's train page: the server's whole work for it (one read-only snapshot, shaping, HTML).
      ctx.progress('rendering the train page');
      rss.reset();
      const pages: number[] = [];
      let pageBytes = 0;
      for (let i = 0; i < PAGE_RENDERS; i++) {
        const t = await timed(async () => renderTrainPage(e.engine, e.line));
        pages.push(t.ms);
        pageBytes = t.value;
      }
      const pg = summarise(pages);
      phases.push({ name: `train page: read + render (p50 of ${PAGE_RENDERS})`, ms: pg.p50, peakRss: rss.peak, note: `p99 ${ms(pg.p99)} ms, ${Math.round(pageBytes / 1024)} KiB HTML` });
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
          trainPageP50Ms: ms(pg.p50),
          trainPageP99Ms: ms(pg.p99),
          trainPageKiB: Math.round(pageBytes / 1024),
          rssBeforeMiB: mib(rss.baseline),
          peakRssMiB: mib(overallPeak),
          peakRssGrowthMiB: mib(overallPeak - rss.baseline),
          outboxRows: outbox,
        },
        headline: [
          ['big train: create (start) 5,000 commits', ms(byName('create').ms), 'ms'],
          ['big train: deliver → 300 tickets', ms(byName('deliver').ms), 'ms'],
          ['big train: GET status', ms(byName('GET').ms), 'ms'],
          ['big train: train page p99', ms(pg.p99), 'ms'],
          ['big train: peak RSS', mib(overallPeak), 'MiB'],
        ],
      };
    } finally {
      rss.stop();
      await db.drop();
    }
  },
};
