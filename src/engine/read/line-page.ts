/**
 * The Web App's line page (`GET /lines/<line>`, docs/behaviour.md §7): the
 * current train, the platform, the last trains a page at a time, the mode,
 * auto-time as a week grid, the freeze dates and what production runs. One
 * read-only snapshot, then pure shaping.
 */
import type { LineState, Production, Train } from '../../domain/index.js';
import { goingTrain, inAutoTime, notDeployableReason } from '../../domain/index.js';
import { autoTimeWeekGrid, describeWindows, localDate } from '../../domain/schedule.js';
import { inTransaction } from '../../store/sql.js';
import type { Engine } from '../engine.js';
import { loadLine } from '../load.js';
import { whyIdle } from '../views.js';

/** Trains per page of the line's list. */
export const TRAINS_PER_PAGE = 20;
/** Platform commits listed (the rest are counted). */
export const PLATFORM_SHOWN = 100;

export interface TrainRow {
  number: number;
  state: Train['state'];
  headSha: string;
  engineer: string | null;
  commits: number;
  authors: number;
  createdAt: Date;
  /** Deployed or derailed. */
  endedAt: Date | null;
}

export interface CurrentTrain {
  /** Without its commits (counted in `commits` and `authors`). */
  train: Train;
  commits: number;
  authors: number;
  verified: number;
  notDeployableReason: string | null;
}

export interface LinePage {
  line: string;
  branch: string;
  timezone: string;
  mode: LineState['settings']['mode'];
  manualReason: string | null;
  /** Who put the line in manual mode; null in schedule mode or when the config file did. */
  manualSetBy: string | null;
  /** behaviour.md §8: a tripped health check blocks every new train until `unblock`. */
  healthBlock: string | null;
  inAutoTime: boolean;
  whyIdle: string | null;
  current: CurrentTrain | null;
  platform: {
    count: number;
    authors: number;
    oldestSeenAt: Date | null;
    commits: { sha: string; authorEmail: string; message: string; firstSeenAt: Date | null }[];
  };
  trains: TrainRow[];
  /** The `before` of the next (older) page, or null on the last page. */
  olderBefore: number | null;
  /** True when the list does not start at the newest train. */
  paged: boolean;
  weekGrid: ('in' | 'part' | 'out')[][];
  /** The windows in words (`/conductor autotime`'s words). */
  autoTimeText: string;
  /** Today and later, sorted (past ones are history). */
  freezes: string[];
  production: Production | null;
}

export interface LineExtras {
  trains: TrainRow[];
  hasOlder: boolean;
  paged: boolean;
  firstSeen: Map<string, Date>;
  /** Commits and authors of each loaded train, by number (the snapshot's trains carry no commits). */
  sizes: Map<number, { commits: number; authors: number }>;
}

/** Pure: the page from a snapshot holding the newest train. */
export function shapeLinePage(s: LineState, x: LineExtras, now: Date): LinePage {
  const newest = [...s.trains].sort((a, b) => b.number - a.number)[0];
  const t = goingTrain(s) ?? newest;
  const { settings } = s;
  const today = localDate(now, settings.timezone);
  const seen = s.platform.map((c) => x.firstSeen.get(c.sha)).filter((d): d is Date => d !== undefined);
  return {
    line: settings.name,
    branch: settings.branch,
    timezone: settings.timezone,
    mode: settings.mode,
    manualReason: settings.manualReason,
    manualSetBy: settings.mode === 'manual' ? settings.manualSetBy : null,
    healthBlock: s.healthBlock,
    inAutoTime: inAutoTime(s, now),
    whyIdle: whyIdle(s, now),
    current: t
      ? {
          train: t,
          commits: x.sizes.get(t.number)?.commits ?? t.commits.length,
          authors: x.sizes.get(t.number)?.authors ?? new Set(t.commits.map((c) => c.authorEmail)).size,
          verified: t.tickets.filter((k) => k.state === 'verified').length,
          notDeployableReason: t.state === 'delivering' || t.state === 'verifying' || t.state === 'deploying' ? notDeployableReason(s, t) : null,
        }
      : null,
    platform: {
      count: s.platform.length,
      authors: new Set(s.platform.map((c) => c.authorEmail)).size,
      oldestSeenAt: seen.length ? new Date(Math.min(...seen.map((d) => d.getTime()))) : null,
      commits: s.platform.slice(0, PLATFORM_SHOWN).map((c) => ({ sha: c.sha, authorEmail: c.authorEmail, message: c.message, firstSeenAt: x.firstSeen.get(c.sha) ?? null })),
    },
    trains: x.trains,
    olderBefore: x.hasOlder ? (x.trains[x.trains.length - 1]?.number ?? null) : null,
    paged: x.paged,
    weekGrid: autoTimeWeekGrid(settings.autoTime),
    autoTimeText: settings.autoTime.length ? `Auto-time: ${describeWindows(settings.autoTime, settings.timezone)}.` : 'Auto-time is off (no windows).',
    freezes: [...settings.freezes].filter((d) => d >= today).sort(),
    production: s.production,
  };
}

interface TrainListRow {
  number: number;
  state: Train['state'];
  head_sha: string;
  engineer_email: string | null;
  commits: number;
  authors: number;
  created_at: Date;
  ended_at: Date | null;
}

/** The page of `line` with the trains older than `before` (null: the newest ones). Throws UnknownLineError for an unknown line. */
export async function readLinePage(engine: Engine, line: string, before: number | null): Promise<LinePage & { lineState: LineState }> {
  const cfg = engine.lineConfig(line);
  const now = engine.deps.clock();
  return inTransaction(
    engine.deps.pool,
    async (tx) => {
      // A 5,000-commit train is counted, not loaded.
      const loaded = await loadLine(tx, cfg, { lock: false, newestTrain: true, withoutTrainCommits: true });
      if (!loaded) throw new Error(`line ${line} is not in the database`);
      const lineId = loaded.ids.lineId;
      // One row more than shown says whether there is an older page.
      const rows = await tx.query<TrainListRow>`
        SELECT t.number, t.state, t.head_sha, t.engineer_email, t.created_at, coalesce(t.deployed_at, t.derailed_at) AS ended_at,
               (SELECT count(*)::int FROM train_commit tc WHERE tc.train_id = t.id) AS commits,
               (SELECT count(DISTINCT c.author_email)::int FROM train_commit tc JOIN commit c ON c.id = tc.commit_id WHERE tc.train_id = t.id) AS authors
        FROM train t
        WHERE t.line_id = ${lineId} AND (${before}::int IS NULL OR t.number < ${before}::int)
        ORDER BY t.number DESC LIMIT ${TRAINS_PER_PAGE + 1}`;
      const seen = await tx.query<{ sha: string; first_seen_at: Date }>`
        SELECT sha, first_seen_at FROM commit WHERE line_id = ${lineId} AND state = 'platform'`;
      const loadedIds = [...loaded.ids.trains.values()];
      const sizeRows = await tx.query<{ number: number; commits: number; authors: number }>`
        SELECT t.number, count(c.id)::int AS commits, count(DISTINCT c.author_email)::int AS authors
        FROM train t LEFT JOIN train_commit tc ON tc.train_id = t.id LEFT JOIN commit c ON c.id = tc.commit_id
        WHERE t.id = ANY(${loadedIds}::int[]) GROUP BY t.number`;
      const trains = rows.slice(0, TRAINS_PER_PAGE).map((r) => ({
        number: r.number,
        state: r.state,
        headSha: r.head_sha,
        engineer: r.engineer_email,
        commits: r.commits,
        authors: r.authors,
        createdAt: r.created_at,
        endedAt: r.ended_at,
      }));
      const page = shapeLinePage(
        loaded.state,
        {
          trains,
          hasOlder: rows.length > TRAINS_PER_PAGE,
          paged: before !== null,
          firstSeen: new Map(seen.map((r) => [r.sha, r.first_seen_at])),
          sizes: new Map(sizeRows.map((r) => [r.number, r])),
        },
        now,
      );
      // The line as loaded for the page: its buttons decide on it without reading it again.
      return { ...page, lineState: loaded.state };
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}
