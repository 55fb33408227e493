// Insights: the read model (src/engine/read/insights.ts) and the /insights page
// on one year of a busy line: 50 trains a day (18,250 trains, 1 in 20
// derailed), 500,000 commits, the audit entries a train writes, and failure
// signals (rollbacks, reverts, emergency resets). The year is seeded with bulk
// SQL (INSERT … SELECT generate_series), then VACUUM ANALYZE, as a long-lived
// database is; the figures are the server time of 30-, 90- and 365-day reads
// and of the page over HTTP on loopback.
import { Engine } from '../src/engine/engine.js';
import { ensureLine } from '../src/engine/inputs.js';
import { readInsights } from '../src/engine/read/insights.js';
import type { FeatureContext } from '../src/feature.js';
import { startHttpServer } from '../src/http/server.js';
import { webFeature } from '../src/web/feature.js';
import type { ScratchDatabase } from './support/database.js';
import { ADMIN, ALWAYS, ROBOT, rootSha } from './support/engine.js';
import { ms, summarise, table } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const LINE = 'busy';
const DAYS = 365;
const TRAINS = 50 * DAYS;
const COMMITS = 500_000;
const READS = 40;
const TARGET_MS = 200;

/** One year up to `now`: commits arrive every ~63 s; a train takes the commits seen since the last one, a minute after the last. */
export async function seedYear(db: ScratchDatabase, now: Date): Promise<void> {
  const [{ id }] = (await db.pool.query<{ id: number }>('SELECT id FROM line WHERE name = $1', [LINE])).rows as [{ id: number }];
  const start = new Date(now.getTime() - DAYS * 86_400_000);
  const client = await db.pool.connect();
  try {
    const q = (text: string, values: unknown[] = []) => client.query(text, values);
    // SQL expressions (numbers only, no user text): the SHA and first-seen time of the commit at position i, the last position of train n.
    const sha = (i: string) => `(md5('c' || (${i})) || substr(md5('d' || (${i})), 1, 8))`;
    const seen = (i: string) => `('${start.toISOString()}'::timestamptz + ((${i}) - 1) * interval '${Math.floor((DAYS * 86_400_000) / COMMITS)} milliseconds')`;
    const lastOf = (n: string) => `((${n})::bigint * ${COMMITS} / ${TRAINS})::int`;
    await q(`
      INSERT INTO train (line_id, number, state, head_sha, base_sha, created_by, created_at, delivered_at, verified_at, deploy_started_at, deployed_at, derailed_at, derail_reason, engineer_email)
      SELECT ${id}, n, CASE WHEN n % 20 = 0 THEN 'derailed' ELSE 'deployed' END::"TrainState",
             ${sha(lastOf('n'))}, ${sha(`GREATEST(${lastOf('n - 1')}, 1)`)}, 'conductor', c,
             c + make_interval(mins => 6 + n % 5), c + make_interval(mins => 12 + (n * 7) % 11),
             CASE WHEN n % 20 <> 0 THEN c + make_interval(mins => 14 + (n * 7) % 11) END,
             CASE WHEN n % 20 <> 0 THEN c + make_interval(mins => 20 + (n * 7) % 11 + n % 3) END,
             CASE WHEN n % 20 = 0 THEN c + make_interval(mins => 9) END,
             CASE WHEN n % 20 = 0 THEN (ARRAY['flaky tests', 'broken on staging', 'extended into train #' || (n + 1), 'wrong config'])[1 + (n / 20) % 4] END,
             'dev' || (n % 40) || '@example.com'
      FROM generate_series(1, ${TRAINS}) AS n, LATERAL (SELECT ${seen(lastOf('n'))} + interval '1 minute' AS c) t`);
    // A derailed train's commits ride the next one (and were on both).
    await q(`
      INSERT INTO commit (line_id, sha, position, author_name, author_email, message, state, train_id, first_seen_at)
      SELECT ${id}, ${sha('i')}, i, 'Dev ' || (i % 300), 'dev' || (i % 300) || '@example.com', 'Change the thing in module ' || (i % 97),
             'deployed', t.id, ${seen('i')}
      FROM generate_series(1, ${COMMITS}) AS i,
           LATERAL (SELECT CEIL(i::numeric * ${TRAINS} / ${COMMITS})::int AS n) k
           JOIN train t ON t.line_id = ${id} AND t.number = k.n + CASE WHEN k.n % 20 = 0 THEN 1 ELSE 0 END`);
    await q(`
      INSERT INTO train_commit (train_id, commit_id)
      SELECT c.train_id, c.id FROM commit c WHERE c.line_id = ${id}
      UNION ALL
      SELECT d.id, c.id FROM train d JOIN commit c ON c.line_id = d.line_id AND c.position > ${lastOf('d.number - 1')} AND c.position <= ${lastOf('d.number')}
      WHERE d.line_id = ${id} AND d.state = 'derailed'`);
    // What a train writes to the audit log, and the failure signals: 1 train in 25 rolled back, 1 in 90 has a commit reverted, 1 in 500 an emergency reset.
    await q(`
      INSERT INTO audit_entry (line_id, train_id, actor, action, details, created_at)
      SELECT t.line_id, t.id, 'conductor', a.action, '{}'::jsonb, a.at
      FROM train t, LATERAL (VALUES ('train.created', t.created_at), ('job.started', t.created_at), ('job.succeeded', t.delivered_at),
                                    ('ticket.verified', t.verified_at), ('train.deploy-started', t.deploy_started_at), ('train.deployed', t.deployed_at),
                                    ('train.derailed', t.derailed_at)) AS a(action, at)
      WHERE t.line_id = ${id} AND a.at IS NOT NULL`);
    await q(`
      INSERT INTO audit_entry (line_id, train_id, actor, action, details, created_at)
      SELECT t.line_id, t.id, x.actor, x.action, x.details, t.deployed_at + x.after
      FROM train t, LATERAL (VALUES
          (t.number % 25 = 3, '${ADMIN}', 'line.rollback', '{}'::jsonb, interval '5 minutes'),
          (t.number % 25 = 3, 'conductor', 'line.rolled-back', '{}'::jsonb, interval '12 minutes'),
          (t.number % 90 = 7, 'dev1@example.com', 'commit.revert-requested', jsonb_build_object('sha', t.head_sha), interval '8 minutes'),
          (t.number % 500 = 11, '${ADMIN}', 'line.emergency', '{}'::jsonb, interval '3 minutes')) AS x(yes, actor, action, details, after)
      WHERE t.line_id = ${id} AND t.deployed_at IS NOT NULL AND x.yes`);
    await q(`UPDATE line SET commit_seq = ${COMMITS}, next_train_number = ${TRAINS + 1}, deployed_sha = ${sha(String(COMMITS))}, known_head_sha = ${sha(String(COMMITS))} WHERE id = ${id}`);
  } finally {
    client.release();
  }
  await db.pool.query('VACUUM ANALYZE');
}

async function sample(n: number, deadline: number, work: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n && Date.now() < deadline; i++) {
    const t0 = performance.now();
    await work();
    out.push(performance.now() - t0);
  }
  return out;
}

export const insights: Benchmark = {
  name: 'insights',
  group: 'web',
  title: `Insights on one year of a busy line: ${TRAINS.toLocaleString('en-US')} trains, ${COMMITS.toLocaleString('en-US')} commits`,
  budgetSeconds: 240,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const db = await ctx.server.scratch('insights');
    try {
      await ensureLine(db.prisma, { name: LINE, repo: `/nonexistent/${LINE}.git`, branch: 'main', mode: 'manual', autoTime: ALWAYS, freezes: [], timezone: 'UTC' }, async () =>
        rootSha(LINE),
      );
      const now = new Date();
      const engine = new Engine({
        db: db.prisma,
        pool: db.pool,
        config: {
          lines: [{ name: LINE, branch: 'main', maxCommits: null, reminderMinutes: 30, timeouts: { build: 10, deploy: 20, rollback: 20 } }],
          policy: { admins: [ADMIN], robots: [ROBOT] },
          publicUrl: 'http://127.0.0.1:3000',
        },
        clock: () => now,
        random: Math.random,
        log: ctx.log,
      });
      ctx.progress(`seeding ${TRAINS} trains and ${COMMITS} commits with bulk SQL`);
      const t0 = performance.now();
      await seedYear(db, now);
      const seedMs = performance.now() - t0;
      const counts = (
        await db.pool.query('SELECT (SELECT count(*) FROM train)::int AS trains, (SELECT count(*) FROM commit)::int AS commits, (SELECT count(*) FROM audit_entry)::int AS audit')
      ).rows[0];
      ctx.progress(`seeded in ${Math.round(seedMs / 1000)} s: ${JSON.stringify(counts)}`);

      const rows: (string | number)[][] = [['read', 'p50 ms', 'p99 ms', 'max ms', 'reads', `target < ${TARGET_MS} ms`]];
      const json: Record<string, unknown> = { seeded: counts, seedSeconds: Math.round(seedMs / 1000) };
      const headline: [string, number, string][] = [];
      const record = (name: string, key: string, samples: number[]) => {
        const s = summarise(samples);
        rows.push([name, ms(s.p50), ms(s.p99), ms(s.max), samples.length, s.p99 < TARGET_MS ? 'met' : 'MISSED']);
        json[key] = { p50Ms: ms(s.p50), p99Ms: ms(s.p99), maxMs: ms(s.max), reads: samples.length };
        headline.push([`insights: ${name} p99`, ms(s.p99), 'ms']);
      };
      for (const days of [30, 90, 365]) {
        ctx.progress(`read model, ${days} days × ${READS}`);
        const figures = await readInsights(engine, LINE, days); // warm-up, and a sanity check
        if (figures.deployments === 0 || figures.leadTimeSeconds.p50 === null) throw new Error(`no figures for ${days} days: ${JSON.stringify(figures).slice(0, 300)}`);
        json[`figures${days}`] = {
          deployments: figures.deployments,
          leadTimeSeconds: figures.leadTimeSeconds,
          changeFailureRate: figures.changeFailureRate,
          timeToRestoreSeconds: figures.timeToRestoreSeconds,
        };
        record(`read model, ${days} days`, `read${days}`, await sample(READS, ctx.deadline, () => readInsights(engine, LINE, days)));
      }

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
          body: new URLSearchParams({ email: 'dev1@example.com' }),
        });
        const cookie = signIn.headers.getSetCookie()[0]?.split(';')[0] ?? '';
        if (!cookie) throw new Error(`sign-in answered ${signIn.status} without a cookie`);
        let bytes = 0;
        const page = async () => {
          const res = await fetch(`${base}/insights?line=${LINE}`, { headers: { cookie } });
          const body = await res.text();
          if (res.status !== 200) throw new Error(`GET /insights answered ${res.status}`);
          bytes = Buffer.byteLength(body);
        };
        ctx.progress(`GET /insights (30 days) × ${READS}`);
        await sample(3, ctx.deadline, page);
        record('GET /insights page, 30 days', 'page30', await sample(READS, ctx.deadline, page));
        json.pageKiB = Math.round(bytes / 1024);
      } finally {
        await web.stop?.();
        await http.close();
      }
      return { text: `seeded in ${Math.round(seedMs / 1000)} s: ${JSON.stringify(counts)}\n${table(rows)}`, json, headline };
    } finally {
      await db.drop();
    }
  },
};
