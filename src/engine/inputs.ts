import * as domain from '../domain/index.js';
import { type AutoTimeWindow, type CommitRef, type JobKind, redactSecrets, SYSTEM_ACTOR } from '../domain/index.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Sql } from '../store/sql.js';
import type { Db } from './db.js';
import type { Engine, Reply } from './engine.js';
import type { JobResult } from './ports/build-runner.js';
import type { CommitInfo, NewCommits } from './ports/code-host.js';

export const NOT_CONTIGUOUS = 'These commits do not continue the known head: fetching instead.';

/**
 * Rule 1: new commits seen on the branch. Commits already recorded are
 * dropped under the lock, so a webhook and a fetch racing each other record a
 * commit once. `sinceSha` is where the fetch read from: the known head moves
 * only when nobody moved it meanwhile.
 */
export async function recordCommits(
  engine: Engine,
  lineName: string,
  sinceSha: string,
  found: NewCommits,
  opts: { inputKey?: string; actor?: string; contiguous?: boolean; lostTrains?: number[]; removedFromBranch?: string[] } = {},
): Promise<Reply> {
  return engine.run(
    lineName,
    opts.actor ?? SYSTEM_ACTOR,
    async ({ tx, loaded, state, ctx }) => {
      // A webhook's commits are recorded only if they continue the known head: a missed or
      // out-of-order delivery would otherwise put newer commits ahead of older ones. The caller fetches instead.
      if (opts.contiguous && state.knownHeadSha !== sinceSha) return { decision: domain.refuse(NOT_CONTIGUOUS) };
      const known = await recordedShas(tx, loaded.ids.lineId, found.commits);
      const fresh: CommitRef[] = [];
      for (const c of found.commits) {
        if (known.has(c.sha)) continue;
        known.add(c.sha);
        fresh.push(asNew(c));
      }
      const moveHead = state.knownHeadSha === sinceSha && state.knownHeadSha !== found.headSha;
      const lost = (opts.lostTrains ?? []).filter((n) => state.trains.some((t) => t.number === n));
      // Only what is still waiting now (a train may have taken a commit meanwhile: the lost-train report covers that).
      const removed = moveHead ? (opts.removedFromBranch ?? []).filter((sha) => state.platform.some((c) => c.sha === sha)) : [];
      if (fresh.length === 0 && !moveHead && lost.length === 0) return { decision: domain.refuse('No new commits.') };
      const head = moveHead ? found.headSha : state.knownHeadSha;
      const decision = domain.commitsArrived(state, ctx, fresh, head, found.rewritten && moveHead, lost, removed);
      return { decision, newCommits: fresh };
    },
    { inputKey: opts.inputKey },
  );
}

/** The SHAs among `commits` the line has already recorded (a webhook and a fetch may race). */
async function recordedShas(tx: Sql, lineId: number, commits: CommitInfo[]): Promise<Set<string>> {
  if (commits.length === 0) return new Set();
  const shas = commits.map((c) => c.sha);
  return new Set((await tx.query<{ sha: string }>`SELECT sha FROM commit WHERE line_id = ${lineId} AND sha = ANY(${shas}::text[])`).map((r) => r.sha));
}

/** A commit seen for the first time: emails compared lower-case, not verified yet. */
const asNew = (c: CommitInfo): CommitRef => ({ ...c, authorEmail: c.authorEmail.toLowerCase(), verifiedBy: null, verifiedAt: null });

/** One push delivery: the commits between `sinceSha` (exclusive) and `found.headSha`, keyed by its delivery. */
export interface PushInput {
  sinceSha: string;
  found: NewCommits;
  inputKey: string;
}

/**
 * Rule 1 for several push deliveries of one line at once (one transaction:
 * see Engine.runBatch). Deliveries overtake each other in flight, so the
 * batch is put back in branch order first: starting from the known head,
 * each step takes the delivery whose `sinceSha` is the current head. A
 * delivery that does not join that chain is refused with NOT_CONTIGUOUS (its
 * caller fetches instead), exactly as `recordCommits` with `contiguous` would.
 * All the chained commits arrive together: one decision, one announcement.
 */
export async function recordPushes(engine: Engine, lineName: string, pushes: PushInput[]): Promise<Reply[]> {
  return engine.runBatch(lineName, SYSTEM_ACTOR, pushes, async ({ tx, loaded, state, ctx }, fresh) => {
    const waiting = new Map<string, PushInput[]>();
    for (const p of fresh) waiting.set(p.sinceSha, [...(waiting.get(p.sinceSha) ?? []), p]);
    const chained: PushInput[] = [];
    let head = state.knownHeadSha;
    for (;;) {
      const next = waiting.get(head)?.shift();
      if (!next) break;
      chained.push(next);
      head = next.found.headSha;
    }
    const replies = new Map<PushInput, Reply>();
    const joined = new Set(chained);
    for (const p of fresh) if (!joined.has(p)) replies.set(p, { ok: false, text: NOT_CONTIGUOUS });

    const known = await recordedShas(
      tx,
      loaded.ids.lineId,
      chained.flatMap((p) => p.found.commits),
    );
    const commits: CommitRef[] = [];
    for (const p of chained) {
      let n = 0;
      for (const c of p.found.commits) {
        if (known.has(c.sha)) continue;
        known.add(c.sha);
        commits.push(asNew(c));
        n++;
      }
      replies.set(p, n > 0 || p.found.headSha !== p.sinceSha ? { ok: true, text: `Recorded ${n} new commit${n === 1 ? '' : 's'}.` } : { ok: false, text: 'No new commits.' });
    }
    if (commits.length === 0 && head === state.knownHeadSha) return { decision: domain.refuse('No new commits.'), replies };
    return { decision: domain.commitsArrived(state, ctx, commits, head, false), newCommits: commits, replies };
  });
}

/** Finds which line and train a job belongs to. */
async function jobRef(db: Db, jobId: number) {
  const job = await db.job.findUnique({ where: { id: jobId }, include: { train: { include: { line: true } } } });
  if (!job) return null;
  return { line: job.train.line.name, ref: { train: job.train.number, kind: job.kind as JobKind, attempt: job.attempt } };
}

export async function jobStarted(engine: Engine, jobId: number, externalId: string, url: string | null): Promise<Reply> {
  const found = await jobRef(engine.deps.db, jobId);
  if (!found) return { ok: false, text: `unknown job ${jobId}` };
  return engine.run(found.line, SYSTEM_ACTOR, ({ state, ctx }) => ({
    decision: domain.jobStarted(state, ctx, found.ref, externalId, url),
  }));
}

export async function jobFinished(engine: Engine, result: JobResult): Promise<Reply> {
  const found = await jobRef(engine.deps.db, result.jobId);
  if (!found) return { ok: false, text: `unknown job ${result.jobId}` };
  return engine.run(
    found.line,
    SYSTEM_ACTOR,
    ({ state, ctx }) => ({
      // The output is stored and shown: the environment's secrets never get that far.
      decision: domain.jobFinished(state, ctx, found.ref, result.unknown ? 'unknown' : result.succeeded, redactSecrets(result.output, engine.deps.config.secrets), result.timedOut),
    }),
    // An unknown outcome has a key of its own: a real result arriving later still settles the job.
    { inputKey: `job:${result.jobId}:${result.unknown ? 'unknown' : 'result'}`, extraTrains: [found.ref.train] },
  );
}

/** The scheduler's heartbeat for one line: timeouts, reminders, rule 3 (also catches up after downtime). */
export async function tick(engine: Engine, lineName: string): Promise<Reply> {
  return engine.run(lineName, SYSTEM_ACTOR, ({ state, ctx }) => {
    const decision = domain.tick(state, ctx);
    // Nothing to do is the usual case: don't write an empty transaction.
    if (decision.ok && decision.effects.length === 0 && decision.audit.length === 0) return { decision: domain.refuse('idle') };
    return { decision };
  });
}

export interface LineSeed {
  name: string;
  repo: string;
  branch: string;
  mode: 'schedule' | 'manual';
  autoTime: AutoTimeWindow[];
  freezes: string[];
  timezone: string;
}

/**
 * Rule 1: when a line is first added, the branch head counts as deployed.
 * Mode, auto-time and freezes come from the file only then: afterwards the
 * database (changed from Slack or the API) wins. Repo and branch follow the file.
 */
export async function ensureLine(db: Db, seed: LineSeed, head: () => Promise<string>): Promise<{ created: boolean }> {
  const existing = await db.line.findUnique({ where: { name: seed.name } });
  if (existing) {
    if (existing.repo !== seed.repo || existing.branch !== seed.branch) await db.line.update({ where: { id: existing.id }, data: { repo: seed.repo, branch: seed.branch } });
    return { created: false };
  }
  const sha = await head();
  const created = await db.line.createMany({
    data: [
      {
        name: seed.name,
        repo: seed.repo,
        branch: seed.branch,
        mode: seed.mode,
        autoTime: seed.autoTime as unknown as Prisma.InputJsonValue,
        freezes: seed.freezes,
        timezone: seed.timezone,
        deployedSha: sha,
        knownHeadSha: sha,
      },
    ],
    skipDuplicates: true, // another process may add it at the same moment
  });
  return { created: created.count === 1 };
}
