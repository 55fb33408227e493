/**
 * Live updates (docs/behaviour.md §7): a change to a line is announced on the
 * PostgreSQL channel `conductor_change` INSIDE the transaction that makes it,
 * so the notification is delivered when (and only if) the change commits, to
 * every Conductor process listening on the database (src/web/live/).
 */
import type { Sql } from '../store/sql.js';

export const CHANGE_CHANNEL = 'conductor_change';

/** What a notification carries: `line` is `*` for "anything may have changed". */
export interface ChangeEvent {
  /** From the sequence change_event_id_seq: unique and increasing across processes. */
  id: number;
  line: string;
  train: number | null;
}

/** Announces a change of `line` (about `train`, when one train is concerned); delivered at COMMIT. */
export async function notifyChange(tx: Sql, line: string, train: number | null): Promise<void> {
  await tx.query`
    SELECT pg_notify(${CHANGE_CHANNEL}, json_build_object('id', nextval('change_event_id_seq'), 'line', ${line}::text, 'train', ${train}::int)::text)`;
}

/** The one train a set of audit entries is about, else null (several trains, or the line itself). */
export function trainOf(audit: { train: number | null }[]): number | null {
  const trains = new Set(audit.map((a) => a.train));
  if (trains.size !== 1) return null;
  return [...trains][0] ?? null;
}

/**
 * For a write made outside a transaction of the engine (one autocommitted
 * statement, e.g. a job's "waiting for Jenkins" note): announced just after it
 * committed, on its own.
 */
export async function notifyCommitted(pool: { query(text: string, values: unknown[]): Promise<unknown> }, line: string, train: number | null): Promise<void> {
  await pool.query(`SELECT pg_notify($1, json_build_object('id', nextval('change_event_id_seq'), 'line', $2::text, 'train', $3::int)::text)`, [CHANGE_CHANNEL, line, train]);
}
