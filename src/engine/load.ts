import type { CommitRef, Job, LineState, Train, Ticket } from '../domain/index.js';
import type { AutoTimeWindow } from '../domain/time.js';
import type { Tx } from './db.js';
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

const LIVE = ['delivering', 'verifying', 'deploying'] as const;

/**
 * Loads a line's state. With `lock`, the line row is locked FOR UPDATE first so
 * that every input on this line serialises (different lines run in parallel).
 * Only live trains, trains with unfinished jobs and the trains named in
 * `extraTrains` are read, so the cost does not grow with history.
 */
export async function loadLine(
  tx: Tx,
  cfg: LineRuntimeConfig,
  opts: { lock: boolean; extraTrains?: number[]; newestTrain?: boolean },
): Promise<Loaded | null> {
  if (opts.lock) {
    const rows = await tx.$queryRaw<{ id: number }[]>`SELECT id FROM line WHERE name = ${cfg.name} FOR UPDATE`;
    if (rows.length === 0) return null;
  }
  const line = await tx.line.findUnique({ where: { name: cfg.name } });
  if (!line) return null;
  const extra = [...(opts.extraTrains ?? [])];
  if (opts.newestTrain) {
    const newest = await tx.train.findFirst({ where: { lineId: line.id }, orderBy: { number: 'desc' }, select: { number: true } });
    if (newest) extra.push(newest.number);
  }
  const trainRows = await tx.train.findMany({
    where: {
      lineId: line.id,
      OR: [
        { state: { in: [...LIVE] } },
        { number: { in: extra } },
        { jobs: { some: { state: { in: ['queued', 'running'] } } } },
      ],
    },
    include: { tickets: true, jobs: true },
    orderBy: { number: 'asc' },
  });
  const ids: Ids = {
    lineId: line.id,
    commitSeq: line.commitSeq,
    trains: new Map(),
    commits: new Map(),
    jobs: new Map(),
    tickets: new Map(),
  };
  const trainIds = trainRows.map((t) => t.id);
  const links = trainIds.length
    ? await tx.trainCommit.findMany({
        where: { trainId: { in: trainIds } },
        include: { commit: true },
        orderBy: { commit: { position: 'asc' } },
      })
    : [];
  const commitsByTrain = new Map<number, CommitRef[]>();
  for (const l of links) {
    const list = commitsByTrain.get(l.trainId) ?? [];
    list.push(toCommit(l.commit));
    commitsByTrain.set(l.trainId, list);
    ids.commits.set(l.commit.sha, l.commit.id);
  }
  const platformRows = await tx.commit.findMany({
    where: { lineId: line.id, state: 'platform' },
    orderBy: { position: 'asc' },
  });
  for (const c of platformRows) ids.commits.set(c.sha, c.id);

  const trains: Train[] = trainRows.map((t) => {
    ids.trains.set(t.number, t.id);
    for (const j of t.jobs) ids.jobs.set(jobKey(t.number, j.kind, j.attempt), j.id);
    for (const k of t.tickets) ids.tickets.set(ticketKey(t.number, k.authorEmail), k.id);
    return {
      number: t.number,
      state: t.state,
      headSha: t.headSha,
      baseSha: t.baseSha,
      engineer: t.engineerEmail,
      blocked: t.blockedReason,
      derailReason: t.derailReason,
      replaces: null,
      createdBy: t.createdBy,
      createdAt: t.createdAt,
      deliveredAt: t.deliveredAt,
      verifiedAt: t.verifiedAt,
      deployStartedAt: t.deployStartedAt,
      deployedAt: t.deployedAt,
      derailedAt: t.derailedAt,
      commits: commitsByTrain.get(t.id) ?? [],
      tickets: t.tickets.sort((a, b) => a.id - b.id).map(toTicket),
      jobs: t.jobs.sort((a, b) => a.id - b.id).map(toJob),
    };
  });
  const lastDeployed = await tx.train.findFirst({
    where: { lineId: line.id, state: 'deployed' },
    orderBy: { number: 'desc' },
    select: { number: true, headSha: true },
  });
  const state: LineState = {
    settings: {
      name: line.name,
      branch: line.branch,
      mode: line.mode,
      manualReason: line.manualReason,
      autoTime: line.autoTime as unknown as AutoTimeWindow[],
      freezes: line.freezes as unknown as string[],
      timezone: line.timezone,
      maxCommits: cfg.maxCommits,
      reminderMinutes: cfg.reminderMinutes,
      timeouts: cfg.timeouts,
    },
    deployedSha: line.deployedSha,
    knownHeadSha: line.knownHeadSha,
    nextTrainNumber: line.nextTrainNumber,
    platform: platformRows.map(toCommit),
    trains,
    lastDeployed,
  };
  return { state, ids };
}

export { ticketKey };

type CommitRow = { sha: string; authorName: string; authorEmail: string; message: string; verifiedBy: string | null; verifiedAt: Date | null };
const toCommit = (c: CommitRow): CommitRef => ({
  sha: c.sha,
  authorName: c.authorName,
  authorEmail: c.authorEmail,
  message: c.message,
  verifiedBy: c.verifiedBy,
  verifiedAt: c.verifiedAt,
});

type TicketRow = Omit<Ticket, 'commitShas'> & { commitShas: unknown };
const toTicket = (k: TicketRow): Ticket => ({
  authorEmail: k.authorEmail,
  authorName: k.authorName,
  state: k.state,
  commitShas: k.commitShas as string[],
  verifiedBy: k.verifiedBy,
  verifiedAt: k.verifiedAt,
  requestedAt: k.requestedAt,
  remindedAt: k.remindedAt,
  externalKey: k.externalKey,
  externalUrl: k.externalUrl,
  createdAt: k.createdAt,
});

const toJob = (j: Job): Job => ({
  kind: j.kind,
  state: j.state,
  attempt: j.attempt,
  sha: j.sha,
  requestedBy: j.requestedBy,
  externalId: j.externalId,
  url: j.url,
  output: j.output,
  createdAt: j.createdAt,
  startedAt: j.startedAt,
  finishedAt: j.finishedAt,
  timeoutAt: j.timeoutAt,
});
