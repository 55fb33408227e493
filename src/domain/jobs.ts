import type { Draft } from './draft.js';
import type { JobKind, Train } from './model.js';

/** A job for the train, queued: the outbox starts it after commit. Attempts count per kind. */
export function addJob(d: Draft, train: Train, kind: JobKind, sha: string): void {
  const attempt = train.jobs.filter((j) => j.kind === kind).length + 1;
  train.jobs.push({
    kind,
    state: 'queued',
    attempt,
    sha,
    requestedBy: d.ctx.actor,
    externalId: null,
    url: null,
    output: null,
    createdAt: d.ctx.now,
    startedAt: null,
    finishedAt: null,
    timeoutAt: null,
  });
  d.emit({ kind: 'job.start', train: train.number, jobKind: kind, attempt });
}

/** Stops the train's jobs still waiting or running (of one kind, or all). */
export function stopJobs(d: Draft, train: Train, only?: JobKind): void {
  for (const j of train.jobs) {
    if (only && j.kind !== only) continue;
    if (j.state === 'queued' || j.state === 'running') {
      j.state = 'failed';
      j.finishedAt = d.ctx.now;
      j.output = (j.output ?? '') + '\n[stopped by Conductor]';
      d.emit({ kind: 'job.stop', train: train.number, jobKind: j.kind, attempt: j.attempt });
    }
  }
}
