import type { Bisect, CommitRef, HealthCheckConfig, HealthPolicy, Job, LineState, Ticket, Train, TrainHealth } from '../domain/index.js';
import type { AutoTimeWindow } from '../domain/time.js';
import type { Sql } from '../store/sql.js';
import type { LineRuntimeConfig } from './line-config.js';

/** Database ids of what a LineState holds, so the saver can write differences back. */
export interface Ids {
  lineId: number;
  commitSeq: bigint;
  trains: Map<number, number>;
  commits: Map<string, number>;
  jobs: Map<string, number>;
  tickets: Map<string, number>;
}

export interface Loaded {
  state: LineState;
  ids: Ids;
}

export const jobKey = (train: number, kind: string, attempt: number): string => `${train}:${kind}:${attempt}`;
const ticketKey = (train: number, author: string): string => `${train}:${author}`;

/**
 * Loads a line's state. With `lock`, the line row is locked FOR UPDATE first so
 * that every input on this line serialises (different lines run in parallel).
 * Only live trains, trains with unfinished jobs and the trains named in
 * `extraTrains` are read, so the cost does not grow with history.
 */
// Over 80 lines on purpose: the numbered reads of one snapshot, in the order their rows depend on each other.
export async function loadLine(
  tx: Sql,
  cfg: LineRuntimeConfig,
  // `withoutTrainCommits`: trains come without their commits (read-only pages that read a big train's commits a page at a time).
  opts: { lock: boolean; extraTrains?: number[]; newestTrain?: boolean; withoutTrainCommits?: boolean },
): Promise<Loaded | null> {
  // Raw SQL, few round trips: every input on a line pays for this load under the line's lock,
  // so it bounds how many inputs a second one line takes (push webhooks).
  // 1. The line row (locked FOR UPDATE first when asked: every input on this line then serialises),
  //    with the newest train. What production runs is on the row itself (behaviour.md §9).
  const lines = opts.lock
    ? await tx.query<LineRow>`
        SELECT l.*, (SELECT max(number) FROM train WHERE line_id = l.id) AS newest_train
        FROM line l WHERE l.name = ${cfg.name} FOR UPDATE`
    : await tx.query<LineRow>`
        SELECT l.*, (SELECT max(number) FROM train WHERE line_id = l.id) AS newest_train
        FROM line l WHERE l.name = ${cfg.name}`;
  const line = lines[0];
  if (!line) return null;
  const extra = [...(opts.extraTrains ?? [])];
  if (opts.newestTrain && line.newest_train !== null) extra.push(line.newest_train);

  // 2. Live trains, named ones and trains with unfinished jobs; 3. the platform.
  const trainRows = await tx.query<TrainRow>`
    SELECT t.* FROM train t
    WHERE t.line_id = ${line.id}
      AND (t.state IN ('delivering', 'verifying', 'deploying')
           OR t.health_state = 'watching'
           OR t.number = ANY(${extra}::int[])
           OR EXISTS (SELECT 1 FROM job j WHERE j.train_id = t.id AND j.state IN ('queued', 'running', 'unknown')))
    ORDER BY t.number`;
  const platformRows = await tx.query<CommitRow>`
    SELECT id, sha, author_name, author_email, message, verified_by, verified_at
    FROM commit WHERE line_id = ${line.id} AND state = 'platform' ORDER BY position`;

  const ids: Ids = {
    lineId: line.id,
    commitSeq: BigInt(line.commit_seq),
    trains: new Map(),
    commits: new Map(),
    jobs: new Map(),
    tickets: new Map(),
  };
  const trainIds = trainRows.map((t) => t.id);
  const [links, ticketRows, jobRows] = trainIds.length
    ? [
        opts.withoutTrainCommits
          ? []
          : await tx.query<CommitRow & { train_id: number }>`
          SELECT tc.train_id, c.id, c.sha, c.author_name, c.author_email, c.message, c.verified_by, c.verified_at
          FROM train_commit tc JOIN commit c ON c.id = tc.commit_id
          WHERE tc.train_id = ANY(${trainIds}::int[]) ORDER BY c.position`,
        await tx.query<TicketRow>`SELECT * FROM ticket WHERE train_id = ANY(${trainIds}::int[]) ORDER BY id`,
        await tx.query<JobRow>`SELECT * FROM job WHERE train_id = ANY(${trainIds}::int[]) ORDER BY id`,
      ]
    : [[], [], []];
  const commitsByTrain = new Map<number, CommitRef[]>();
  for (const l of links) {
    const list = commitsByTrain.get(l.train_id) ?? [];
    list.push(toCommit(l));
    commitsByTrain.set(l.train_id, list);
    ids.commits.set(l.sha, l.id);
  }
  for (const c of platformRows) ids.commits.set(c.sha, c.id);
  const numberOf = new Map(trainRows.map((t) => [t.id, t.number]));
  const ticketsByTrain = new Map<number, Ticket[]>();
  for (const k of ticketRows) {
    ids.tickets.set(ticketKey(numberOf.get(k.train_id)!, k.author_email), k.id);
    ticketsByTrain.set(k.train_id, [...(ticketsByTrain.get(k.train_id) ?? []), toTicket(k)]);
  }
  const jobsByTrain = new Map<number, Job[]>();
  for (const j of jobRows) {
    ids.jobs.set(jobKey(numberOf.get(j.train_id)!, j.kind, j.attempt), j.id);
    jobsByTrain.set(j.train_id, [...(jobsByTrain.get(j.train_id) ?? []), toJob(j)]);
  }

  const trains: Train[] = trainRows.map((t) => {
    ids.trains.set(t.number, t.id);
    return {
      number: t.number,
      state: t.state,
      headSha: t.head_sha,
      baseSha: t.base_sha,
      engineer: t.engineer_email,
      blocked: t.blocked_reason,
      derailReason: t.derail_reason,
      replaces: null,
      createdBy: t.created_by,
      createdAt: t.created_at,
      deliveredAt: t.delivered_at,
      verifiedAt: t.verified_at,
      deployStartedAt: t.deploy_started_at,
      deployedAt: t.deployed_at,
      derailedAt: t.derailed_at,
      commits: commitsByTrain.get(t.id) ?? [],
      tickets: ticketsByTrain.get(t.id) ?? [],
      jobs: jobsByTrain.get(t.id) ?? [],
      health: toHealth(t),
      bisect: toBisect(t.bisect),
    };
  });
  const state: LineState = {
    settings: {
      name: line.name,
      branch: line.branch,
      mode: line.mode,
      manualReason: line.manual_reason,
      manualSetBy: line.manual_set_by,
      autoTime: line.auto_time,
      freezes: line.freezes,
      timezone: line.timezone,
      maxCommits: cfg.maxCommits,
      reminderMinutes: cfg.reminderMinutes,
      timeouts: cfg.timeouts,
      health: cfg.health ? healthPolicy(cfg.health) : null,
      ...(cfg.bisect ? { bisect: cfg.bisect } : {}),
    },
    deployedSha: line.deployed_sha,
    knownHeadSha: line.known_head_sha,
    nextTrainNumber: line.next_train_number,
    platform: platformRows.map(toCommit),
    trains,
    lastDeployed: line.production_train === null ? null : { number: line.production_train, headSha: line.production_sha! },
    production:
      line.production_train === null
        ? null
        : {
            number: line.production_train,
            headSha: line.production_sha!,
            since: line.production_since!,
            by: line.production_by!,
            rolledBackFrom: line.production_rolled_back_from,
          },
    healthBlock: line.health_block,
  };
  return { state, ids };
}

export { ticketKey };

// Rows as PostgreSQL returns them (snake_case; enums as text, json parsed, timestamptz as Date).
interface LineRow {
  id: number;
  name: string;
  branch: string;
  mode: LineState['settings']['mode'];
  manual_reason: string | null;
  manual_set_by: string | null;
  auto_time: AutoTimeWindow[];
  freezes: string[];
  timezone: string;
  deployed_sha: string;
  known_head_sha: string;
  next_train_number: number;
  commit_seq: bigint | number | string;
  newest_train: number | null;
  production_train: number | null;
  production_sha: string | null;
  production_since: Date | null;
  production_by: string | null;
  production_rolled_back_from: number | null;
  health_block: string | null;
}

interface TrainRow {
  id: number;
  number: number;
  state: Train['state'];
  head_sha: string;
  base_sha: string;
  engineer_email: string | null;
  blocked_reason: string | null;
  derail_reason: string | null;
  created_by: string;
  created_at: Date;
  delivered_at: Date | null;
  verified_at: Date | null;
  deploy_started_at: Date | null;
  deployed_at: Date | null;
  derailed_at: Date | null;
  health_state: TrainHealth['state'] | null;
  health_failures: number;
  health_since: Date | null;
  health_until: Date | null;
  health_last: TrainHealth['last'];
  /** jsonb: the culprit search, its dates as ISO strings. */
  bisect: (Omit<Bisect, 'startedAt' | 'endedAt'> & { startedAt: string; endedAt: string | null }) | null;
}

const toHealth = (t: TrainRow): TrainHealth | null =>
  t.health_state && t.health_since && t.health_until ? { state: t.health_state, failures: t.health_failures, since: t.health_since, until: t.health_until, last: t.health_last } : null;

const toBisect = (b: TrainRow['bisect']): Bisect | null => (b ? { ...b, startedAt: new Date(b.startedAt), endedAt: b.endedAt ? new Date(b.endedAt) : null } : null);

/** The domain's part of the config's health check (the probe is the runner's). */
const healthPolicy = ({ probe: _probe, ...policy }: HealthCheckConfig): HealthPolicy => policy;

interface CommitRow {
  id: number;
  sha: string;
  author_name: string;
  author_email: string;
  message: string;
  verified_by: string | null;
  verified_at: Date | null;
}

const toCommit = (c: CommitRow): CommitRef => ({
  sha: c.sha,
  authorName: c.author_name,
  authorEmail: c.author_email,
  message: c.message,
  verifiedBy: c.verified_by,
  verifiedAt: c.verified_at,
});

interface TicketRow {
  id: number;
  train_id: number;
  author_email: string;
  author_name: string;
  state: Ticket['state'];
  commit_shas: string[];
  verified_by: string | null;
  verified_at: Date | null;
  requested_at: Date | null;
  reminded_at: Date | null;
  external_key: string | null;
  external_url: string | null;
  created_at: Date;
}

const toTicket = (k: TicketRow): Ticket => ({
  authorEmail: k.author_email,
  authorName: k.author_name,
  state: k.state,
  commitShas: k.commit_shas,
  verifiedBy: k.verified_by,
  verifiedAt: k.verified_at,
  requestedAt: k.requested_at,
  remindedAt: k.reminded_at,
  externalKey: k.external_key,
  externalUrl: k.external_url,
  createdAt: k.created_at,
});

interface JobRow {
  id: number;
  train_id: number;
  kind: Job['kind'];
  state: Job['state'];
  attempt: number;
  sha: string;
  requested_by: string;
  external_id: string | null;
  url: string | null;
  output: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  timeout_at: Date | null;
}

const toJob = (j: JobRow): Job => ({
  kind: j.kind,
  state: j.state,
  attempt: j.attempt,
  sha: j.sha,
  requestedBy: j.requested_by,
  externalId: j.external_id,
  url: j.url,
  output: j.output,
  createdAt: j.created_at,
  startedAt: j.started_at,
  finishedAt: j.finished_at,
  timeoutAt: j.timeout_at,
});
