import type pg from 'pg';

/** How long what only serves idempotency and diagnosis is kept. */
export interface Retention {
  /** `processed_input` keys: a replay older than this (GitHub "Redeliver" by hand, a Slack retry) is applied again. */
  inputDays: number;
  /** Delivered (or given-up) outbox rows. */
  outboxDays: number;
}

export const DEFAULT_RETENTION: Retention = { inputDays: 30, outboxDays: 30 };

/** Rows removed per statement: a long backlog is pruned over several runs instead of one long lock-holding delete. */
const BATCH = 5_000;

/**
 * Deletes idempotency keys and finished outbox rows past their retention. At a
 * busy line's pace (hundreds of webhooks a second) both tables would otherwise
 * grow without bound; nothing else refers to their old rows. The newest
 * `ticket.sync` row of a ticket still live is kept whatever its age: the Jira
 * poll reads it to leave a ticket Jira could not follow alone.
 */
export async function pruneOld(pool: pg.Pool, now: Date, r: Retention = DEFAULT_RETENTION): Promise<{ inputs: number; outbox: number }> {
  const day = 86_400_000;
  const inputs = await pool.query(
    `DELETE FROM processed_input WHERE key IN (
       SELECT key FROM processed_input WHERE processed_at < $1 LIMIT ${BATCH})`,
    [new Date(now.getTime() - r.inputDays * day)],
  );
  const outbox = await pool.query(
    `DELETE FROM outbox_item WHERE id IN (
       SELECT o.id FROM outbox_item o
       WHERE o.done_at IS NOT NULL AND o.done_at < $1
         AND NOT (o.kind = 'ticket.sync' AND EXISTS (
           SELECT 1 FROM ticket k JOIN train t ON t.id = k.train_id
           WHERE k.external_key = o.payload->>'externalKey' AND t.state IN ('delivering', 'verifying')))
       LIMIT ${BATCH})`,
    [new Date(now.getTime() - r.outboxDays * day)],
  );
  return { inputs: inputs.rowCount ?? 0, outbox: outbox.rowCount ?? 0 };
}
