import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Happening } from '../domain/happenings.js';
import type { Db } from '../engine/db.js';

/** Seconds: one minute to two weeks (a commit may wait on the platform over a holiday). */
export const LEAD_TIME_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 345_600, 604_800, 1_209_600];
/** Seconds: ten seconds to two hours (the longest default job timeout is an hour). */
export const JOB_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
/** Seconds: 5 ms to 10 s. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * prom-client's default process metrics (process_*, nodejs_*), created once per
 * process: they describe the process, and each call of collectDefaultMetrics
 * starts another event-loop monitor and GC observer that are never stopped.
 * Each app's registry registers these same metric objects (tests run several
 * apps in one process; none uses the global default registry).
 */
let processMetrics: Registry | undefined;
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

interface DatabaseSnapshot {
  trains: { name: string; state: string; n: bigint }[];
  platform: { name: string; n: bigint }[];
  outbox: { pending: bigint; oldest: number | null };
}

/**
 * The /metrics of one app, in its own prom-client registry. Counters and
 * histograms are this process's (what it served, what its decisions made
 * happen: src/domain/happenings.ts); gauges of shared state (trains, platform,
 * outbox) are read from the database at scrape time, so every process reports
 * the same values for them.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Lead-time observations still reading their commits' first-seen times: a scrape waits for them. */
  private readonly pending = new Set<Promise<void>>();
  private snapshot?: Promise<DatabaseSnapshot>;

  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly durations: Histogram<'method' | 'route'>;
  private readonly deploys: Counter<'line' | 'kind' | 'result'>;
  private readonly leadTime: Histogram<'line'>;
  private readonly derails: Counter<'line'>;
  private readonly jobs: Histogram<'kind' | 'result'>;

  constructor(private readonly opts: { db: Db; log: Logger; lines?: string[] }) {
    const registers = [this.registry];
    const shared = processRegistry();
    for (const { name } of shared.getMetricsAsArray()) this.registry.registerMetric(shared.getSingleMetric(name)!);
    this.requests = new Counter({ name: 'conductor_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['method', 'route', 'status'], registers });
    this.durations = new Histogram({
      name: 'conductor_http_request_duration_seconds',
      help: 'Time to answer HTTP requests.',
      labelNames: ['method', 'route'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.deploys = new Counter({
      name: 'conductor_deploys_total',
      help: 'Deploy and rollback jobs whose outcome this process recorded, by outcome (a job first unknown and later settled counts under both).',
      labelNames: ['line', 'kind', 'result'],
      registers,
    });
    this.leadTime = new Histogram({
      name: 'conductor_lead_time_seconds',
      help: 'From when Conductor first saw a commit to its deploy to production, one observation per commit.',
      labelNames: ['line'],
      buckets: LEAD_TIME_BUCKETS,
      registers,
    });
    this.derails = new Counter({ name: 'conductor_derails_total', help: 'Trains derailed (not counting trains replaced by extend).', labelNames: ['line'], registers });
    this.jobs = new Histogram({
      name: 'conductor_job_duration_seconds',
      help: 'Duration of build, deploy and rollback jobs, from start to outcome.',
      labelNames: ['kind', 'result'],
      buckets: JOB_BUCKETS,
      registers,
    });
    // Known lines start at zero, so rate() and increase() see a series before the first event.
    for (const line of opts.lines ?? []) {
      this.derails.inc({ line }, 0);
      for (const kind of ['deploy', 'rollback']) for (const result of ['succeeded', 'failed']) this.deploys.inc({ line, kind, result }, 0);
    }

    // One read per scrape (render), shared by the gauges below.
    const db = () => this.snapshot ?? this.readDatabase();
    new Gauge({
      name: 'conductor_live_trains',
      help: 'Live trains by line and state.',
      labelNames: ['line', 'state'],
      registers,
      async collect() {
        const { trains } = await db();
        this.reset();
        for (const r of trains) this.set({ line: r.name, state: r.state }, Number(r.n));
      },
    });
    new Gauge({
      name: 'conductor_platform_commits',
      help: 'Commits waiting on the platform.',
      labelNames: ['line'],
      registers,
      async collect() {
        const { platform } = await db();
        this.reset();
        for (const r of platform) this.set({ line: r.name }, Number(r.n));
      },
    });
    new Gauge({
      name: 'conductor_outbox_pending',
      help: 'Side effects not yet delivered.',
      registers,
      async collect() {
        this.set(Number((await db()).outbox.pending));
      },
    });
    new Gauge({
      name: 'conductor_outbox_oldest_pending_seconds',
      help: 'Age of the oldest side effect not yet delivered (0 when none waits).',
      registers,
      async collect() {
        this.set((await db()).outbox.oldest ?? 0);
      },
    });
  }

  /** A gauge kept by another part of the process (read at scrape time). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  observe(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.durations.observe({ method, route }, seconds);
  }

  /** What a decision of this process made happen (the engine's `onHappenings`, after commit). */
  record(line: string, happened: Happening[]): void {
    for (const h of happened) {
      if (h.kind === 'job.finished') {
        if (h.job !== 'build') this.deploys.inc({ line, kind: h.job, result: h.result });
        if (h.seconds !== null) this.jobs.observe({ kind: h.job, result: h.result }, h.seconds);
      } else if (h.kind === 'train.derailed') {
        this.derails.inc({ line });
      } else {
        this.track(this.observeLeadTime(line, h.at, h.shas));
      }
    }
  }

  /** The Prometheus text exposition. */
  async render(): Promise<string> {
    await Promise.all([...this.pending]);
    const read = this.readDatabase();
    this.snapshot = read;
    try {
      return await this.registry.metrics();
    } finally {
      if (this.snapshot === read) this.snapshot = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Each commit's wait, from its first-seen time (the engine's clock, as `at`) to the deploy. */
  private async observeLeadTime(line: string, at: Date, shas: string[]): Promise<void> {
    try {
      const rows = await this.opts.db.$queryRaw<{ first_seen_at: Date }[]>`
        SELECT c.first_seen_at FROM commit c JOIN line l ON l.id = c.line_id WHERE l.name = ${line} AND c.sha = ANY(${shas}::text[])`;
      for (const r of rows) this.leadTime.observe({ line }, Math.max(0, (at.getTime() - r.first_seen_at.getTime()) / 1000));
    } catch (err) {
      this.opts.log.warn({ err, line }, 'could not read the commits of a deploy for the lead-time metric');
    }
  }

  private async readDatabase(): Promise<DatabaseSnapshot> {
    const { db } = this.opts;
    const [trains, platform, [outbox]] = await Promise.all([
      db.$queryRaw<DatabaseSnapshot['trains']>`
        SELECT l.name, t.state::text AS state, count(*) AS n FROM train t JOIN line l ON l.id = t.line_id
        WHERE t.state IN ('delivering','verifying','deploying') GROUP BY l.name, t.state`,
      db.$queryRaw<DatabaseSnapshot['platform']>`
        SELECT l.name, count(c.id) AS n FROM line l LEFT JOIN commit c ON c.line_id = l.id AND c.state = 'platform' GROUP BY l.name`,
      db.$queryRaw<{ pending: bigint; oldest: number | null }[]>`
        SELECT count(*) AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest FROM outbox_item WHERE done_at IS NULL`,
    ]);
    return { trains, platform, outbox: outbox ?? { pending: 0n, oldest: null } };
  }
}
