// Where the time goes while the Slack benchmarks run: this process's event
// loop utilisation and CPU, and what the app's PostgreSQL sessions are doing
// (sampled from pg_stat_activity on a connection of its own).

import { performance } from 'node:perf_hooks';
import pg from 'pg';

export interface ProcessUse {
  /** Share of wall time the event loop was busy (0..1). */
  elu: number;
  /** CPU time of this process (user + system), ms. */
  cpuMs: number;
  wallMs: number;
}

/** Measures this process from now until `stop()`. */
export function processProbe(): { stop(): ProcessUse } {
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop() {
      const elu = performance.eventLoopUtilization(elu0);
      const cpu = process.cpuUsage(cpu0);
      return { elu: elu.utilization, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - t0 };
    },
  };
}

export interface SessionUse {
  samples: number;
  /** Mean sessions of the app not idle (running a query, or inside a transaction between queries). */
  busy: number;
  /** Mean sessions waiting on a heavyweight lock (the line row's FOR UPDATE). */
  lockWait: number;
  /** Mean sessions idle inside a transaction (the app is between two queries of a transaction). */
  idleInTx: number;
  /** Largest number of busy sessions seen. */
  maxBusy: number;
}

/**
 * Samples the sessions named `applicationName` of `url`'s database every
 * `everyMs` while `sampling` is on; `take()` returns the means since the last take.
 */
export async function sessionProbe(url: string, applicationName = 'conductor', everyMs = 25) {
  const client = new pg.Client({ connectionString: url, application_name: 'conductor-bench-probe' });
  client.on('error', () => undefined);
  await client.connect();
  let sampling = false;
  let acc = { samples: 0, busy: 0, lockWait: 0, idleInTx: 0, maxBusy: 0 };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      if (sampling) {
        const { rows } = await client.query<{ busy: number; lock_wait: number; idle_in_tx: number }>(
          `SELECT count(*) FILTER (WHERE state <> 'idle')::int AS busy,
                  count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS lock_wait,
                  count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS idle_in_tx
             FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
          [applicationName],
        );
        const r = rows[0]!;
        acc.samples++;
        acc.busy += r.busy;
        acc.lockWait += r.lock_wait;
        acc.idleInTx += r.idle_in_tx;
        acc.maxBusy = Math.max(acc.maxBusy, r.busy);
      }
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })().catch(() => undefined);
  return {
    set sampling(on: boolean) {
      sampling = on;
    },
    take(): SessionUse {
      const n = Math.max(1, acc.samples);
      const out = { samples: acc.samples, busy: acc.busy / n, lockWait: acc.lockWait / n, idleInTx: acc.idleInTx / n, maxBusy: acc.maxBusy };
      acc = { samples: 0, busy: 0, lockWait: 0, idleInTx: 0, maxBusy: 0 };
      return out;
    },
    async close() {
      stopped = true;
      await loop;
      await client.end().catch(() => undefined);
    },
  };
}
