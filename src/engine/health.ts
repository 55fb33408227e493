import * as domain from '../domain/index.js';
import { type HealthResult, SYSTEM_ACTOR, type TrainHealth } from '../domain/index.js';
import type { Engine, Reply } from './engine.js';

/** A watched train as the health watch sees it: its watch and when it was last checked (from stored results). */
export interface WatchedTrain {
  line: string;
  number: number;
  headSha: string;
  health: TrainHealth;
  lastCheckAt: Date | null;
}

/** Every watched train of `line`, with the time of its newest stored check (a restart resumes from here). */
export async function watchedTrains(engine: Engine, line: string): Promise<WatchedTrain[]> {
  const { rows } = await engine.deps.pool.query<{
    number: number;
    head_sha: string;
    health_state: TrainHealth['state'];
    health_failures: number;
    health_since: Date;
    health_until: Date;
    health_last: TrainHealth['last'];
    last_check_at: Date | null;
  }>(
    `SELECT t.number, t.head_sha, t.health_state, t.health_failures, t.health_since, t.health_until, t.health_last,
            (SELECT max(h.checked_at) FROM health_check h WHERE h.train_id = t.id) AS last_check_at
     FROM train t JOIN line l ON l.id = t.line_id
     WHERE l.name = $1 AND t.health_state = 'watching' AND t.health_since IS NOT NULL AND t.health_until IS NOT NULL
     ORDER BY t.number`,
    [line],
  );
  return rows.map((r) => ({
    line,
    number: r.number,
    headSha: r.head_sha,
    health: { state: r.health_state, failures: r.health_failures, since: r.health_since, until: r.health_until, last: r.health_last },
    lastCheckAt: r.last_check_at,
  }));
}

/**
 * behaviour.md §8's "previous healthy train": the newest train deployed before `train` whose own
 * watch did not fail (a train deployed before the line had a health check counts as healthy).
 */
async function previousHealthy(engine: Engine, line: string, train: number): Promise<number | null> {
  const { rows } = await engine.deps.pool.query<{ number: number }>(
    `SELECT t.number FROM train t JOIN line l ON l.id = t.line_id
     WHERE l.name = $1 AND t.state = 'deployed' AND t.number < $2 AND (t.health_state IS NULL OR t.health_state = 'healthy')
     ORDER BY t.number DESC LIMIT 1`,
    [line, train],
  );
  return rows[0]?.number ?? null;
}

/**
 * One check result: the decision (counting, trip, automatic rollback) and the stored result
 * row, in one transaction under the line lock. A result for a train no longer watched is
 * refused and not stored.
 */
export async function recordHealthCheck(engine: Engine, line: string, train: number, result: HealthResult): Promise<Reply> {
  const rollbackTo = await previousHealthy(engine, line, train);
  return engine.run(
    line,
    SYSTEM_ACTOR,
    async ({ tx, loaded, state, ctx }) => {
      const decision = domain.healthChecked(state, ctx, train, result, rollbackTo);
      if (decision.ok) {
        const trainId = loaded.ids.trains.get(train)!;
        await tx.execute`
          INSERT INTO health_check (line_id, train_id, outcome, value, exit_code, message, checked_at)
          VALUES (${loaded.ids.lineId}, ${trainId}, ${result.outcome}, ${result.value}, ${result.exitCode}, ${result.message.slice(0, 2000)}, ${ctx.now})`;
      }
      return { decision };
    },
    { extraTrains: rollbackTo === null ? [train] : [train, rollbackTo] },
  );
}

/** The soak of a watched train is over without a trip: it is healthy. */
export async function endHealthSoak(engine: Engine, line: string, train: number): Promise<Reply> {
  return engine.run(line, SYSTEM_ACTOR, ({ state, ctx }) => ({ decision: domain.healthSoaked(state, ctx, train) }), { extraTrains: [train] });
}
