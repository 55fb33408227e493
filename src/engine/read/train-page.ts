/**
 * The Web App's train page (`GET /lines/<line>/trains/<n>`, docs/behaviour.md §7):
 * one read-only snapshot of the train, its neighbours, the train it replaced
 * or was replaced by, and its audit entries; then pure shaping into what the
 * page shows. Big trains stay cheap to show: commits are grouped by author and
 * only one page of authors carries its commits.
 */
import type { Bisect, Job, LineState, Train } from '../../domain/index.js';
import { maxBuilds, notDeployableReason, outputTail } from '../../domain/index.js';
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
  /** The commit built (a culprit search build's is the commit it tried). */
  sha: string;
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

/** behaviour.md §8: one stored health check result. */
export interface HealthCheckView {
  checkedAt: Date;
  outcome: 'healthy' | 'failed' | 'unknown';
  value: number | null;
  exitCode: number | null;
  message: string;
}

/** Health check results the page shows at most (newest first); the rest are counted. */
export const HEALTH_CHECKS_SHOWN = 200;

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
  /** behaviour.md §8: the watch after the deploy with its results (newest first), or null when never watched. */
  health: (NonNullable<Train['health']> & { checks: HealthCheckView[]; total: number }) | null;
  /** behaviour.md §8: the culprit search after a failed build, with the culprit's commit, or null when none ran. */
  bisect: (Bisect & { maxBuilds: number; culpritCommit: CulpritCommit | null }) | null;
}

export interface CulpritCommit {
  sha: string;
  authorName: string;
  authorEmail: string;
  message: string;
}

/** An author of the train and how many of its commits are theirs. */
export interface AuthorCount {
  authorEmail: string;
  authorName: string;
  count: number;
}

export interface TrainExtras {
  previous: number | null;
  next: number | null;
  replaces: number | null;
  replacedBy: number | null;
  audit: { createdAt: Date; actor: string; action: string; details: Record<string, unknown> | null }[];
  jobIds: Map<string, number>;
  /** Every author of the train (the loaded Train carries no commits: a big train's are read a page at a time). */
  authors: AuthorCount[];
  /** The commits of the page's authors (at most COMMITS_CARRIED each, oldest first). */
  pageCommits: Map<string, { sha: string; message: string }[]>;
  /** The newest health check results (at most HEALTH_CHECKS_SHOWN), and how many there are. */
  healthChecks?: { shown: HealthCheckView[]; total: number };
  /** The commit the culprit search found (read from the records: the loaded train carries no commits). */
  culprit?: CulpritCommit | null;
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
    sha: j.sha,
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
  const { page, pages, shown } = authorsPage(t, x.authors, authorPage);
  const tickets = new Map(t.tickets.map((k) => [k.authorEmail, k]));
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
    commitCount: x.authors.reduce((n, a) => n + a.count, 0),
    authorCount: x.authors.length,
    authorPage: page,
    authorPages: pages,
    authors: shown.map((a) => {
      const k = tickets.get(a.authorEmail);
      return {
        ...a,
        ticket: k ? { state: k.state, verifiedBy: k.verifiedBy, verifiedAt: k.verifiedAt, externalKey: k.externalKey, externalUrl: k.externalUrl } : null,
        commits: x.pageCommits.get(a.authorEmail) ?? [],
      };
    }),
    health: t.health ? { ...t.health, checks: x.healthChecks?.shown ?? [], total: x.healthChecks?.total ?? 0 } : null,
    bisect: t.bisect ? { ...t.bisect, maxBuilds: maxBuilds(t.bisect.commits), culpritCommit: x.culprit ?? culpritIn(t.commits, t.bisect.culprit?.sha ?? null) } : null,
  };
}

function culpritIn(commits: Train['commits'], sha: string | null): CulpritCommit | null {
  const c = sha ? commits.find((x) => x.sha === sha) : undefined;
  return c ? { sha: c.sha, authorName: c.authorName, authorEmail: c.authorEmail, message: c.message } : null;
}

/**
 * Pure: the authors of one page (1-based; out of range → the nearest page).
 * Authors still to verify first (they are what the train waits for), then by email.
 */
export function authorsPage(t: Train, authors: AuthorCount[], wanted: number): { page: number; pages: number; shown: AuthorCount[] } {
  const pending = new Set(t.tickets.filter((k) => k.state === 'pending').map((k) => k.authorEmail));
  const rank = (a: AuthorCount) => (pending.has(a.authorEmail) ? 0 : 1);
  const sorted = [...authors].sort((a, b) => rank(a) - rank(b) || a.authorEmail.localeCompare(b.authorEmail));
  const pages = Math.max(1, Math.ceil(sorted.length / AUTHORS_PER_PAGE));
  const page = Math.min(Math.max(1, Number.isSafeInteger(wanted) ? wanted : 1), pages);
  return { page, pages, shown: sorted.slice((page - 1) * AUTHORS_PER_PAGE, page * AUTHORS_PER_PAGE) };
}

/** Pure: the author counts and page commits of a train that carries its commits (tests, small trains). */
export function authorsOf(commits: Train['commits']): Pick<TrainExtras, 'authors' | 'pageCommits'> {
  const counts = new Map<string, AuthorCount>();
  const pageCommits = new Map<string, { sha: string; message: string }[]>();
  for (const c of commits) {
    const a = counts.get(c.authorEmail) ?? { authorEmail: c.authorEmail, authorName: c.authorName, count: 0 };
    a.count++;
    counts.set(c.authorEmail, a);
    const list = pageCommits.get(c.authorEmail) ?? [];
    if (list.length < COMMITS_CARRIED) list.push({ sha: c.sha, message: c.message });
    pageCommits.set(c.authorEmail, list);
  }
  return { authors: [...counts.values()], pageCommits };
}

interface NeighbourRow {
  previous: number | null;
  next: number | null;
  replaces: number | null;
  replaced_by: number | null;
}

/**
 * The page of train `n` of `line`, or null when the line has no such train. Throws UnknownLineError
 * for an unknown line. The train's commits are counted by author in SQL and read for the page's
 * authors only: a 5,000-commit train costs what one page of it shows.
 */
/** With the line as loaded for the page (`lineState`): the page's buttons decide on it without reading it again. */
export async function readTrainPage(engine: Engine, line: string, n: number, authorPage: number): Promise<(TrainPage & { lineState: LineState }) | null> {
  const cfg = engine.lineConfig(line);
  return inTransaction(
    engine.deps.pool,
    async (tx) => {
      const loaded = await loadLine(tx, cfg, { lock: false, extraTrains: [n], withoutTrainCommits: true });
      const t = loaded?.state.trains.find((x) => x.number === n);
      const trainId = loaded?.ids.trains.get(n);
      if (!loaded || !t || trainId === undefined) return null;
      const lineId = loaded.ids.lineId;
      const [near] = await tx.query<NeighbourRow>`
        SELECT (SELECT max(number) FROM train WHERE line_id = ${lineId} AND number < ${n}) AS previous,
               (SELECT min(number) FROM train WHERE line_id = ${lineId} AND number > ${n}) AS next,
               (SELECT r.number FROM train me JOIN train r ON r.id = me.replaces_train_id WHERE me.id = ${trainId}) AS replaces,
               (SELECT b.number FROM train b WHERE b.replaces_train_id = ${trainId}) AS replaced_by`;
      const audit = await tx.query<{ created_at: Date; actor: string; action: string; details: Record<string, unknown> | null }>`
        SELECT created_at, actor, action, details FROM audit_entry WHERE line_id = ${lineId} AND train_id = ${trainId} ORDER BY id LIMIT 1000`;
      const authors = await tx.query<{ author_email: string; author_name: string; n: number }>`
        SELECT c.author_email, min(c.author_name) AS author_name, count(*)::int AS n
        FROM train_commit tc JOIN commit c ON c.id = tc.commit_id WHERE tc.train_id = ${trainId} GROUP BY c.author_email`;
      const counts = authors.map((a) => ({ authorEmail: a.author_email, authorName: a.author_name, count: a.n }));
      const emails = authorsPage(t, counts, authorPage).shown.map((a) => a.authorEmail);
      const rows = await tx.query<{ author_email: string; sha: string; message: string }>`
        SELECT author_email, sha, message FROM (
          SELECT c.author_email, c.sha, c.message, c.position, row_number() OVER (PARTITION BY c.author_email ORDER BY c.position) AS rn
          FROM train_commit tc JOIN commit c ON c.id = tc.commit_id
          WHERE tc.train_id = ${trainId} AND c.author_email = ANY(${emails}::text[])
        ) x WHERE rn <= ${COMMITS_CARRIED} ORDER BY position`;
      const checks = t.health
        ? await tx.query<{ checked_at: Date; outcome: HealthCheckView['outcome']; value: number | null; exit_code: number | null; message: string; total: number }>`
            SELECT checked_at, outcome, value, exit_code, message, count(*) OVER ()::int AS total
            FROM health_check WHERE train_id = ${trainId} ORDER BY checked_at DESC, id DESC LIMIT ${HEALTH_CHECKS_SHOWN}`
        : [];
      const healthChecks = {
        shown: checks.map((c) => ({ checkedAt: c.checked_at, outcome: c.outcome, value: c.value, exitCode: c.exit_code, message: c.message })),
        total: checks[0]?.total ?? 0,
      };
      const culpritSha = t.bisect?.culprit?.sha ?? null;
      const [culprit] = culpritSha
        ? await tx.query<{ sha: string; author_name: string; author_email: string; message: string }>`
            SELECT sha, author_name, author_email, message FROM commit WHERE line_id = ${lineId} AND sha = ${culpritSha}`
        : [];
      const pageCommits = new Map<string, { sha: string; message: string }[]>();
      for (const r of rows) pageCommits.set(r.author_email, [...(pageCommits.get(r.author_email) ?? []), { sha: r.sha, message: r.message }]);
      const page = shapeTrainPage(
        loaded.state,
        t,
        {
          previous: near?.previous ?? null,
          next: near?.next ?? null,
          replaces: near?.replaces ?? null,
          replacedBy: near?.replaced_by ?? null,
          audit: audit.map((a) => ({ createdAt: a.created_at, actor: a.actor, action: a.action, details: a.details })),
          jobIds: loaded.ids.jobs,
          authors: counts,
          pageCommits,
          healthChecks,
          culprit: culprit ? { sha: culprit.sha, authorName: culprit.author_name, authorEmail: culprit.author_email, message: culprit.message } : null,
        },
        authorPage,
      );
      return { ...page, lineState: loaded.state };
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}
