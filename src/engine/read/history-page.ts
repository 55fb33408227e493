/**
 * `GET /api/history`: the audit log, newest first, a page at a time, each
 * entry in the same words as `/conductor history` (history.ts). The cursor
 * (`next`, passed back as `before`) is the id of the last entry shown: pages
 * stay stable while new entries arrive.
 */
import { checkEmail } from '../../domain/identity.js';
import { inTransaction } from '../../store/sql.js';
import type { Engine } from '../engine.js';
import { historySentence } from '../history.js';

export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 200;

export interface HistoryFilters {
  line: string | null;
  actor: string | null;
  /** An action code (`train.derailed`), or a family when it ends with a dot (`job.`). */
  action: string | null;
  before: string | null;
  limit: number;
}

export interface HistoryEntryJson {
  at: string;
  line: string;
  actor: string;
  action: string;
  train: number | null;
  text: string;
}

export interface HistoryPageJson {
  entries: HistoryEntryJson[];
  next: string | null;
}

/** Reads the query parameters; a string names the parameter that is wrong (the route answers 400). */
export function parseHistoryFilters(params: URLSearchParams, knownLines: ReadonlySet<string>): HistoryFilters | string {
  const one = (name: string): string | null => {
    const v = params.get(name);
    return v === null || v.trim() === '' ? null : v.trim();
  };
  const line = one('line');
  if (line !== null && !knownLines.has(line)) return `line: no line is called ${JSON.stringify(line.slice(0, 100))}`;
  const actorText = one('actor');
  let actor: string | null = null;
  if (actorText !== null) {
    const checked = checkEmail(actorText);
    // `conductor` is the system actor's name in the log.
    if (!checked.ok && actorText.toLowerCase() !== 'conductor') return `actor: must be an email (${checked.reason})`;
    actor = checked.ok ? checked.email : actorText;
  }
  const action = one('action');
  if (action !== null && !/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*\.?$/.test(action)) return 'action: must be an action code such as train.derailed, or a family such as job.';
  if (action !== null && action.length > 64) return 'action: longer than 64 characters';
  const before = one('before');
  if (before !== null && !/^[1-9][0-9]{0,17}$/.test(before)) return 'before: must be the "next" value of a previous page';
  const limitText = one('limit');
  let limit = HISTORY_DEFAULT_LIMIT;
  if (limitText !== null) {
    if (!/^[0-9]{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > HISTORY_MAX_LIMIT) return `limit: must be a whole number from 1 to ${HISTORY_MAX_LIMIT}`;
    limit = Number(limitText);
  }
  return { line, actor, action, before, limit };
}

interface Row {
  id: string;
  created_at: Date;
  line: string;
  actor: string;
  action: string;
  train: number | null;
  details: Record<string, unknown> | null;
}

export async function readHistoryPage(engine: Engine, f: HistoryFilters): Promise<HistoryPageJson> {
  const exact = f.action !== null && !f.action.endsWith('.') ? f.action : null;
  const family = f.action?.endsWith('.') ? `${f.action.replace(/_/g, '\\_')}%` : null;
  // One row more than asked says whether there is a next page.
  const rows = await inTransaction(
    engine.deps.pool,
    (sql) => sql.query<Row>`
      SELECT a.id::text AS id, a.created_at, l.name AS line, a.actor, a.action, t.number AS train, a.details
      FROM audit_entry a JOIN line l ON l.id = a.line_id LEFT JOIN train t ON t.id = a.train_id
      WHERE (${f.line}::text IS NULL OR l.name = ${f.line})
        AND (${f.actor}::text IS NULL OR lower(a.actor) = lower(${f.actor}))
        AND (${exact}::text IS NULL OR a.action = ${exact})
        AND (${family}::text IS NULL OR a.action LIKE ${family})
        AND (${f.before}::bigint IS NULL OR a.id < ${f.before}::bigint)
      ORDER BY a.id DESC
      LIMIT ${f.limit + 1}`,
    { readOnly: true },
  );
  const page = rows.slice(0, f.limit);
  return {
    entries: page.map((r) => ({
      at: r.created_at.toISOString(),
      line: r.line,
      actor: r.actor,
      action: r.action,
      train: r.train,
      text: historySentence({ createdAt: r.created_at, actor: r.actor, action: r.action, train: r.train, details: r.details ?? {} }),
    })),
    next: rows.length > f.limit ? page[page.length - 1]!.id : null,
  };
}
