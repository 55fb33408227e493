import { randomUUID } from 'node:crypto';
import type { AuditEvent, CommitRef, Effect, LineState, Ticket, Train } from '../domain/index.js';
import type { Sql } from '../store/sql.js';
import type { StatusEffect, TicketSyncEffect } from './effects.js';
import { jobKey, type Loaded, ticketKey } from './load.js';

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
// Over 80 lines on purpose: the numbered writes of one transaction, kept in one place so their order (foreign keys, then audit and outbox) stays visible.
export async function saveDecision(
  tx: Sql,
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
    // One INSERT with array parameters, whatever the number of commits (5,000 in one push happen).
    const rows = await tx.query<{ id: number; sha: string }>`
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
    a.manualSetBy !== b.manualSetBy ||
    a.timezone !== b.timezone ||
    JSON.stringify(a.autoTime) !== JSON.stringify(b.autoTime) ||
    JSON.stringify(a.freezes) !== JSON.stringify(b.freezes) ||
    after.deployedSha !== before.deployedSha ||
    after.knownHeadSha !== before.knownHeadSha ||
    after.nextTrainNumber !== before.nextTrainNumber ||
    after.healthBlock !== before.healthBlock ||
    (after.production !== before.production && JSON.stringify(after.production) !== JSON.stringify(before.production))
  ) {
    const p = after.production;
    await tx.execute`
      UPDATE line SET mode = ${a.mode}::"LineMode", manual_reason = ${a.manualReason}, manual_set_by = ${a.manualSetBy}, timezone = ${a.timezone},
        auto_time = ${JSON.stringify(a.autoTime)}::jsonb, freezes = ${JSON.stringify(a.freezes)}::jsonb,
        deployed_sha = ${after.deployedSha}, known_head_sha = ${after.knownHeadSha},
        next_train_number = ${after.nextTrainNumber}, commit_seq = ${seq},
        production_train = ${p?.number ?? null}, production_sha = ${p?.headSha ?? null}, production_since = ${p?.since ?? null},
        production_by = ${p?.by ?? null}, production_rolled_back_from = ${p?.rolledBackFrom ?? null},
        health_block = ${after.healthBlock}, updated_at = now()
      WHERE id = ${lineId}`;
  }

  // 3. Trains: create new ones, update changed ones.
  for (const t of after.trains) {
    const old = before.trains.find((o) => o.number === t.number);
    if (!old) {
      const [created] = await tx.query<{ id: number }>`
        INSERT INTO train (line_id, number, state, head_sha, base_sha, engineer_email, blocked_reason, derail_reason,
                           replaces_train_id, created_by, created_at, delivered_at, verified_at, deploy_started_at, deployed_at, derailed_at)
        VALUES (${lineId}, ${t.number}, ${t.state}::"TrainState", ${t.headSha}, ${t.baseSha}, ${t.engineer}, ${t.blocked}, ${t.derailReason},
                ${t.replaces === null ? null : (ids.trains.get(t.replaces) ?? null)}, ${t.createdBy}, ${t.createdAt}, ${t.deliveredAt},
                ${t.verifiedAt}, ${t.deployStartedAt}, ${t.deployedAt}, ${t.derailedAt})
        RETURNING id`;
      ids.trains.set(t.number, created!.id);
      const commitIds = t.commits.map((c) => commitId(ids.commits, c.sha));
      await tx.execute`INSERT INTO train_commit (train_id, commit_id) SELECT ${created!.id}, unnest(${commitIds}::int[])`;
    } else if (trainChanged(old, t)) {
      await tx.execute`
        UPDATE train SET state = ${t.state}::"TrainState", engineer_email = ${t.engineer}, blocked_reason = ${t.blocked},
          derail_reason = ${t.derailReason}, created_at = ${t.createdAt}, delivered_at = ${t.deliveredAt}, verified_at = ${t.verifiedAt},
          deploy_started_at = ${t.deployStartedAt}, deployed_at = ${t.deployedAt}, derailed_at = ${t.derailedAt},
          health_state = ${t.health?.state ?? null}, health_failures = ${t.health?.failures ?? 0}, health_since = ${t.health?.since ?? null},
          health_until = ${t.health?.until ?? null}, health_last = ${t.health?.last ?? null},
          bisect = ${t.bisect ? JSON.stringify(t.bisect) : null}::jsonb
        WHERE id = ${trainId(ids.trains, t.number)}`;
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
    await tx.execute`
      UPDATE commit SET state = ${state}::"CommitState", train_id = ${train ? trainId(ids.trains, Number(train)) : null},
        removed_at = ${state === 'removed' ? meta.now : null}
      WHERE id = ANY(${commitIds}::int[])`;
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
    await tx.execute`UPDATE commit SET verified_by = ${by}, verified_at = ${at ? new Date(at) : null} WHERE id = ANY(${commitIds}::int[])`;
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
      if (prev && prev.state !== k.state && k.externalKey) effects = [...effects, { kind: 'ticket.sync', externalKey: k.externalKey, done: k.state === 'verified' }];
      const existing = ids.tickets.get(ticketKey(t.number, k.authorEmail));
      if (existing)
        await tx.execute`
          UPDATE ticket SET author_name = ${k.authorName}, state = ${k.state}::"TicketState", commit_shas = ${JSON.stringify(k.commitShas)}::jsonb,
            verified_by = ${k.verifiedBy}, verified_at = ${k.verifiedAt}, requested_at = ${k.requestedAt}, reminded_at = ${k.remindedAt},
            external_key = ${k.externalKey}, external_url = ${k.externalUrl}, created_at = ${k.createdAt}
          WHERE id = ${existing}`;
      else created.push(k);
    }
    if (created.length > 0) {
      // A 300-author train creates 300 tickets at delivery: one statement, not 300.
      const col = <T>(f: (k: Ticket) => T): T[] => created.map(f);
      const rows = await tx.query<{ id: number; author_email: string }>`
        INSERT INTO ticket (line_id, train_id, author_email, author_name, state, commit_shas, verified_by, verified_at,
                            requested_at, reminded_at, external_key, external_url, created_at)
        SELECT ${lineId}, ${tid}, x.author_email, x.author_name, x.state::"TicketState", x.commit_shas, x.verified_by, x.verified_at,
               x.requested_at, x.reminded_at, x.external_key, x.external_url, x.created_at
        FROM unnest(${col((k) => k.authorEmail)}::text[], ${col((k) => k.authorName)}::text[], ${col((k) => k.state)}::text[],
                    ${col((k) => JSON.stringify(k.commitShas))}::jsonb[], ${col((k) => k.verifiedBy)}::text[],
                    ${col((k) => k.verifiedAt)}::timestamptz[], ${col((k) => k.requestedAt)}::timestamptz[],
                    ${col((k) => k.remindedAt)}::timestamptz[], ${col((k) => k.externalKey)}::text[],
                    ${col((k) => k.externalUrl)}::text[], ${col((k) => k.createdAt)}::timestamptz[])
             WITH ORDINALITY AS x(author_email, author_name, state, commit_shas, verified_by, verified_at,
                                  requested_at, reminded_at, external_key, external_url, created_at, ord)
        ORDER BY x.ord
        RETURNING id, author_email`;
      for (const r of rows) ids.tickets.set(ticketKey(t.number, r.author_email), r.id);
    }
    for (const j of t.jobs) {
      const prev = old?.jobs.find((o) => o.kind === j.kind && o.attempt === j.attempt);
      if (prev && JSON.stringify(prev) === JSON.stringify(j)) continue;
      const existing = ids.jobs.get(jobKey(t.number, j.kind, j.attempt));
      if (existing)
        await tx.execute`
          UPDATE job SET state = ${j.state}::"JobState", sha = ${j.sha}, requested_by = ${j.requestedBy}, external_id = ${j.externalId},
            url = ${j.url}, output = ${j.output}, created_at = ${j.createdAt}, started_at = ${j.startedAt},
            finished_at = ${j.finishedAt}, timeout_at = ${j.timeoutAt}
          WHERE id = ${existing}`;
      else {
        const [row] = await tx.query<{ id: number }>`
          INSERT INTO job (train_id, kind, attempt, state, sha, requested_by, external_id, url, output, created_at, started_at, finished_at, timeout_at)
          VALUES (${tid}, ${j.kind}::"JobKind", ${j.attempt}, ${j.state}::"JobState", ${j.sha}, ${j.requestedBy}, ${j.externalId}, ${j.url},
                  ${j.output}, ${j.createdAt}, ${j.startedAt}, ${j.finishedAt}, ${j.timeoutAt})
          RETURNING id`;
        ids.jobs.set(jobKey(t.number, j.kind, j.attempt), row!.id);
      }
    }
  }

  // 7. Audit entries and outbox rows, in the same transaction as the change.
  if (audit.length > 0) {
    await tx.execute`
      INSERT INTO audit_entry (line_id, train_id, actor, action, details, created_at)
      SELECT ${lineId}, x.train_id, ${meta.actor}, x.action, x.details, ${meta.now}
      FROM unnest(${audit.map((e) => (e.train === null ? null : (ids.trains.get(e.train) ?? null)))}::int[],
                  ${audit.map((e) => e.action)}::text[], ${audit.map((e) => JSON.stringify(e.details))}::jsonb[])
           AS x(train_id, action, details)`;
  }
  if (effects.length > 0) {
    await tx.execute`
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
    JSON.stringify(times(a)) !== JSON.stringify(times(b)) ||
    JSON.stringify(a.health) !== JSON.stringify(b.health) ||
    JSON.stringify(a.bisect) !== JSON.stringify(b.bisect)
  );
}
