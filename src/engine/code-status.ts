import type { Engine } from './engine.js';

/**
 * The commits whose `code.status` was delivered by an item newer than `afterId`
 * on this line: a retried, older status must not overwrite them (e.g. "on
 * train #4" failing while "deployed with train #4" got through).
 */
export async function newerStatusShas(engine: Engine, line: string, afterId: bigint): Promise<Set<string>> {
  const { rows } = await engine.deps.pool.query<{ sha: string }>(
    `SELECT DISTINCT jsonb_array_elements_text(payload->'shas') AS sha FROM outbox_item
     WHERE kind = 'code.status' AND id > $1 AND done_at IS NOT NULL AND last_error IS NULL
       AND payload->>'line' = $2 AND jsonb_typeof(payload->'shas') = 'array'`,
    [afterId.toString(), line],
  );
  return new Set(rows.map((r) => r.sha));
}
