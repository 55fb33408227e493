/**
 * `GET /api/lines`: one summary per line, the fields of the Web App's overview
 * (`/`). Built from the same pieces as the status JSON (views.ts), so both
 * always agree.
 */
import type { LineState, Train } from '../../domain/index.js';
import { goingTrain, latestJob, notDeployableReason } from '../../domain/index.js';
import { inTransaction } from '../../store/sql.js';
import { type Engine, UnknownLineError } from '../engine.js';
import { loadLine } from '../load.js';
import { type LineStatusJson, lineStatusJson } from '../views.js';

export interface TrainSummaryJson {
  number: number;
  state: Train['state'];
  engineer: string | null;
  verified: { done: number; total: number };
  deployable: boolean;
  notDeployableReason: string | null;
  /** Added for the overview page (only added fields keep /api/lines compatible). */
  headSha: string;
  commitCount: number;
  blocked: string | null;
  /** The newest job of its kind when it failed or its outcome is unknown (behaviour.md §9): what a person must act on. */
  jobProblem: { kind: 'build' | 'deploy' | 'rollback'; state: 'failed' | 'unknown'; attempt: number } | null;
}

export interface LineSummaryJson {
  line: string;
  mode: LineStatusJson['mode'];
  manualReason: string | null;
  /** Who put the line in manual mode; null in schedule mode or when the config file did. */
  manualSetBy: string | null;
  inAutoTime: boolean;
  whyIdle: string | null;
  /** The going train, else the newest one; null when the line never had a train. */
  train: TrainSummaryJson | null;
  platformSize: number;
  production: LineStatusJson['production'];
}

/** `commitCount`: when the train was loaded without its commits (a big train is counted, not loaded). */
export function trainSummaryJson(s: LineState, t: Train, commitCount = t.commits.length): TrainSummaryJson {
  const reason = notDeployableReason(s, t);
  return {
    number: t.number,
    state: t.state,
    engineer: t.engineer,
    verified: { done: t.tickets.filter((k) => k.state === 'verified').length, total: t.tickets.length },
    deployable: reason === null,
    notDeployableReason: reason,
    headSha: t.headSha,
    commitCount,
    blocked: t.blocked,
    jobProblem: jobProblem(t),
  };
}

function jobProblem(t: Train): TrainSummaryJson['jobProblem'] {
  // Newest first: the job a person would retry or check now.
  for (const j of [...t.jobs].reverse()) {
    if (j.kind === 'bisect' || latestJob(t, j.kind) !== j) continue;
    if (j.state === 'failed' || j.state === 'unknown') return { kind: j.kind, state: j.state, attempt: j.attempt };
  }
  return null;
}

/** The train a summary shows: the going one, else the newest. */
export function shownTrain(s: LineState): Train | undefined {
  return goingTrain(s) ?? [...s.trains].sort((a, b) => b.number - a.number)[0];
}

/** Pure: `s` loaded with its newest train; `commitCount` of the shown train when it was loaded without its commits. */
export function lineSummaryJson(s: LineState, now: Date, commitCount?: number): LineSummaryJson {
  const status = lineStatusJson(s, now);
  const shown = shownTrain(s);
  return {
    line: status.line,
    mode: status.mode,
    manualReason: status.manualReason,
    manualSetBy: status.manualSetBy,
    inAutoTime: status.inAutoTime,
    whyIdle: status.whyIdle,
    train: shown ? trainSummaryJson(s, shown, commitCount ?? shown.commits.length) : null,
    platformSize: s.platform.length,
    production: status.production,
  };
}

/**
 * Every configured line, in the configuration's order: one read-only snapshot
 * each. Trains come without their commits, which are counted instead: the
 * overview of 50 lines must not load a 5,000-commit train to say "5000 commits".
 */
export async function readLineSummaries(engine: Engine): Promise<LineSummaryJson[]> {
  const now = engine.deps.clock();
  return Promise.all(
    [...engine.lines.keys()].map((name) =>
      inTransaction(
        engine.deps.pool,
        async (tx) => {
          const loaded = await loadLine(tx, engine.lineConfig(name), { lock: false, newestTrain: true, withoutTrainCommits: true });
          if (!loaded) throw new UnknownLineError(`line ${name} is not in the database`);
          const shown = shownTrain(loaded.state);
          const id = shown ? loaded.ids.trains.get(shown.number) : undefined;
          const [count] = id === undefined ? [] : await tx.query<{ n: number }>`SELECT count(*)::int AS n FROM train_commit WHERE train_id = ${id}`;
          return lineSummaryJson(loaded.state, now, count?.n);
        },
        { isolation: 'repeatable read', readOnly: true },
      ),
    ),
  );
}
