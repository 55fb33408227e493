/**
 * `GET /me`: one person's view across lines (docs/behaviour.md §7): their
 * commits (waiting on the platform, on a live train, deployed today), their
 * pending verifications, and the live trains they are the engineer of. The
 * person is the signed-in email, compared ignoring case with commit authors,
 * ticket owners and engineers. Read-only, bound parameters only, bounded.
 */
import type { Train } from '../../domain/index.js';
import { inTransaction } from '../../store/sql.js';
import type { Engine } from '../engine.js';

export const MY_COMMITS_LIMIT = 100;
export const MY_LIST_LIMIT = 50;

export interface MyCommitJson {
  sha: string;
  message: string;
  line: string;
  where: 'platform' | 'train' | 'deployed';
  train: number | null;
  trainState: Train['state'] | null;
  deployedAt: string | null;
}

export interface MyVerificationJson {
  line: string;
  train: number;
  trainState: Train['state'];
  /** The ticket's key and link (Jira or built-in), when it has one. */
  ticket: string | null;
  ticketUrl: string | null;
  /** The SHAs the ticket covers: my commits on that train. */
  shas: string[];
  requestedAt: string | null;
}

export interface MyTrainJson {
  line: string;
  number: number;
  state: Train['state'];
  headSha: string;
  blocked: string | null;
  createdAt: string;
}

export interface MeJson {
  email: string;
  commits: MyCommitJson[];
  verifications: MyVerificationJson[];
  engineerOf: MyTrainJson[];
}

interface CommitRow {
  sha: string;
  message: string;
  line: string;
  state: MyCommitJson['where'];
  train: number | null;
  train_state: Train['state'] | null;
  deployed_at: Date | null;
}

interface TicketRow {
  line: string;
  train: number;
  train_state: Train['state'];
  external_key: string | null;
  external_url: string | null;
  commit_shas: unknown;
  requested_at: Date | null;
}

interface TrainRow {
  line: string;
  number: number;
  state: Train['state'];
  head_sha: string;
  blocked_reason: string | null;
  created_at: Date;
}

/**
 * "Deployed today" is today in each line's own time zone (the day people of
 * that line live in), computed from the engine's clock so tests can set it.
 */
export async function readMe(engine: Engine, email: string): Promise<MeJson> {
  const now = engine.deps.clock();
  const me = email.toLowerCase();
  return inTransaction(
    engine.deps.pool,
    async (sql) => {
      const commits = await sql.query<CommitRow>`
        SELECT c.sha, c.message, l.name AS line, c.state::text AS state, t.number AS train, t.state::text AS train_state, t.deployed_at
        FROM commit c JOIN line l ON l.id = c.line_id LEFT JOIN train t ON t.id = c.train_id
        WHERE lower(c.author_email) = ${me}
          AND (c.state IN ('platform', 'train')
               OR (c.state = 'deployed' AND t.deployed_at >= (date_trunc('day', ${now}::timestamptz AT TIME ZONE l.timezone) AT TIME ZONE l.timezone)))
        ORDER BY c.id DESC LIMIT ${MY_COMMITS_LIMIT}`;
      const tickets = await sql.query<TicketRow>`
        SELECT l.name AS line, t.number AS train, t.state::text AS train_state, k.external_key, k.external_url, k.commit_shas, k.requested_at
        FROM ticket k JOIN train t ON t.id = k.train_id JOIN line l ON l.id = k.line_id
        WHERE lower(k.author_email) = ${me} AND k.state = 'pending' AND t.state IN ('delivering', 'verifying')
        ORDER BY k.id DESC LIMIT ${MY_LIST_LIMIT}`;
      const trains = await sql.query<TrainRow>`
        SELECT l.name AS line, t.number, t.state::text AS state, t.head_sha, t.blocked_reason, t.created_at
        FROM train t JOIN line l ON l.id = t.line_id
        WHERE lower(t.engineer_email) = ${me} AND t.state IN ('delivering', 'verifying', 'deploying')
        ORDER BY t.id DESC LIMIT ${MY_LIST_LIMIT}`;
      return {
        email: me,
        commits: commits.map((r) => ({
          sha: r.sha,
          message: r.message,
          line: r.line,
          where: r.state,
          train: r.state === 'platform' ? null : r.train,
          trainState: r.state === 'platform' ? null : r.train_state,
          deployedAt: r.state === 'deployed' && r.deployed_at ? r.deployed_at.toISOString() : null,
        })),
        verifications: tickets.map((r) => ({
          line: r.line,
          train: r.train,
          trainState: r.train_state,
          ticket: r.external_key,
          ticketUrl: r.external_url,
          shas: Array.isArray(r.commit_shas) ? r.commit_shas.filter((s): s is string => typeof s === 'string') : [],
          requestedAt: r.requested_at?.toISOString() ?? null,
        })),
        engineerOf: trains.map((r) => ({
          line: r.line,
          number: r.number,
          state: r.state,
          headSha: r.head_sha,
          blocked: r.blocked_reason,
          createdAt: r.created_at.toISOString(),
        })),
      };
    },
    { readOnly: true },
  );
}
