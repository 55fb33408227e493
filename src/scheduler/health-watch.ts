import type { Logger } from 'pino';
import { type HealthCheckConfig, nextCheckAt, soakOver } from '../domain/index.js';
import type { Engine } from '../engine/engine.js';
import { endHealthSoak, recordHealthCheck, watchedTrains } from '../engine/health.js';
import type { HealthProbe } from '../integrations/health/probe.js';
import type { Leader } from './leader.js';

export interface HealthWatchOptions {
  engine: Engine;
  leader: Leader;
  log: Logger;
  probe: HealthProbe;
  /** The lines that have a health check. */
  lines: { name: string; check: HealthCheckConfig }[];
  /** How often the database is looked at for due checks; default 5 s (at most each line's interval). */
  pollMs?: number;
}

/** A check may take at most this long (and never longer than its interval): a hung check is unknown. */
const MAX_CHECK_MS = 60_000;

/**
 * behaviour.md §8: runs the health checks of watched trains, in the leader only. Nothing is
 * held in memory: each pass reads the watched trains and their last stored check, so a
 * restart (or a new leader) resumes where the last one was. Time is the engine's clock.
 */
export class HealthWatch {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: HealthWatchOptions) {}

  start(): void {
    if (this.opts.lines.length === 0) return;
    const fastest = Math.min(...this.opts.lines.map((l) => l.check.intervalSeconds * 1000));
    const every = Math.max(250, Math.min(this.opts.pollMs ?? 5_000, fastest));
    this.timer = setInterval(() => void this.runDue().catch(() => undefined), every);
    void this.runDue().catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /**
   * One pass over every watched train: end the soaks that are over, run the checks that are
   * due. A call during a pass waits for it and then makes a pass of its own (so a test that
   * moved the clock sees every check due at the new time).
   */
  async runDue(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    if (!(await this.opts.leader.tryAcquire())) return;
    for (const line of this.opts.lines) {
      try {
        await this.passLine(line.name, line.check);
      } catch (err) {
        this.opts.log.error({ err, line: line.name }, 'health watch failed; will try again');
      }
    }
  }

  private async passLine(name: string, check: HealthCheckConfig): Promise<void> {
    const { engine, log } = this.opts;
    for (const w of await watchedTrains(engine, name)) {
      const now = engine.deps.clock();
      if (soakOver(w.health, now)) {
        const r = await endHealthSoak(engine, name, w.number);
        log.info({ line: name, train: w.number, ok: r.ok }, 'health watch ended');
        continue;
      }
      const due = nextCheckAt(w.health, w.lastCheckAt, check.intervalSeconds);
      if (!due || due.getTime() > now.getTime()) continue;
      const timeout = Math.min(MAX_CHECK_MS, check.intervalSeconds * 1000);
      const result = await this.opts.probe.check(check.probe, { line: name, train: w.number, sha: w.headSha }, timeout);
      const r = await recordHealthCheck(engine, name, w.number, result);
      log.info({ line: name, train: w.number, outcome: result.outcome, message: result.message, recorded: r.ok }, 'health check');
    }
  }
}
