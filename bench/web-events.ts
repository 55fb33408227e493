// Web App live updates (GET /events): 1,000 open streams (held by a child
// process) on the whole app, then one state change at a time (an API command
// changing the line's mode): how long until EVERY stream has the event, from
// the moment the command is sent. And the server's memory per open stream
// (RSS and JS heap, after a GC, before and after the thousand connect).
// Targets: p99 < 1 s; < 50 KiB per connection.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startBenchApp } from './support/app.js';
import { createRepository } from './support/git.js';
import { ms, summarise, table } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const CLIENTS = 1_000;
const CHANGES = 10;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function memory() {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

export const webEvents: Benchmark = {
  name: 'web-events',
  group: 'web',
  title: `Live updates: ${CLIENTS.toLocaleString('en')} open GET /events streams, time until all have a change; memory per stream`,
  budgetSeconds: 120,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const db = await ctx.server.scratch('web_events');
    const repo = await createRepository(path.join(ctx.tmpDir, 'repo'));
    const { app, line } = await startBenchApp({ dataDir: path.join(ctx.tmpDir, 'data'), databaseUrl: db.url, repo: repo.bare, log: ctx.appLog });
    const child = fork(fileURLToPath(new URL('./support/sse-clients.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ask = <T>(msg: object, key: string): Promise<T> =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`the client process exited (${code})`));
        const onMessage = (m: Record<string, unknown>) => {
          if (!(key in m)) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m[key] as T);
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send(msg);
      });
    try {
      const signIn = await fetch(`${app.url}/auth/local`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: app.url },
        body: new URLSearchParams({ email: 'bench@example.com', next: '/' }),
      });
      const cookie = signIn.headers
        .getSetCookie()
        .find((c) => c.startsWith('conductor_session='))
        ?.split(';')[0];
      if (!cookie) throw new Error(`the local sign-in answered ${signIn.status} without a session`);

      const before = memory();
      ctx.progress(`opening ${CLIENTS} streams in a child process`);
      const t0 = performance.now();
      const ready = await ask<{ open: number; failed: number }>({ open: { base: app.url, cookie, n: CLIENTS } }, 'ready');
      const openSeconds = (performance.now() - t0) / 1000;
      if (ready.failed > 0) throw new Error(`${ready.failed} of ${CLIENTS} streams could not be opened`);
      await new Promise((r) => setTimeout(r, 500));
      const after = memory();
      const perConnection = { rss: (after.rss - before.rss) / CLIENTS, heap: (after.heap - before.heap) / CLIENTS };

      const latencies: number[] = [];
      const slowest: number[] = [];
      for (let round = 0; round < CHANGES; round++) {
        await ask({ arm: true, collect: true }, 'arrivals'); // armed (the reply is the reset list)
        const sent = performance.timeOrigin + performance.now();
        const res = await fetch(`${app.url}/api/command`, {
          method: 'POST',
          body: JSON.stringify({ user: 'admin@example.com', line, text: round % 2 ? 'mode schedule' : `mode manual bench ${round}` }),
        });
        const reply = (await res.json()) as { ok: boolean; text: string };
        if (!reply.ok) throw new Error(`the change was refused: ${reply.text}`);
        let arrivals: (number | null)[] = [];
        const end = Date.now() + 10_000;
        for (;;) {
          arrivals = await ask<(number | null)[]>({ collect: true }, 'arrivals');
          if (arrivals.every((a) => a !== null) || Date.now() > end) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const missing = arrivals.filter((a) => a === null).length;
        if (missing > 0) throw new Error(`${missing} streams did not get change ${round + 1} within 10 s`);
        const took = arrivals.map((a) => a! - sent);
        latencies.push(...took);
        slowest.push(Math.max(...took));
      }
      const all = summarise(latencies);
      const last = summarise(slowest);
      const text = table([
        ['figure', 'value', 'unit'],
        ['streams open', CLIENTS, ''],
        ['time to open them (batches of 50)', Math.round(openSeconds * 100) / 100, 's'],
        ['changes', CHANGES, ''],
        ['event latency p50 (command sent → stream has it)', ms(all.p50), 'ms'],
        ['event latency p99', ms(all.p99), 'ms'],
        ['event latency max', ms(all.max), 'ms'],
        ['last stream of a change, median', ms(last.p50), 'ms'],
        ['server RSS per stream', Math.round(perConnection.rss / 102.4) / 10, 'KiB'],
        ['server JS heap + external per stream', Math.round(perConnection.heap / 102.4) / 10, 'KiB'],
      ]);
      return {
        text,
        json: { clients: CLIENTS, changes: CHANGES, latencyMs: { p50: ms(all.p50), p99: ms(all.p99), max: ms(all.max) }, perConnectionBytes: perConnection, openSeconds },
        headline: [
          ['web-events: latency p99, 1,000 streams', ms(all.p99), 'ms'],
          ['web-events: server RSS per stream', Math.round(perConnection.rss / 102.4) / 10, 'KiB'],
        ],
      };
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.send({ close: true });
        await exited;
      }
      await app.stop();
      await db.drop();
    }
  },
};
