import type { BuildRunner, JobKind, RunningJob } from '../../engine/ports/build-runner.js';

/**
 * One line's jobs may run in different places (build on Jenkins, deploy as a
 * shell command): each kind goes to its runner; stop and close reach them all
 * (a runner that does not know a job ignores it), and what the database knows
 * of a job to stop goes only to the runner of its kind. Running jobs are resumed
 * by the runner of their kind.
 */
export function createRoutedRunner(byKind: Record<JobKind, BuildRunner>): BuildRunner {
  const all = [...new Set(Object.values(byKind))];
  return {
    start: (req) => byKind[req.kind].start(req),
    stop: async (jobId, job) => {
      // Only the runner of the job's kind may go looking for it; the others stop it only if they follow it.
      await Promise.all(all.map((r) => r.stop(jobId, job && byKind[job.kind] === r ? job : undefined)));
    },
    close: async () => {
      await Promise.all(all.map((r) => r.close()));
    },
    liveOutput: async (jobId, maxBytes) => {
      // Job ids are unique across kinds: the first runner holding output for it answers.
      for (const r of all) {
        const out = r.liveOutput ? await r.liveOutput(jobId, maxBytes) : null;
        if (out !== null) return out;
      }
      return null;
    },
    resume: async (running: RunningJob[]) => {
      await Promise.all(
        all.map(async (r) => {
          const mine = running.filter((j) => byKind[j.kind] === r);
          if (mine.length > 0 && r.resume) await r.resume(mine);
        }),
      );
    },
  };
}
