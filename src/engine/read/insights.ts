/**
 * `GET /api/lines/<line>/insights?days=` and the `/insights` page: a line's
 * delivery figures over the last `days` days, computed in SQL from the stored
 * history (docs/behaviour.md §7 defines each figure):
 *
 * - deployments: trains whose production deploy succeeded (`train.deployed_at`) in the period;
 * - lead time: per commit a deployed train holds, from `commit.first_seen_at` to the train's `deployed_at`;
 * - change failure rate: deployed trains followed, before the next deploy, by a rollback
 *   (`line.rollback`), an emergency reset (`line.emergency`) or a revert of one of their
 *   commits (`commit.revert-requested`), over the deployments;
 * - time to restore: from that first signal to the next successful deploy or rollback (`line.rolled-back`);
 * - step durations from the train's own timestamps; derails and their reasons; platform length sampled.
 *
 * A few statements in one read-only snapshot, each an index range scan (the
 * migration 20261205070000_insights_indexes): on a year of a busy line, 30 days
 * answer in tens of milliseconds, the whole year in about half a second (its
 * exact lead-time percentiles sort 500,000 values; bench `insights`).
 */
import { derailCategory, FAILURE_ACTIONS, type FailureSignal, insightsGrain } from '../../domain/insights.js';
import { inTransaction, type Sql } from '../../store/sql.js';
import { type Engine, UnknownLineError } from '../engine.js';

export interface Percentiles {
  p50: number | null;
  p90: number | null;
}

export interface InsightsBucketJson {
  /** The bucket's first day in the line's timezone (`YYYY-MM-DD`). */
  start: string;
  deployments: number;
  failures: number;
  leadTimeSeconds: Percentiles;
}

export interface FailureJson {
  train: number;
  deployedAt: string;
  signal: FailureSignal;
  signalAt: string;
  /** The next successful deploy or rollback after the signal; null while production is not restored. */
  restoredAt: string | null;
  restoreSeconds: number | null;
}

export interface InsightsJson {
  line: string;
  days: number;
  from: string;
  to: string;
  timezone: string;
  bucket: 'day' | 'week';
  deployments: number;
  deploymentsPerDay: number;
  deploymentsPerWeek: number;
  leadTimeSeconds: Percentiles & { commits: number };
  /** Failed deployments over deployments; null without deployments. */
  changeFailureRate: number | null;
  failedDeployments: number;
  timeToRestoreSeconds: Percentiles & { restored: number; open: number };
  failures: FailureJson[];
  steps: { buildSeconds: Percentiles; verificationSeconds: Percentiles; waitingToDeploySeconds: Percentiles; deploySeconds: Percentiles };
  derails: { count: number; extended: number; reasons: { reason: string; count: number }[]; recent: { train: number; at: string; reason: string | null }[] };
  platform: { now: number; max: number | null; mean: number | null; sampleHours: number; points: { at: string; commits: number }[] };
  trend: InsightsBucketJson[];
}

const RECENT_DERAILS = 10;

/** The figures of `line` over the `days` days up to now (the engine's clock). */
export async function readInsights(engine: Engine, line: string, days: number): Promise<InsightsJson> {
  if (!engine.lines.has(line)) throw new UnknownLineError(`unknown line ${line}`);
  const to = engine.deps.clock();
  const from = new Date(to.getTime() - days * 86_400_000);
  return inTransaction(engine.deps.pool, (sql) => insightsIn(sql, line, days, from, to), { isolation: 'repeatable read', readOnly: true });
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v)));
const pct = (r: { p50: unknown; p90: unknown }): Percentiles => ({ p50: num(r.p50), p90: num(r.p90) });

async function insightsIn(sql: Sql, line: string, days: number, from: Date, to: Date): Promise<InsightsJson> {
  // A year of lead times is 500,000 values to sort: in memory rather than spilled to disk (this transaction only).
  await sql.execute`SELECT set_config('work_mem', '64MB', true)`;
  const [l] = await sql.query<{ id: number; timezone: string }>`SELECT id, timezone FROM line WHERE name = ${line}`;
  if (!l) throw new UnknownLineError(`line ${line} is not in the database`);
  const { bucket, sampleHours } = insightsGrain(days);
  // One after the other: a transaction's connection runs one statement at a time.
  const deploys = await deploymentFigures(sql, l.id, l.timezone, bucket, from, to);
  const lead = await leadTimes(sql, l.id, l.timezone, bucket, from, to);
  const failures = await failedDeployments(sql, l.id, l.timezone, bucket, from, to);
  const derails = await derailFigures(sql, l.id, from, to);
  const platform = await platformSamples(sql, l.id, from, to, sampleHours);
  const total = deploys.total;
  const failed = failures.rows;
  const ttr = failures.ttr;
  const counts = platform.map((p) => p.commits);
  return {
    line,
    days,
    from: from.toISOString(),
    to: to.toISOString(),
    timezone: l.timezone,
    bucket,
    deployments: total.n,
    deploymentsPerDay: Math.round((total.n / days) * 100) / 100,
    deploymentsPerWeek: Math.round(((total.n * 7) / days) * 100) / 100,
    leadTimeSeconds: { ...lead.total, commits: lead.commits },
    changeFailureRate: total.n === 0 ? null : Math.round((failed.length / total.n) * 10_000) / 10_000,
    failedDeployments: failed.length,
    timeToRestoreSeconds: ttr,
    failures: failed.map((f) => ({ train: f.train, deployedAt: f.deployedAt, signal: f.signal, signalAt: f.signalAt, restoredAt: f.restoredAt, restoreSeconds: f.restoreSeconds })),
    steps: total.steps,
    derails,
    platform: {
      now: counts[counts.length - 1] ?? 0,
      max: counts.length ? Math.max(...counts) : null,
      mean: counts.length ? Math.round((counts.reduce((a, b) => a + b, 0) / counts.length) * 10) / 10 : null,
      sampleHours,
      points: platform,
    },
    trend: deploys.buckets.map((b) => ({
      start: b.start,
      deployments: b.n,
      failures: failed.filter((f) => f.bucket === b.start).length,
      leadTimeSeconds: lead.buckets.get(b.start) ?? { p50: null, p90: null },
    })),
  };
}

interface StepRow {
  bucket: string | null;
  n: number;
  build50: unknown;
  build90: unknown;
  verify50: unknown;
  verify90: unknown;
  wait50: unknown;
  wait90: unknown;
  deploy50: unknown;
  deploy90: unknown;
}

/** Deployments per bucket (every bucket of the period, empty ones too) and the step durations of the period's deployed trains. */
async function deploymentFigures(sql: Sql, lineId: number, tz: string, bucket: 'day' | 'week', from: Date, to: Date) {
  const [total] = await sql.query<StepRow>`
    WITH t AS (
      SELECT GREATEST(date_part('epoch', delivered_at - created_at), 0) AS build,
             GREATEST(date_part('epoch', verified_at - delivered_at), 0) AS verify,
             GREATEST(date_part('epoch', deploy_started_at - GREATEST(verified_at, delivered_at)), 0) AS wait,
             GREATEST(date_part('epoch', deployed_at - deploy_started_at), 0) AS deploy
      FROM train WHERE line_id = ${lineId} AND deployed_at >= ${from} AND deployed_at < ${to}
    ), p AS (
      SELECT count(*)::int AS n,
        percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY build) AS build, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY verify) AS verify,
        percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY wait) AS wait, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY deploy) AS deploy
      FROM t
    )
    SELECT NULL AS bucket, n, build[1] AS build50, build[2] AS build90, verify[1] AS verify50, verify[2] AS verify90,
           wait[1] AS wait50, wait[2] AS wait90, deploy[1] AS deploy50, deploy[2] AS deploy90
    FROM p`;
  const rows = await sql.query<{ bucket: string; n: number }>`
    SELECT to_char(date_trunc(${bucket}, deployed_at AT TIME ZONE ${tz}), 'YYYY-MM-DD') AS bucket, count(*)::int AS n
    FROM train WHERE line_id = ${lineId} AND deployed_at >= ${from} AND deployed_at < ${to} GROUP BY 1`;
  const buckets = await sql.query<{ start: string }>`
    SELECT to_char(b, 'YYYY-MM-DD') AS start
    FROM generate_series(date_trunc(${bucket}, ${from}::timestamptz AT TIME ZONE ${tz}), ${to}::timestamptz AT TIME ZONE ${tz}, ('1 ' || ${bucket})::interval) AS b`;
  const byBucket = new Map(rows.map((r) => [r.bucket, r.n]));
  if (!total) throw new Error('an aggregate without GROUP BY always has a row');
  return {
    buckets: buckets.map((b) => ({ start: b.start, n: byBucket.get(b.start) ?? 0 })),
    total: {
      n: total.n,
      steps: {
        buildSeconds: pct({ p50: total.build50, p90: total.build90 }),
        verificationSeconds: pct({ p50: total.verify50, p90: total.verify90 }),
        waitingToDeploySeconds: pct({ p50: total.wait50, p90: total.wait90 }),
        deploySeconds: pct({ p50: total.deploy50, p90: total.deploy90 }),
      },
    },
  };
}

/**
 * Lead time per commit: the commits a deployed train holds (`commit.train_id`, read
 * index-only with `first_seen_at`), over the period and per bucket in one scan.
 */
async function leadTimes(sql: Sql, lineId: number, tz: string, bucket: 'day' | 'week', from: Date, to: Date) {
  const rows = await sql.query<{ bucket: string | null; commits: number; p50: unknown; p90: unknown }>`
    -- The period's deployed trains with their bucket first (computed once per train, not once per commit: ~15 % less over a year).
    WITH t AS MATERIALIZED (
      SELECT id, deployed_at, date_trunc(${bucket}, deployed_at AT TIME ZONE ${tz}) AS b
      FROM train WHERE line_id = ${lineId} AND deployed_at >= ${from} AND deployed_at < ${to}
    )
    SELECT to_char(b, 'YYYY-MM-DD') AS bucket, n::int AS commits, p[1] AS p50, p[2] AS p90
    FROM (
      -- date_part is float8 (extract is numeric, several times slower to sort); one array call sorts once.
      SELECT t.b, count(*) AS n,
             percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY date_part('epoch', t.deployed_at - c.first_seen_at)) AS p
      FROM t JOIN commit c ON c.train_id = t.id
      GROUP BY GROUPING SETS ((), (1))
    ) x`;
  const total = rows.find((r) => r.bucket === null);
  return {
    commits: total?.commits ?? 0,
    total: total ? pct(total) : { p50: null, p90: null },
    buckets: new Map(rows.filter((r) => r.bucket !== null).map((r) => [r.bucket!, pct(r)])),
  };
}

interface FailureRow {
  train: number;
  deployed_at: Date;
  bucket: string;
  action: string;
  signal_at: Date;
  restored_at: Date | null;
}

/**
 * Deployed trains (from the period's start on, so the last one's "next deploy" is
 * known) whose window up to the next deploy holds a failure signal; the first
 * signal counts. Restored: the next deploy, or a successful rollback before it.
 */
async function failedDeployments(sql: Sql, lineId: number, tz: string, bucket: 'day' | 'week', from: Date, to: Date) {
  // From the (few) signals: each belongs to the train deployed last before it (so no deploy came between).
  const rows = await sql.query<FailureRow>`
    WITH signal AS (
      SELECT DISTINCT ON (d.id) d.id, d.number AS train, d.deployed_at, a.action, a.created_at AS signal_at
      FROM audit_entry a
      CROSS JOIN LATERAL (
        SELECT t.id, t.number, t.deployed_at FROM train t
        WHERE t.line_id = ${lineId} AND t.deployed_at < a.created_at ORDER BY t.deployed_at DESC LIMIT 1
      ) d
      WHERE a.line_id = ${lineId} AND a.action = ANY(${Object.values(FAILURE_ACTIONS)}::text[]) AND a.created_at > ${from} AND a.created_at < ${to}
        AND d.deployed_at >= ${from}
        AND (a.action <> ${FAILURE_ACTIONS.revert}
             OR EXISTS (SELECT 1 FROM commit c WHERE c.line_id = ${lineId} AND c.sha = a.details->>'sha' AND c.train_id = d.id))
      ORDER BY d.id, a.created_at, a.id
    )
    SELECT s.train, s.deployed_at, s.action, s.signal_at,
           to_char(date_trunc(${bucket}, s.deployed_at AT TIME ZONE ${tz}), 'YYYY-MM-DD') AS bucket,
           LEAST((SELECT min(n.deployed_at) FROM train n WHERE n.line_id = ${lineId} AND n.deployed_at > s.deployed_at AND n.deployed_at <= ${to}),
                 (SELECT min(r.created_at) FROM audit_entry r
                  WHERE r.line_id = ${lineId} AND r.action = 'line.rolled-back' AND r.created_at > s.signal_at AND r.created_at <= ${to})) AS restored_at
    FROM signal s ORDER BY s.deployed_at`;
  const signalOf = (action: string): FailureSignal => (Object.entries(FAILURE_ACTIONS).find(([, a]) => a === action)?.[0] as FailureSignal) ?? 'rollback';
  const list = rows.map((r) => ({
    train: r.train,
    deployedAt: r.deployed_at.toISOString(),
    bucket: r.bucket,
    signal: signalOf(r.action),
    signalAt: r.signal_at.toISOString(),
    restoredAt: r.restored_at?.toISOString() ?? null,
    restoreSeconds: r.restored_at ? Math.round((r.restored_at.getTime() - r.signal_at.getTime()) / 1000) : null,
  }));
  // Percentiles in SQL too, over the few restore times (percentile_cont: the same interpolation as the other figures).
  const restores = list.flatMap((f) => (f.restoreSeconds === null ? [] : [f.restoreSeconds]));
  const [p] = await sql.query<{ p50: unknown; p90: unknown }>`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY s) AS p90
    FROM unnest(${restores}::float8[]) AS s`;
  return { rows: list, ttr: { ...pct(p ?? { p50: null, p90: null }), restored: restores.length, open: list.length - restores.length } };
}

/** Trains derailed in the period: how many, by reason (extensions apart), the newest few. */
async function derailFigures(sql: Sql, lineId: number, from: Date, to: Date): Promise<InsightsJson['derails']> {
  const rows = await sql.query<{ number: number; derailed_at: Date; derail_reason: string | null }>`
    SELECT number, derailed_at, derail_reason FROM train
    WHERE line_id = ${lineId} AND state = 'derailed' AND derailed_at >= ${from} AND derailed_at < ${to}
    ORDER BY derailed_at DESC`;
  const reasons = new Map<string, number>();
  let extended = 0;
  for (const r of rows) {
    const category = derailCategory(r.derail_reason);
    if (category === 'extended') extended++;
    else reasons.set(category, (reasons.get(category) ?? 0) + 1);
  }
  const real = rows.filter((r) => derailCategory(r.derail_reason) !== 'extended');
  return {
    count: real.length,
    extended,
    reasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    recent: real.slice(0, RECENT_DERAILS).map((r) => ({ train: r.number, at: r.derailed_at.toISOString(), reason: r.derail_reason })),
  };
}

/**
 * Commits waiting on the platform at regular moments. Positions are dense and
 * grow with `first_seen_at` (save.ts numbers each push's commits after the
 * line's sequence), and trains take the platform from its front, so at a
 * moment X the platform is the positions after the head of the newest train
 * started by X (a train derailed by X that gave its commits back does not
 * count) up to the newest commit seen by X, less those removed by X.
 */
async function platformSamples(sql: Sql, lineId: number, from: Date, to: Date, sampleHours: number): Promise<{ at: string; commits: number }[]> {
  const rows = await sql.query<{ at: Date; commits: number }>`
    WITH pts AS (SELECT generate_series(${to}::timestamptz - make_interval(hours => ${sampleHours} * floor(extract(epoch FROM ${to}::timestamptz - ${from}::timestamptz) / 3600 / ${sampleHours})::int), ${to}::timestamptz, make_interval(hours => ${sampleHours})) AS at),
    bounds AS (
      SELECT pts.at,
        COALESCE((SELECT c.position FROM commit c WHERE c.line_id = ${lineId} AND c.first_seen_at <= pts.at
                  ORDER BY c.first_seen_at DESC, c.position DESC LIMIT 1), 0) AS q,
        COALESCE((SELECT h.position FROM train t JOIN commit h ON h.line_id = t.line_id AND h.sha = t.head_sha
                  WHERE t.line_id = ${lineId} AND t.created_at <= pts.at
                    AND (t.derailed_at IS NULL OR t.derailed_at > pts.at
                         OR t.derail_reason LIKE 'extended into train #%' OR t.derail_reason LIKE 'emergency reset:%')
                  ORDER BY t.created_at DESC, t.number DESC LIMIT 1), 0) AS p
      FROM pts
    )
    SELECT b.at, GREATEST(b.q - b.p - (SELECT count(*) FROM commit r WHERE r.line_id = ${lineId} AND r.state = 'removed'
                                         AND r.position > b.p AND r.position <= b.q AND r.removed_at <= b.at), 0)::int AS commits
    FROM bounds b ORDER BY b.at`;
  return rows.map((r) => ({ at: r.at.toISOString(), commits: r.commits }));
}
