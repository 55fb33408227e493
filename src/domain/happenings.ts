import type { Job, JobKind, LineState, Train } from './model.js';

/**
 * What an accepted decision made happen, read from the state before and after it
 * (no I/O): what the process that took the decision counts in its metrics
 * (src/http/metrics.ts). Each happening is derived once, by the decision that
 * made it, so counting them in the deciding process counts every event once
 * across all Conductor processes.
 */
export type Happening =
  /** A job's outcome became known (or unknown). `seconds`: from its start to its end; null when it never started. */
  | { kind: 'job.finished'; train: number; job: JobKind; attempt: number; result: JobResult; seconds: number | null; settledLate: boolean }
  /** A train's deploy succeeded: its commits are in production. */
  | { kind: 'train.deployed'; train: number; at: Date; shas: string[] }
  /** A train was derailed (by a person, a failed deploy's follow-up, or an emergency reset; not an extend). */
  | { kind: 'train.derailed'; train: number };

export type JobResult = 'succeeded' | 'failed' | 'unknown';

const open = (state: Job['state']): boolean => state === 'queued' || state === 'running';

/**
 * The happenings between `before` and `after`, in train order. A job counts when it
 * leaves queued/running for an outcome, and again when an unknown outcome is settled
 * (`settledLate`; its duration was observed the first time). A train replaced by an
 * extend is marked derailed in the state, but is not a derail here.
 */
export function happenings(before: LineState, after: LineState): Happening[] {
  const out: Happening[] = [];
  const old = new Map(before.trains.map((t) => [t.number, t]));
  for (const t of after.trains) {
    const prev = old.get(t.number);
    for (const j of t.jobs) {
      const was = prev ? jobOf(prev, j) : undefined;
      const finished = j.state !== 'queued' && j.state !== 'running';
      if (!finished || was?.state === j.state) continue;
      if (was && !open(was.state) && was.state !== 'unknown') continue;
      const settledLate = was?.state === 'unknown';
      const seconds = !settledLate && j.startedAt && j.finishedAt ? Math.max(0, (j.finishedAt.getTime() - j.startedAt.getTime()) / 1000) : null;
      out.push({ kind: 'job.finished', train: t.number, job: j.kind, attempt: j.attempt, result: j.state as JobResult, seconds, settledLate });
    }
    if (t.state === 'deployed' && prev && prev.state !== 'deployed') {
      out.push({ kind: 'train.deployed', train: t.number, at: t.deployedAt!, shas: t.commits.map((c) => c.sha) });
    }
    if (t.state === 'derailed' && prev && prev.state !== 'derailed' && !after.trains.some((x) => x.replaces === t.number)) {
      out.push({ kind: 'train.derailed', train: t.number });
    }
  }
  return out;
}

function jobOf(t: Train, j: Job): Job | undefined {
  return t.jobs.find((x) => x.kind === j.kind && x.attempt === j.attempt);
}
