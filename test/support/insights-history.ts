/**
 * A month of a line's history written straight into the database (bulk SQL),
 * for the insights page's browser test and screenshot: trains every few hours
 * with 1–6 commits each, their steps timed with some spread, 1 in 12 derailed
 * (a reason), 1 in 9 rolled back and restored. Not the engine's path: only
 * the tables the insights read model reads.
 */
import type pg from 'pg';

export async function seedMonth(pool: pg.Pool, line: string, now: Date, opts: { days?: number; trainsPerDay?: number } = {}): Promise<void> {
  const days = opts.days ?? 30;
  const perDay = opts.trainsPerDay ?? 5;
  const trains = days * perDay;
  const start = new Date(now.getTime() - days * 86_400_000);
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM line WHERE name = $1', [line]);
  const id = rows[0]!.id;
  const every = Math.floor((days * 86_400_000) / trains);
  await pool.query(
    `INSERT INTO train (line_id, number, state, head_sha, base_sha, created_by, created_at, delivered_at, verified_at, deploy_started_at, deployed_at, derailed_at, derail_reason)
     SELECT $1, 1000 + n, CASE WHEN n % 12 = 5 THEN 'derailed' ELSE 'deployed' END::"TrainState", md5('h' || n) || '00000000', md5('b' || n) || '00000000', 'conductor', c,
            c + make_interval(mins => 5 + n % 7), c + make_interval(mins => 15 + (n * 13) % 50),
            CASE WHEN n % 12 <> 5 THEN c + make_interval(mins => 20 + (n * 13) % 50 + n % 9) END,
            CASE WHEN n % 12 <> 5 THEN c + make_interval(mins => 28 + (n * 13) % 50 + n % 9 + n % 4) END,
            CASE WHEN n % 12 = 5 THEN c + make_interval(mins => 12) END,
            CASE WHEN n % 12 = 5 THEN (ARRAY['flaky tests', 'broken on staging', 'wrong config'])[1 + (n / 12) % 3] END
     FROM generate_series(1, $2::int) AS n, LATERAL (SELECT $3::timestamptz + (n - 1) * make_interval(secs => $4::float8 / 1000) AS c) t`,
    [id, trains, start, every],
  );
  // Slot n's commits were first seen after train n-1 started and before train n did; a derailed train's commits ride the next one.
  // Positions are dense and follow first_seen_at, as the engine numbers them.
  await pool.query(
    `INSERT INTO commit (line_id, sha, position, author_name, author_email, message, state, train_id, first_seen_at)
     SELECT $1, sha, row_number() OVER (ORDER BY seen, sha), 'Dev', author, 'Change', CASE WHEN taker IS NULL THEN 'platform' ELSE 'deployed' END::"CommitState", taker, seen
     FROM (
       SELECT md5('s' || t.number || '-' || k) || '00000000' AS sha, 'dev' || k || '@example.com' AS author,
              t.created_at - make_interval(secs => ((t.number * 37 + k * 11) % 97 + 1) * $2::float8 / 1000 / 100) AS seen,
              (SELECT x.id FROM train x WHERE x.line_id = $1 AND x.number >= t.number AND x.state = 'deployed' ORDER BY x.number LIMIT 1) AS taker
       FROM train t, generate_series(1, 1 + t.number % 6) AS k WHERE t.line_id = $1 AND t.number > 1000
     ) c`,
    [id, every],
  );
  // A train's head: the newest commit seen when it started (it took the whole platform).
  await pool.query(
    `UPDATE train t SET head_sha = (SELECT c.sha FROM commit c WHERE c.line_id = t.line_id AND c.first_seen_at <= t.created_at ORDER BY c.position DESC LIMIT 1)
     WHERE t.line_id = $1 AND t.number > 1000`,
    [id],
  );
  await pool.query('UPDATE line SET commit_seq = (SELECT count(*) FROM commit WHERE line_id = $1) WHERE id = $1', [id]);
  await pool.query(
    `INSERT INTO audit_entry (line_id, train_id, actor, action, details, created_at)
     SELECT t.line_id, t.id, 'admin@example.com', x.action, '{}'::jsonb, t.deployed_at + x.after
     FROM train t, LATERAL (VALUES ('line.rollback', interval '20 minutes'), ('line.rolled-back', interval '31 minutes')) AS x(action, after)
     WHERE t.line_id = $1 AND t.number > 1000 AND t.number % 9 = 4 AND t.deployed_at IS NOT NULL`,
    [id],
  );
  await pool.query('UPDATE line SET next_train_number = GREATEST(next_train_number, $2) WHERE id = $1', [id, 1001 + trains]);
}
