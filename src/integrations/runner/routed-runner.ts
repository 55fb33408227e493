import type { BuildRunner, JobKind } from '../../engine/ports/build-runner.js';

/**
 * One line's jobs may run in different places (build on Jenkins, deploy as a
 * shell command): each kind goes to its runner; stop and close reach them all
 * (a runner that does not know a job ignores it).
 */
export function createRoutedRunner(byKind: Record<JobKind, BuildRunner>): BuildRunner {
  const all = [...new Set(Object.values(byKind))];
  return {
    start: (req) => byKind[req.kind].start(req),
    stop: async (jobId) => {
      await Promise.all(all.map((r) => r.stop(jobId)));
    },
    close: async () => {
      await Promise.all(all.map((r) => r.close()));
    },
  };
}
