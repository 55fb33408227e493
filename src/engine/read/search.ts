/**
 * `GET /api/search?q=`: find commits by SHA prefix, author email or words of
 * their message, across every line (docs/behaviour.md §5 "Search JSON").
 * `parseSearch` is pure; `searchCommits` is one read-only query with bound
 * parameters only (the user's words become LIKE patterns with `%`, `_` and `\`
 * escaped, never SQL text).
 */
import { inTransaction } from '../../store/sql.js';
import type { Engine } from '../engine.js';

export const SEARCH_LIMIT = 50;
export const MAX_QUERY = 200;
/** More words than this say nothing more; the rest are ignored. */
const MAX_WORDS = 10;

export type SearchQuery =
  /** Hex of 4 to 39 characters: a SHA prefix, or a word of a message ("added", "cafe"). */
  | { kind: 'sha'; prefix: string; patterns: string[] }
  /** A full 40-character SHA: that commit only. */
  | { kind: 'exact-sha'; sha: string }
  | { kind: 'email'; email: string }
  | { kind: 'words'; patterns: string[] };

export interface SearchResultJson {
  sha: string;
  authorEmail: string;
  message: string;
  line: string;
  where: 'platform' | 'train' | 'deployed' | 'removed';
  train: number | null;
  trainState: string | null;
  deployedAt: string | null;
}

/** `%`, `_` and the escape character itself match literally in a LIKE pattern. */
export const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);
const contains = (word: string): string => `%${likeEscape(word)}%`;

/** Reads `q`; a string is why it cannot be a search (the route answers 400). */
export function parseSearch(q: string | null): SearchQuery | string {
  const text = (q ?? '').trim();
  if (text === '') return 'q is required: a SHA prefix (4 to 40 hex characters), an author email, or words of a commit message';
  if (text.length > MAX_QUERY) return `q is longer than ${MAX_QUERY} characters`;
  // PostgreSQL refuses NUL in text, and no commit message or email holds another control character worth finding.
  if (/\p{Cc}/u.test(text)) return 'q contains a control character';
  if (/^[0-9a-f]{40}$/i.test(text)) return { kind: 'exact-sha', sha: text.toLowerCase() };
  if (/^[0-9a-f]{4,39}$/i.test(text)) return { kind: 'sha', prefix: text.toLowerCase(), patterns: [contains(text)] };
  if (/^[^\s@]+@[^\s@]+$/.test(text)) return { kind: 'email', email: text };
  const words = text.split(/\s+/).slice(0, MAX_WORDS);
  return { kind: 'words', patterns: words.map(contains) };
}

interface Row {
  sha: string;
  author_email: string;
  message: string;
  line: string;
  state: SearchResultJson['where'];
  train: number | null;
  train_state: string | null;
  deployed_at: Date | null;
}

/** Newest first (the order Conductor recorded the commits in), at most 50. */
export async function searchCommits(engine: Engine, q: SearchQuery): Promise<SearchResultJson[]> {
  const rows = await inTransaction(
    engine.deps.pool,
    (sql) => {
      // Same columns for every kind; only the WHERE differs. `ILIKE ALL`: every word must occur.
      switch (q.kind) {
        case 'exact-sha':
          return sql.query<Row>`
            SELECT c.sha, c.author_email, c.message, l.name AS line, c.state::text AS state, t.number AS train, t.state::text AS train_state, t.deployed_at
            FROM commit c JOIN line l ON l.id = c.line_id LEFT JOIN train t ON t.id = c.train_id
            WHERE c.sha = ${q.sha} ORDER BY c.id DESC LIMIT ${SEARCH_LIMIT}`;
        case 'sha':
          return sql.query<Row>`
            SELECT c.sha, c.author_email, c.message, l.name AS line, c.state::text AS state, t.number AS train, t.state::text AS train_state, t.deployed_at
            FROM commit c JOIN line l ON l.id = c.line_id LEFT JOIN train t ON t.id = c.train_id
            WHERE c.sha LIKE ${`${q.prefix}%`} OR c.message ILIKE ALL(${q.patterns}::text[]) ORDER BY c.id DESC LIMIT ${SEARCH_LIMIT}`;
        case 'email':
          return sql.query<Row>`
            SELECT c.sha, c.author_email, c.message, l.name AS line, c.state::text AS state, t.number AS train, t.state::text AS train_state, t.deployed_at
            FROM commit c JOIN line l ON l.id = c.line_id LEFT JOIN train t ON t.id = c.train_id
            WHERE lower(c.author_email) = lower(${q.email}) ORDER BY c.id DESC LIMIT ${SEARCH_LIMIT}`;
        case 'words':
          return sql.query<Row>`
            SELECT c.sha, c.author_email, c.message, l.name AS line, c.state::text AS state, t.number AS train, t.state::text AS train_state, t.deployed_at
            FROM commit c JOIN line l ON l.id = c.line_id LEFT JOIN train t ON t.id = c.train_id
            WHERE c.message ILIKE ALL(${q.patterns}::text[]) ORDER BY c.id DESC LIMIT ${SEARCH_LIMIT}`;
      }
    },
    { readOnly: true },
  );
  return rows.map(searchResultJson);
}

/** Pure. A removed commit is on no train any more (an emergency reset took it off the branch). */
export function searchResultJson(r: Row): SearchResultJson {
  const onTrain = r.state !== 'removed' && r.train !== null;
  return {
    sha: r.sha,
    authorEmail: r.author_email,
    message: r.message,
    line: r.line,
    where: r.state,
    train: onTrain ? r.train : null,
    trainState: onTrain ? r.train_state : null,
    deployedAt: onTrain && r.deployed_at ? r.deployed_at.toISOString() : null,
  };
}
