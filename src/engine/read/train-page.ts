/**
 * The Web App's train page (`GET /lines/<line>/trains/<n>`, docs/behaviour.md §7):
 * one read-only snapshot of the train, its neighbours, the train it replaced
 * or was replaced by, and its audit entries; then pure shaping into what the
 * page shows. Big trains stay cheap to show: commits are grouped by author and
 * only one page of authors carries its commits.
 */
import type { Job, LineState, Train } from '../../domain/index.js';
import { notDeployableReason, outputTail } from '../../domain/index.js';
import { inTransaction } from '../../store/sql.js';
import type { Engine } from '../engine.js';
import { historySentence } from '../history.js';
import { jobKey, loadLine } from '../load.js';

/** Authors per page of the commit list. */
export const AUTHORS_PER_PAGE = 50;
/** Commits of one author shown at once; the rest are behind a `<details>`. */
export const COMMITS_SHOWN = 10;
/** Commits of one author the page carries at most (the rest are counted). */
export const COMMITS_CARRIED = 300;

export interface TimelineStep {
  at: Date;
  actor: string;
  action: string;
  text: string;
  /** Time from the step before (the first: none). */
  tookMs: number | null;
}

export interface JobView {
  /** The job's database id: the live output route names it. */
  id: number | null;
  kind: Job['kind'];
  state: Job['state'];
  attempt: number;
  url: string | null;
  /** A job run by this machine's shell runner (its output can be followed). */
  local: boolean;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  /** The tail of the job's recorded output (the runner's, once it ended). */
  tail: string | null;
  /** Failed or unknown: its tail is what people need first. */
  troubled: boolean;
}

export interface AuthorGroup {
  authorEmail: string;
  authorName: string;
  count: number;
  ticket: {
    state: Train['tickets'][number]['state'];
    verifiedBy: string | null;
    verifiedAt: Date | null;
    externalKey: string | null;
    externalUrl: string | null;
  } | null;
  /** At most COMMITS_CARRIED, oldest first. */
  commits: { sha: string; message: string }[];
}

export interface TrainPage {
  line: string;
  timezone: string;
  train: Train;
  previous: number | null;
  next: number | null;
  replaces: number | null;
  replacedBy: number | null;
  notDeployableReason: string | null;
  timeline: TimelineStep[];
  jobs: JobView[];
  commitCount: number;
  authorCount: number;
  /** 1-based page of authors shown, and how many pages there are. */
  authorPage: number;
  authorPages: number;
  authors: AuthorGroup[];
}

export interface TrainExtras {
  previous: number | null;
  next: number | null;
  replaces: number | null;
  replacedBy: number | null;
  audit: { createdAt: Date; actor: string; action: string; details: Record<string, unknown> | null }[];
  jobIds: Map<string, number>;
}

/** Pure: the page from a snapshot holding the train. */
export function shapeTrainPage(s: LineState, t: Train, x: TrainExtras, authorPage: number): TrainPage {
  const timeline: TimelineStep[] = [];
  for (const e of x.audit) {
    const before = timeline[timeline.length - 1];
    timeline.push({
      at: e.createdAt,
      actor: e.actor,
      action: e.action,
      text: historySentence({ createdAt: e.createdAt, actor: e.actor, action: e.action, train: t.number, details: e.details ?? {} }),
      tookMs: before ? e.createdAt.getTime() - before.at.getTime() : null,
    });
  }
  const jobs: JobView[] = t.jobs.map((j) => ({
    id: x.jobIds.get(jobKey(t.number, j.kind, j.attempt)) ?? null,
    kind: j.kind,
    state: j.state,
    attempt: j.attempt,
    url: j.url,
    local: (j.externalId ?? '').startsWith('local-'),
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    durationMs: j.startedAt && j.finishedAt ? j.finishedAt.getTime() - j.startedAt.getTime() : null,
    tail: outputTail(j.output),
    troubled: j.state === 'failed' || j.state === 'unknown',
  }));
  const groups = groupByAuthor(t);
  const authorPages = Math.max(1, Math.ceil(groups.length / AUTHORS_PER_PAGE));
  const page = Math.min(Math.max(1, authorPage), authorPages);
  return {
    line: s.settings.name,
    timezone: s.settings.timezone,
    train: t,
    previous: x.previous,
    next: x.next,
    replaces: x.replaces,
    replacedBy: x.replacedBy,
    notDeployableReason: t.state === 'delivering' || t.state === 'verifying' || t.state === 'deploying' ? notDeployableReason(s, t) : null,
    timeline,
    jobs,
    commitCount: t.commits.length,
    authorCount: groups.length,
    authorPage: page,
    authorPages,
    authors: groups.slice((page - 1) * AUTHORS_PER_PAGE, page * AUTHORS_PER_PAGE),
  };
}

/** Authors still to verify first (they are what the train waits for), then by email. */
function groupByAuthor(t: Train): AuthorGroup[] {
  const byEmail = new Map<string, AuthorGroup>();
  for (const c of t.commits) {
    let g = byEmail.get(c.authorEmail);
    if (!g) {
      g = { authorEmail: c.authorEmail, authorName: c.authorName, count: 0, ticket: null, commits: [] };
      byEmail.set(c.authorEmail, g);
    }
    g.count++;
    if (g.commits.length < COMMITS_CARRIED) g.commits.push({ sha: c.sha, message: c.message });
  }
  for (const k of t.tickets) {
    const g = byEmail.get(k.authorEmail);
    if (g) g.ticket = { state: k.state, verifiedBy: k.verifiedBy, verifiedAt: k.verifiedAt, externalKey: k.externalKey, externalUrl: k.externalUrl };
  }
  const rank = (g: AuthorGroup) => (g.ticket?.state === 'pending' ? 0 : 1);
  return [...byEmail.values()].sort((a, b) => rank(a) - rank(b) || a.authorEmail.localeCompare(b.authorEmail));
}

interface NeighbourRow {
  previous: number | null;
  next: number | null;
  replaces: number | null;
  replaced_by: number | null;
}

/** The page of train `n` of `line`, or null when the line has no such train. Throws UnknownLineError for an unknown line. */
export async function readTrainPage(engine: Engine, line: string, n: number, authorPage: number): Promise<TrainPage | null> {
  const cfg = engine.lineConfig(line);
  return inTransaction(
    engine.deps.pool,
    async (tx) => {
      const loaded = await loadLine(tx, cfg, { lock: false, extraTrains: [n] });
      const t = loaded?.state.trains.find((x) => x.number === n);
      const trainId = loaded?.ids.trains.get(n);
      if (!loaded || !t || trainId === undefined) return null;
      const [near] = await tx.query<NeighbourRow>`
        SELECT (SELECT max(number) FROM train WHERE line_id = ${loaded.ids.lineId} AND number < ${n}) AS previous,
               (SELECT min(number) FROM train WHERE line_id = ${loaded.ids.lineId} AND number > ${n}) AS next,
               (SELECT r.number FROM train me JOIN train r ON r.id = me.replaces_train_id WHERE me.id = ${trainId}) AS replaces,
               (SELECT b.number FROM train b WHERE b.replaces_train_id = ${trainId}) AS replaced_by`;
      const audit = await tx.query<{ created_at: Date; actor: string; action: string; details: Record<string, unknown> | null }>`
        SELECT created_at, actor, action, details FROM audit_entry WHERE line_id = ${loaded.ids.lineId} AND train_id = ${trainId} ORDER BY id LIMIT 1000`;
      return shapeTrainPage(
        loaded.state,
        t,
        {
          previous: near?.previous ?? null,
          next: near?.next ?? null,
          replaces: near?.replaces ?? null,
          replacedBy: near?.replaced_by ?? null,
          audit: audit.map((a) => ({ createdAt: a.created_at, actor: a.actor, action: a.action, details: a.details })),
          jobIds: loaded.ids.jobs,
        },
        authorPage,
      );
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}
