import type { Logger } from 'pino';
import type { Db } from './db.js';
import type { LinePorts } from './deliver.js';

/**
 * Jobs outlive the process (Jenkins builds, and local jobs through their
 * record on disk): the jobs the database records as running (with the
 * `<job>#<number>` or `local-<id>` their start returned) go back to their
 * line's runner, so that polling, callbacks, stop and the timeout work again;
 * one whose outcome nobody can tell is reported as unknown (behaviour.md §9). A failure
 * here leaves those jobs to the engine's timeout, never fails the start-up.
 */
export async function resumeRunningJobs(db: Db, ports: Map<string, LinePorts>, log: Logger): Promise<void> {
  try {
    const rows = await db.job.findMany({
      where: { state: 'running', externalId: { not: null }, train: { line: { name: { in: [...ports.keys()] } } } },
      select: { id: true, kind: true, externalId: true, url: true, startedAt: true, timeoutAt: true, train: { select: { line: { select: { name: true } } } } },
    });
    for (const [line, p] of ports) {
      const running = rows
        .filter((r) => r.train.line.name === line)
        .map((r) => ({ jobId: r.id, kind: r.kind, externalId: r.externalId!, url: r.url, startedAt: r.startedAt, timeoutAt: r.timeoutAt }));
      if (running.length > 0 && p.runner.resume) await p.runner.resume(running);
    }
    if (rows.length > 0) log.info({ jobs: rows.map((r) => r.id) }, 'running jobs handed back to their runners');
  } catch (err) {
    log.error({ err }, 'could not resume the running jobs; they will end by timeout');
  }
}
