// 4. Push cost vs history: one recordCommits call with one new commit (and the
// decision it leads to) on a line with ~100 commits of history and on one with
// ~100,000 (built with INSERT … SELECT generate_series: deployed commits on a
// few hundred deployed trains, with their train_commit, job, ticket and audit
// rows). The lines are in manual mode so trains do not pile up; pushes
// alternate between the two lines so both see the same warm-up and noise.

import type { ScratchDatabase } from './support/database.js';
import { ADMIN, assertOk, type BenchEngine, benchEngine, fakeCommits } from './support/engine.js';
import { ms, type Summary, summarise, table, timed } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const PUSHES = 200;
const WARMUP = 10;
const READS = 20;
const SIZES = [
  { label: 'small', commits: 100, trains: 4 },
  { label: 'large', commits: 100_000, trains: 400 },
];
const AUTHORS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'];

interface Side {
  label: string;
  commits: number;
  trains: number;
  db: ScratchDatabase;
  e: BenchEngine;
  buildMs: number;
  push: number[];
  status: number[];
  history: number[];
}

export const pushVsHistory: Benchmark = {
  name: 'push-vs-history',
  title: 'Push cost vs history (~100 vs ~100,000 commits on the line)',
  budgetSeconds: 90,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const sides: Side[] = [];
    try {
      for (const size of SIZES) {
        const db = await ctx.server.scratch(`history_${size.label}`);
        const side: Side = { ...size, db, e: await benchEngine(db, ctx.log, { mode: 'manual' }), buildMs: 0, push: [], status: [], history: [] };
        sides.push(side);
        ctx.progress(`building a history of ${size.commits.toLocaleString('en-US')} commits on ${size.trains} trains`);
        side.buildMs = (await timed(() => buildHistory(db, side.e.line, size.commits, size.trains))).ms;
      }
      ctx.progress(`${PUSHES} pushes on each line, alternating`);
      for (let i = 0; i < WARMUP + PUSHES && Date.now() < ctx.deadline; i++) {
        for (const side of i % 2 ? [...sides].reverse() : sides) {
          const commits = fakeCommits([AUTHORS[i % AUTHORS.length]!], 'Small fix');
          const t = await timed(() => side.e.push(commits));
          assertOk(t.value, `push on the ${side.label} line`);
          if (i >= WARMUP) side.push.push(t.ms);
        }
      }
      for (let i = 0; i < READS; i++) {
        for (const side of sides) {
          side.status.push((await timed(async () => assertOk(await side.e.cmd(ADMIN, 'status'), 'status'))).ms);
          side.history.push((await timed(async () => assertOk(await side.e.cmd(ADMIN, 'history 20'), 'history'))).ms);
        }
      }
      // Sanity: the pushes really went to the lines with that much history.
      for (const side of sides) {
        const n = await side.db.prisma.commit.count();
        if (n < side.commits) throw new Error(`${side.label}: only ${n} commits in the database`);
      }

      const [small, large] = sides as [Side, Side];
      const p = { small: summarise(small.push), large: summarise(large.push) };
      const st = { small: summarise(small.status), large: summarise(large.status) };
      const hi = { small: summarise(small.history), large: summarise(large.history) };
      const ratio = (a: Summary, b: Summary) => Math.round((b.p50 / a.p50) * 100) / 100;
      const rows: (string | number)[][] = [
        ['figure', `~${small.commits} commits`, `~${large.commits.toLocaleString('en-US')} commits`, 'ratio (p50)'],
        ['push (1 commit): p50 ms', ms(p.small.p50), ms(p.large.p50), ratio(p.small, p.large)],
        ['push (1 commit): p99 ms', ms(p.small.p99), ms(p.large.p99), ''],
        ['push (1 commit): mean ms', ms(p.small.mean), ms(p.large.mean), ''],
        [`\`status\` p50 ms (${READS})`, ms(st.small.p50), ms(st.large.p50), ratio(st.small, st.large)],
        [`\`history 20\` p50 ms (${READS})`, ms(hi.small.p50), ms(hi.large.p50), ratio(hi.small, hi.large)],
        ['history built in ms (SQL)', ms(small.buildMs), ms(large.buildMs), ''],
      ];
      const r = ratio(p.small, p.large);
      const verdict = r <= 1.5 ? 'flat: the push cost does not grow with history' : `GROWS with history (×${r})`;
      return {
        text: `${table(rows)}\n  ${p.small.n} pushes per line (after ${WARMUP} warm-up pushes each); ${verdict}.`,
        json: {
          pushes: p.small.n,
          small: { commits: small.commits, trains: small.trains, pushP50Ms: ms(p.small.p50), pushP99Ms: ms(p.small.p99), statusP50Ms: ms(st.small.p50), historyP50Ms: ms(hi.small.p50) },
          large: { commits: large.commits, trains: large.trains, pushP50Ms: ms(p.large.p50), pushP99Ms: ms(p.large.p99), statusP50Ms: ms(st.large.p50), historyP50Ms: ms(hi.large.p50) },
          pushRatio: r,
        },
        headline: [
          [`push p50, ~${small.commits} commits of history`, ms(p.small.p50), 'ms'],
          [`push p50, ~${large.commits.toLocaleString('en-US')} commits of history`, ms(p.large.p50), 'ms'],
          ['push cost ratio (large / small)', r, '×'],
        ],
      };
    } finally {
      for (const s of sides) await s.db.drop();
    }
  },
};

/**
 * `commits` deployed commits on `trains` deployed trains (in order, evenly
 * split), each train with a build and a deploy job, one verified ticket per
 * author and a few audit entries; the line's head and counters moved to match.
 */
async function buildHistory(db: ScratchDatabase, lineName: string, commits: number, trains: number): Promise<void> {
  const line = await db.prisma.line.findUniqueOrThrow({ where: { name: lineName } });
  const per = Math.ceil(commits / trains);
  const sha = (g: string) => `md5((${g})::text || '-${lineName}') || left(md5((${g})::text || '+'), 8)`;
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const at = `timestamptz '2026-01-01 00:00:00+00' + make_interval(hours => `;
    await client.query(
      `INSERT INTO train (line_id, number, state, head_sha, base_sha, engineer_email, created_by, created_at, delivered_at, verified_at, deploy_started_at, deployed_at)
       SELECT $1, t, 'deployed', ${sha(`least(t * $2::int, $3::int)`)}, ${sha(`(t - 1) * $2::int`)}, 'dev' || (t % 50) || '@example.com', 'conductor',
              ${at}t), ${at}t), ${at}t), ${at}t), ${at}t)
       FROM generate_series(1, $4::int) AS t`,
      [line.id, per, commits, trains],
    );
    await client.query(
      `INSERT INTO commit (line_id, sha, position, author_name, author_email, message, state, train_id, verified_by, verified_at, first_seen_at)
       SELECT $1, ${sha('g')}, g, 'dev' || (g % 50), 'dev' || (g % 50) || '@example.com',
              'Change ' || g || E'\\n\\nA longer body that explains the change in a sentence or two.',
              'deployed', tr.id, 'dev' || (g % 50) || '@example.com', ${at}((g - 1) / $2::int + 1)), ${at}((g - 1) / $2::int + 1))
       FROM generate_series(1, $3::int) AS g
       JOIN train tr ON tr.line_id = $1 AND tr.number = (g - 1) / $2::int + 1`,
      [line.id, per, commits],
    );
    await client.query(`INSERT INTO train_commit (train_id, commit_id) SELECT train_id, id FROM commit WHERE line_id = $1`, [line.id]);
    await client.query(
      `INSERT INTO job (train_id, kind, state, attempt, sha, requested_by, created_at, started_at, finished_at, output)
       SELECT tr.id, k.kind::"JobKind", 'succeeded', 1, tr.head_sha, 'conductor', tr.created_at, tr.created_at, tr.created_at, 'ok'
       FROM train tr CROSS JOIN (VALUES ('build'), ('deploy')) AS k(kind) WHERE tr.line_id = $1`,
      [line.id],
    );
    await client.query(
      `INSERT INTO ticket (line_id, train_id, author_email, author_name, state, commit_shas, verified_by, verified_at, requested_at, created_at)
       SELECT $1, c.train_id, c.author_email, min(c.author_name), 'verified', jsonb_agg(c.sha), c.author_email, min(c.verified_at), min(c.verified_at), min(c.verified_at)
       FROM commit c WHERE c.line_id = $1 GROUP BY c.train_id, c.author_email`,
      [line.id],
    );
    await client.query(
      `INSERT INTO audit_entry (line_id, train_id, actor, action, details, created_at)
       SELECT $1, tr.id, 'conductor', a.action, jsonb_build_object('train', tr.number), tr.created_at
       FROM train tr CROSS JOIN (VALUES ('train.created'), ('job.succeeded'), ('ticket.verified'), ('train.deploy-started'), ('train.deployed')) AS a(action)
       WHERE tr.line_id = $1 ORDER BY tr.number`,
      [line.id],
    );
    const last = await client.query<{ sha: string }>(`SELECT sha FROM commit WHERE line_id = $1 ORDER BY position DESC LIMIT 1`, [line.id]);
    await client.query(`UPDATE line SET deployed_sha = $2, known_head_sha = $2, next_train_number = $3, commit_seq = $4, updated_at = now() WHERE id = $1`, [
      line.id,
      last.rows[0]!.sha,
      trains + 1,
      commits,
    ]);
    await client.query('COMMIT');
    await client.query('ANALYZE');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
