import { randomUUID } from 'node:crypto';
import type { AuditEvent, CommitRef, Effect, Job, LineState, Ticket, Train } from '../domain/index.js';
import type { Tx } from './db.js';
import { jobKey, ticketKey, type Loaded } from './load.js';

type CommitLocation = { state: 'platform' | 'train' | 'deployed'; train: number | null };

/** Where each commit is: on the platform, or held by a (non-derailed) train. Absent means removed. */
function locations(s: LineState): Map<string, CommitLocation> {
  const map = new Map<string, CommitLocation>();
  for (const c of s.platform) map.set(c.sha, { state: 'platform', train: null });
  for (const t of s.trains) {
    if (t.state === 'derailed') continue;
    const state = t.state === 'deployed' ? 'deployed' : 'train';
    for (const c of t.commits) map.set(c.sha, { state, train: t.number });
  }
  return map;
}

function allCommits(s: LineState): Map<string, CommitRef> {
  const map = new Map<string, CommitRef>();
  for (const c of s.platform) map.set(c.sha, c);
  for (const t of s.trains) for (const c of t.commits) map.set(c.sha, c);
  return map;
}

/**
 * Writes the difference between the loaded state and the decided one, the
 * audit entries and the outbox rows, all in the caller's transaction.
 * `newCommits` are commits first seen by this input, in branch order.
 */
export async function saveDecision(
  tx: Tx,
  loaded: Loaded,
  after: LineState,
  audit: AuditEvent[],
  decidedEffects: Effect[],
  meta: { actor: string; now: Date; newCommits?: CommitRef[]; commitStatuses?: boolean },
): Promise<{ outboxRows: number }> {
  const { ids, state: before } = loaded;
  let effects: OutboxEffect[] = decidedEffects;
  const lineId = ids.lineId;

  // 1. Commits seen for the first time, in branch order.
  const fresh = meta.newCommits ?? [];
  let seq = ids.commitSeq;
  if (fresh.length > 0) {
    // One INSERT with array parameters: Prisma's createMany costs ~10x more on 5,000 rows.
    const rows = await tx.$queryRaw<{ id: number; sha: string }[]>`
      INSERT INTO commit (line_id, sha, position, author_name, author_email, message, first_seen_at)
      SELECT ${lineId}, x.sha, ${seq} + x.ord, x.author_name, x.author_email, x.message, ${meta.now}
      FROM unnest(${fresh.map((c) => c.sha)}::text[], ${fresh.map((c) => c.authorName)}::text[],
                  ${fresh.map((c) => c.authorEmail)}::text[], ${fresh.map((c) => c.message)}::text[])
           WITH ORDINALITY AS x(sha, author_name, author_email, message, ord)
      RETURNING id, sha`;
    for (const r of rows) ids.commits.set(r.sha, r.id);
    seq += BigInt(fresh.length);
  }

  // 2. The line's own row.
  const a = after.settings;
  const b = before.settings;
  if (
    fresh.length > 0 ||
    a.mode !== b.mode ||
    a.manualReason !== b.manualReason ||
    a.timezone !== b.timezone ||
    JSON.stringify(a.autoTime) !== JSON.stringify(b.autoTime) ||
    JSON.stringify(a.freezes) !== JSON.stringify(b.freezes) ||
    after.deployedSha !== before.deployedSha ||
    after.knownHeadSha !== before.knownHeadSha ||
    after.nextTrainNumber !== before.nextTrainNumber
  ) {
    // Raw SQL here and for audit and outbox rows: every input writes these, so their cost bounds
    // how many inputs a second one line takes (Prisma's query building costs ~1 ms a statement).
    await tx.$executeRaw`
      UPDATE line SET mode = ${a.mode}::"LineMode", manual_reason = ${a.manualReason}, timezone = ${a.timezone},
        auto_time = ${JSON.stringify(a.autoTime)}::jsonb, freezes = ${JSON.stringify(a.freezes)}::jsonb,
        deployed_sha = ${after.deployedSha}, known_head_sha = ${after.knownHeadSha},
        next_train_number = ${after.nextTrainNumber}, commit_seq = ${seq}, updated_at = now()
      WHERE id = ${lineId}`;
  }

  // 3. Trains: create new ones, update changed ones.
  for (const t of after.trains) {
    const old = before.trains.find((o) => o.number === t.number);
    if (!old) {
      const created = await tx.train.create({
        data: {
          lineId,
          number: t.number,
          state: t.state,
          headSha: t.headSha,
          baseSha: t.baseSha,
          engineerEmail: t.engineer,
          blockedReason: t.blocked,
          derailReason: t.derailReason,
          replacesTrainId: t.replaces === null ? null : (ids.trains.get(t.replaces) ?? null),
          createdBy: t.createdBy,
          ...times(t),
        },
      });
      ids.trains.set(t.number, created.id);
      const commitIds = t.commits.map((c) => commitId(ids.commits, c.sha));
      await tx.$executeRaw`INSERT INTO train_commit (train_id, commit_id) SELECT ${created.id}, unnest(${commitIds}::int[])`;
    } else if (trainChanged(old, t)) {
      await tx.train.update({
        where: { id: trainId(ids.trains, t.number) },
        data: {
          state: t.state,
          engineerEmail: t.engineer,
          blockedReason: t.blocked,
          derailReason: t.derailReason,
          ...times(t),
        },
      });
    }
  }

  // 4. Where each commit now is, grouped so a 5,000-commit train is a handful of statements.
  const was = locations(before);
  const now = locations(after);
  const groups = new Map<string, number[]>();
  const moved = new Map<string, string[]>(); // same keys, SHAs: for commit statuses
  const freshShas = new Set(fresh.map((c) => c.sha));
  const consider = new Set([...was.keys(), ...now.keys()]);
  for (const sha of consider) {
    const from = was.get(sha);
    const to = now.get(sha);
    if (!freshShas.has(sha) && from && to && from.state === to.state && from.train === to.train) continue;
    const key = to ? `${to.state}:${to.train ?? ''}` : 'removed:';
    moved.set(key, [...(moved.get(key) ?? []), sha]);
    if (freshShas.has(sha) && to?.state === 'platform') continue; // inserted as platform already
    const list = groups.get(key) ?? [];
    list.push(commitId(ids.commits, sha));
    groups.set(key, list);
  }
  // Commits leave the branch by an emergency reset, or by a force push someone else made.
  const removedBy = audit.some((e) => e.action === 'commits.removed') ? 'removed from the branch by a force push' : 'removed by emergency reset';
  if (meta.commitStatuses) effects = [...effects, ...statusEffects(moved, removedBy)];
  for (const [key, commitIds] of groups) {
    const [state, train] = key.split(':') as ['platform' | 'train' | 'deployed' | 'removed', string];
    await tx.commit.updateMany({
      where: { id: { in: commitIds } },
      data: {
        state,
        trainId: train ? trainId(ids.trains, Number(train)) : null,
        removedAt: state === 'removed' ? meta.now : null,
      },
    });
  }

  // 5. Verification marks on commits (they travel with the commit).
  const oldCommits = allCommits(before);
  const marks = new Map<string, number[]>();
  for (const [sha, c] of allCommits(after)) {
    const o = oldCommits.get(sha);
    const prevBy = o?.verifiedBy ?? null;
    const prevAt = o?.verifiedAt?.getTime() ?? null;
    if (prevBy === c.verifiedBy && prevAt === (c.verifiedAt?.getTime() ?? null)) continue;
    const key = JSON.stringify([c.verifiedBy, c.verifiedAt?.toISOString() ?? null]);
    const list = marks.get(key) ?? [];
    list.push(commitId(ids.commits, sha));
    marks.set(key, list);
  }
  for (const [key, commitIds] of marks) {
    const [by, at] = JSON.parse(key) as [string | null, string | null];
    await tx.commit.updateMany({ where: { id: { in: commitIds } }, data: { verifiedBy: by, verifiedAt: at ? new Date(at) : null } });
  }

  // 6. Tickets and jobs.
  for (const t of after.trains) {
    const old = before.trains.find((o) => o.number === t.number);
    const tid = trainId(ids.trains, t.number);
    const created: Ticket[] = [];
    for (const k of t.tickets) {
      const prev = old?.tickets.find((o) => o.authorEmail === k.authorEmail);
      if (prev && JSON.stringify(prev) === JSON.stringify(k)) continue;
      // Verified or reopened here: the outside ticket (Jira) follows, through the outbox.
      if (prev && prev.state !== k.state && k.externalKey)
        effects = [...effects, { kind: 'ticket.sync', externalKey: k.externalKey, done: k.state === 'verified' }];
      const existing = ids.tickets.get(ticketKey(t.number, k.authorEmail));
      if (existing) await tx.ticket.update({ where: { id: existing }, data: ticketData(k) });
      else created.push(k);
    }
    if (created.length > 0) {
      // A 300-author train creates 300 tickets at delivery: one statement, not 300.
      await tx.ticket.createMany({ data: created.map((k) => ({ ...ticketData(k), lineId, trainId: tid, authorEmail: k.authorEmail })) });
      const rows = await tx.ticket.findMany({ where: { trainId: tid }, select: { id: true, authorEmail: true } });
      for (const r of rows) ids.tickets.set(ticketKey(t.number, r.authorEmail), r.id);
    }
    for (const j of t.jobs) {
      const prev = old?.jobs.find((o) => o.kind === j.kind && o.attempt === j.attempt);
      if (prev && JSON.stringify(prev) === JSON.stringify(j)) continue;
      const existing = ids.jobs.get(jobKey(t.number, j.kind, j.attempt));
      if (existing) await tx.job.update({ where: { id: existing }, data: jobData(j) });
      else {
        const row = await tx.job.create({ data: { ...jobData(j), trainId: tid, kind: j.kind, attempt: j.attempt } });
        ids.jobs.set(jobKey(t.number, j.kind, j.attempt), row.id);
      }
    }
  }

  // 7. Audit entries and outbox rows, in the same transaction as the change.
  if (audit.length > 0) {
    await tx.$executeRaw`
      INSERT INTO audit_entry (line_id, train_id, actor, action, details, created_at)
      SELECT ${lineId}, x.train_id, ${meta.actor}, x.action, x.details, ${meta.now}
      FROM unnest(${audit.map((e) => (e.train === null ? null : (ids.trains.get(e.train) ?? null)))}::int[],
                  ${audit.map((e) => e.action)}::text[], ${audit.map((e) => JSON.stringify(e.details))}::jsonb[])
           AS x(train_id, action, details)`;
  }
  if (effects.length > 0) {
    await tx.$executeRaw`
      INSERT INTO outbox_item (line_id, kind, payload, idempotency_key, next_attempt_at)
      SELECT ${lineId}, x.kind, x.payload, x.key, ${meta.now}
      FROM unnest(${effects.map((e) => e.kind)}::text[],
                  ${effects.map((e) => JSON.stringify({ ...e, line: after.settings.name, ...jobRef(ids, e) }))}::jsonb[],
                  ${effects.map((e) => `${after.settings.name}:${e.kind}:${randomUUID()}`)}::text[])
           WITH ORDINALITY AS x(kind, payload, key, ord)
      ORDER BY x.ord`;
  }
  return { outboxRows: effects.length };
}

/** A GitHub commit status for commits that moved (SPEC §4): where each commit is now. */
export type StatusEffect = { kind: 'code.status'; shas: string[]; state: 'pending' | 'success' | 'error'; description: string };
type TicketSyncEffect = { kind: 'ticket.sync'; externalKey: string; done: boolean };
type OutboxEffect = Effect | StatusEffect | TicketSyncEffect;

/** At most this many statuses per move: GitHub allows ~5,000 calls an hour, so a huge train marks its newest commits. */
const MAX_STATUSES = 100;

function statusEffects(moved: Map<string, string[]>, removedBy: string): StatusEffect[] {
  const out: StatusEffect[] = [];
  for (const [key, shas] of moved) {
    const [state, train] = key.split(':') as [string, string];
    const newest = shas.slice(-MAX_STATUSES);
    if (state === 'platform') out.push({ kind: 'code.status', shas: newest, state: 'pending', description: 'waiting on the platform' });
    else if (state === 'train') out.push({ kind: 'code.status', shas: newest, state: 'pending', description: `on train #${train}` });
    else if (state === 'deployed') out.push({ kind: 'code.status', shas: newest, state: 'success', description: `deployed with train #${train}` });
    else out.push({ kind: 'code.status', shas: newest, state: 'error', description: removedBy });
  }
  return out;
}

function jobRef(ids: Loaded['ids'], e: OutboxEffect): { jobId?: number } {
  if (e.kind !== 'job.start' && e.kind !== 'job.stop') return {};
  return { jobId: ids.jobs.get(jobKey(e.train, e.jobKind, e.attempt)) };
}

function commitId(map: Map<string, number>, sha: string): number {
  const id = map.get(sha);
  if (id === undefined) throw new Error(`commit ${sha} has no database id`);
  return id;
}

function trainId(map: Map<number, number>, n: number): number {
  const id = map.get(n);
  if (id === undefined) throw new Error(`train #${n} has no database id`);
  return id;
}

function times(t: Train) {
  return {
    createdAt: t.createdAt,
    deliveredAt: t.deliveredAt,
    verifiedAt: t.verifiedAt,
    deployStartedAt: t.deployStartedAt,
    deployedAt: t.deployedAt,
    derailedAt: t.derailedAt,
  };
}

function trainChanged(a: Train, b: Train): boolean {
  return (
    a.state !== b.state ||
    a.engineer !== b.engineer ||
    a.blocked !== b.blocked ||
    a.derailReason !== b.derailReason ||
    JSON.stringify(times(a)) !== JSON.stringify(times(b))
  );
}

function ticketData(k: Ticket) {
  return {
    authorName: k.authorName,
    state: k.state,
    commitShas: k.commitShas,
    verifiedBy: k.verifiedBy,
    verifiedAt: k.verifiedAt,
    requestedAt: k.requestedAt,
    remindedAt: k.remindedAt,
    externalKey: k.externalKey,
    externalUrl: k.externalUrl,
    createdAt: k.createdAt,
  };
}

function jobData(j: Job) {
  return {
    state: j.state,
    sha: j.sha,
    requestedBy: j.requestedBy,
    externalId: j.externalId,
    url: j.url,
    output: j.output,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    timeoutAt: j.timeoutAt,
  };
}
