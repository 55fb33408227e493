import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import { recordCommits, tick } from '../engine/inputs.js';
import { type CodeHost, isInterrupted } from '../engine/ports/code-host.js';
import { pruneOld } from '../store/retention.js';
import type { Leader } from './leader.js';

export interface ScheduledLine {
  name: string;
  pollSeconds: number;
  codeHost: CodeHost;
}

export interface SchedulerOptions {
  engine: Engine;
  leader: Leader;
  lines: ScheduledLine[];
  log: Logger;
  /** node-cron expression of the tick; default every 15 seconds. */
  tickCron?: string;
}

/**
 * The heartbeat: ticks every line (job timeouts, reminders, rule 3) and
 * fetches each line's remote every `pollSeconds`. Runs on every process but
 * acts only while holding the leader lock. node-cron never replays missed
 * runs, so each tick catches up from the database, and one runs at start-up.
 */
export class Scheduler {
  private task: ScheduledTask | null = null;
  private pollers: NodeJS.Timeout[] = [];
  private fetching = new Map<string, Promise<void>>();
  private queued = new Map<string, Promise<void>>();
  private ticking = false;
  private stopped = false;

  constructor(private readonly opts: SchedulerOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.tickAll();
    this.task = cron.schedule(this.opts.tickCron ?? '*/15 * * * * *', () => void this.tickAll(), { noOverlap: true });
    for (const line of this.opts.lines) {
      const timer = setInterval(() => void this.pollIfLeader(line.name), line.pollSeconds * 1000);
      this.pollers.push(timer);
      void this.pollIfLeader(line.name);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.task?.stop();
    this.task = null;
    for (const t of this.pollers) clearInterval(t);
    this.pollers = [];
    await Promise.allSettled([...this.fetching.values()]);
  }

  async tickAll(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      if (!(await this.opts.leader.tryAcquire())) return;
      for (const line of this.opts.lines) {
        try {
          const r = await tick(this.opts.engine, line.name);
          if (r.ok) this.opts.log.debug({ line: line.name }, 'tick applied changes');
        } catch (err) {
          this.opts.log.error({ err, line: line.name }, 'tick failed');
        }
      }
      await this.pruneHourly();
    } finally {
      this.ticking = false;
    }
  }

  private lastPrune = 0;

  /** Retention (src/store/retention.ts), at most once an hour, by the leader. */
  private async pruneHourly(): Promise<void> {
    const now = this.opts.engine.deps.clock();
    if (now.getTime() - this.lastPrune < 3_600_000) return;
    this.lastPrune = now.getTime();
    try {
      const pruned = await pruneOld(this.opts.engine.deps.pool, now);
      if (pruned.inputs + pruned.outbox > 0) this.opts.log.info(pruned, 'pruned old idempotency keys and outbox rows');
    } catch (err) {
      this.opts.log.warn({ err }, 'pruning old rows failed; will try again in an hour');
    }
  }

  private async pollIfLeader(line: string): Promise<void> {
    if (this.stopped || !(await this.opts.leader.tryAcquire())) return;
    await this.fetchNow(line);
  }

  /**
   * Fetch one line's remote and record new commits. While a fetch runs, every
   * further request shares ONE follow-up fetch (it sees everything pushed
   * meanwhile), so a burst of requests costs at most two fetches.
   */
  fetchNow(line: string): Promise<void> {
    const queued = this.queued.get(line);
    if (queued) return queued;
    const running = this.fetching.get(line);
    if (running) {
      const next = running.then(() => {
        this.queued.delete(line);
        return this.fetchNow(line);
      });
      this.queued.set(line, next);
      return next;
    }
    const p = this.fetchLine(line).finally(() => this.fetching.delete(line));
    this.fetching.set(line, p);
    return p;
  }

  /**
   * Platform commits a force push took off the branch. The platform is in
   * branch order, so when its newest commit is still on the branch the older
   * ones are too (one git check in the usual case); otherwise each is checked.
   */
  private async platformOffBranch(name: string, codeHost: CodeHost): Promise<string[]> {
    const rows = await this.opts.engine.deps.db.commit.findMany({
      where: { line: { name }, state: 'platform' },
      orderBy: { position: 'asc' },
      select: { sha: true },
    });
    if (rows.length === 0 || (await codeHost.contains(rows[rows.length - 1]!.sha))) return [];
    const gone: string[] = [];
    for (const r of rows) if (!(await codeHost.contains(r.sha))) gone.push(r.sha);
    return gone;
  }

  private async fetchLine(name: string): Promise<void> {
    const line = this.opts.lines.find((l) => l.name === name);
    if (!line) return;
    const log = this.opts.log.child({ line: name });
    try {
      const row = await this.opts.engine.deps.db.line.findUnique({ where: { name }, select: { knownHeadSha: true } });
      if (!row) return;
      const found = await line.codeHost.newCommits(row.knownHeadSha);
      if (found.headSha === row.knownHeadSha && found.commits.length === 0) return;
      const lostTrains: number[] = [];
      const removedFromBranch: string[] = [];
      if (found.rewritten) {
        // A force push may have taken commits already on a live train off the branch: say so.
        const live = await this.opts.engine.deps.db.train.findMany({
          where: { line: { name }, state: { in: ['delivering', 'verifying', 'deploying'] } },
          select: { number: true, headSha: true },
        });
        for (const t of live) if (!(await line.codeHost.contains(t.headSha))) lostTrains.push(t.number);
        removedFromBranch.push(...(await this.platformOffBranch(name, line.codeHost)));
      }
      const r = await recordCommits(this.opts.engine, name, row.knownHeadSha, found, { lostTrains, removedFromBranch });
      log.info({ commits: found.commits.length, head: found.headSha, recorded: r.text }, 'fetched new commits');
    } catch (err) {
      // Git killed by the signal that is stopping Conductor too (its process group): nothing failed,
      // nothing was recorded; the next start or poll fetches again. One quiet line, no stack.
      if (isInterrupted(err)) log.info({ reason: (err as Error).message }, 'fetch interrupted (git was stopped); will fetch again at the next poll');
      else log.warn({ err }, 'fetch failed; will retry at the next poll');
    }
  }
}
