// `npm run bench`: runs each benchmark in turn on a temporary PostgreSQL
// (embedded, in its own temporary data directory; or the server of
// DATABASE_URL, in scratch databases) and prints a table per benchmark, a
// summary, and one `BENCH_JSON {...}` line to paste figures from.
//
//   npm run bench                       all benchmarks
//   npm run bench -- big-train          only the named ones
//   npm run bench -- web                every benchmark of a group (web-events, …)
//   BENCH_EPHEMERAL=1 npm run bench     embedded server without fsync
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { bigTrain } from './big-train.js';
import { bisect } from './bisect.js';
import { commandApi } from './command-api.js';
import { githubWebhook } from './github-webhook.js';
import { insights } from './insights.js';
import { pushToTrain } from './push-to-train.js';
import { pushVsHistory } from './push-vs-history.js';
import { slackAck } from './slack-ack.js';
import { slackClick } from './slack-click.js';
import { type BenchServer, startBenchServer } from './support/database.js';
import { table } from './support/stats.js';
import type { Benchmark, BenchResult } from './support/types.js';
import { webEvents } from './web-events.js';
import { webPages } from './web-pages.js';

const ALL: Benchmark[] = [commandApi, pushToTrain, bigTrain, pushVsHistory, slackAck, slackClick, githubWebhook, webPages, webEvents, insights, bisect];
/** The whole run is stopped (and cleaned up) after this long: 6 minutes, or more when the chosen benchmarks' budgets need it. */
const runLimitMs = (benches: Benchmark[]): number => Math.max(6 * 60_000, Math.min(20 * 60_000, benches.reduce((s, b) => s + b.budgetSeconds * 1000, 0) / 2 + 60_000));

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    /** 1-minute load average when the run started: figures from a busy machine are noisier and slower. */
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const picks = (b: Benchmark, w: string) => b.name === w || b.group === w;
  const unknown = wanted.filter((w) => !ALL.some((b) => picks(b, w)));
  if (unknown.length) {
    const groups = [...new Set(ALL.flatMap((b) => (b.group ? [b.group] : [])))];
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${ALL.map((b) => b.name).join(', ')}; groups: ${groups.join(', ')}\n`);
    return 2;
  }
  const benches = wanted.length ? ALL.filter((b) => wanted.some((w) => picks(b, w))) : ALL;

  const log = pino({ level: process.env.BENCH_LOG_LEVEL || 'warn' }, pino.destination(2));
  const appLog = pino(
    { level: 'info' },
    pino.multistream([
      { level: 'info', stream: pino.destination({ dest: '/dev/null', sync: true }) },
      { level: 'warn', stream: pino.destination(2) },
    ]),
  );
  const progress = (m: string) => process.stderr.write(`  … ${m}\n`);

  const runDir = await fs.mkdtemp(path.join(os.tmpdir(), 'conductor-bench-'));
  let server: BenchServer | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await server?.stop().catch((err) => log.error({ err }, 'could not stop the database server'));
      await fs.rm(runDir, { recursive: true, force: true }).catch(() => undefined);
    })());
  const abort = (why: string, code: number) => {
    process.stderr.write(`\nbench: ${why}; cleaning up\n`);
    const force = setTimeout(() => process.exit(code), 15_000);
    force.unref();
    void cleanup().finally(() => process.exit(code));
  };
  const limit = runLimitMs(benches);
  const watchdog = setTimeout(() => abort(`the run took longer than ${Math.round(limit / 60_000)} minutes`, 1), limit);
  watchdog.unref();
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));

  const started = Date.now();
  const m = machine();
  try {
    server = await startBenchServer({ log, ephemeral: process.env.BENCH_EPHEMERAL === '1' });
    console.log('Conductor benchmarks');
    console.log(
      table([
        ['machine', ''],
        ['cpu', `${m.cpu} (${m.cores} cores)`],
        ['memory', `${m.memoryGiB} GiB`],
        ['node', m.node],
        ['os', m.os],
        ['load average (1 min)', String(m.loadAverage)],
        ['postgresql', `${server.version}, ${server.kind}`],
      ]),
    );

    const results: { bench: Benchmark; result?: BenchResult; error?: string; seconds: number }[] = [];
    for (const bench of benches) {
      console.log(`\n## ${bench.name}: ${bench.title}`);
      const dir = await fs.mkdtemp(path.join(runDir, `${bench.name}-`));
      await fs.chmod(dir, 0o755);
      const t0 = performance.now();
      try {
        const result = await bench.run({ server, log: log.child({ bench: bench.name }), appLog, tmpDir: dir, deadline: Date.now() + bench.budgetSeconds * 1000, progress });
        const seconds = (performance.now() - t0) / 1000;
        console.log(result.text);
        console.log(`  (${seconds.toFixed(1)} s)`);
        results.push({ bench, result, seconds });
      } catch (err) {
        const seconds = (performance.now() - t0) / 1000;
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        console.log(`  FAILED after ${seconds.toFixed(1)} s: ${message}`);
        results.push({ bench, error: err instanceof Error ? err.message : String(err), seconds });
      } finally {
        await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }
    }

    const rows: (string | number)[][] = [['figure', 'value', 'unit']];
    for (const r of results) {
      if (r.result) for (const [name, value, unit] of r.result.headline) rows.push([name, value, unit]);
      else rows.push([`${r.bench.name}: FAILED`, '', r.error ?? '']);
    }
    const total = (Date.now() - started) / 1000;
    console.log(`\n## Summary (${total.toFixed(0)} s)`);
    console.log(table(rows));
    const summary = {
      date: new Date().toISOString(),
      machine: { ...m, postgresql: `${server.version}, ${server.kind}` },
      seconds: Math.round(total),
      benchmarks: Object.fromEntries(results.map((r) => [r.bench.name, r.result ? { ...r.result.json, seconds: Math.round(r.seconds * 10) / 10 } : { error: r.error }])),
    };
    console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
    return results.some((r) => r.error) ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
