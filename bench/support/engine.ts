// An Engine on a scratch database, as the app builds it but without HTTP,
// outbox worker or scheduler (their effects stay as outbox rows), so the
// engine-level benchmarks time the engine alone. Real clock: auto-time 24/7.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { type AutoTimeWindow, WEEKDAYS } from '../../src/domain/time.js';
import { executeCommand } from '../../src/engine/commands.js';
import { Engine, type Reply } from '../../src/engine/engine.js';
import { ensureLine, jobFinished, recordCommits } from '../../src/engine/inputs.js';
import type { CommitInfo } from '../../src/engine/ports/code-host.js';
import type { ScratchDatabase } from './database.js';

export const ALWAYS: AutoTimeWindow[] = [{ days: [...WEEKDAYS], start: '00:00', end: '24:00' }];
export const ADMIN = 'admin@example.com';
export const ROBOT = 'bot@example.com';
export const LINE = 'web';

export const fakeSha = (seed: string): string => createHash('sha1').update(seed).digest('hex');
export const rootSha = (line: string): string => fakeSha(`${line}-root`);

export interface BenchEngine {
  engine: Engine;
  db: ScratchDatabase;
  line: string;
  /** The head the engine knows, as a fetch would read from. */
  head(): string;
  /** Records commits as the fetch poller does (one recordCommits call). */
  push(commits: CommitInfo[]): Promise<Reply>;
  cmd(user: string, text: string): Promise<Reply>;
  /** Reports the newest job of a kind on a train as finished (as the runner does). */
  finishJob(train: number, kind: 'build' | 'deploy', succeeded?: boolean): Promise<Reply>;
  trainExists(number: number): Promise<boolean>;
}

export async function benchEngine(db: ScratchDatabase, log: Logger, opts: { mode: 'schedule' | 'manual'; line?: string }): Promise<BenchEngine> {
  const line = opts.line ?? LINE;
  await ensureLine(db.prisma, { name: line, repo: `/nonexistent/${line}.git`, branch: 'main', mode: opts.mode, autoTime: ALWAYS, freezes: [], timezone: 'UTC' }, async () => rootSha(line));
  const engine = new Engine({
    db: db.prisma,
    pool: db.pool,
    config: {
      lines: [{ name: line, branch: 'main', maxCommits: null, reminderMinutes: 30, timeouts: { build: 10, deploy: 20, rollback: 20 } }],
      policy: { admins: [ADMIN], robots: [ROBOT] },
      publicUrl: 'http://127.0.0.1:3000',
    },
    clock: () => new Date(),
    random: Math.random,
    log,
  });
  let head: string | null = null;
  const knownHead = async () => (head ??= (await db.prisma.line.findUniqueOrThrow({ where: { name: line } })).knownHeadSha);
  return {
    engine,
    db,
    line,
    head: () => head ?? rootSha(line),
    async push(commits) {
      const since = await knownHead();
      const newHead = commits[commits.length - 1]?.sha ?? since;
      const r = await recordCommits(engine, line, since, { headSha: newHead, commits, rewritten: false });
      head = newHead;
      return r;
    },
    cmd: (user, text) => executeCommand(engine, { user, text, line }),
    async finishJob(train, kind, succeeded = true) {
      const job = await db.prisma.job.findFirst({
        where: { kind, train: { number: train, line: { name: line } } },
        orderBy: { attempt: 'desc' },
      });
      if (!job) throw new Error(`no ${kind} job on train #${train}`);
      return jobFinished(engine, { jobId: job.id, succeeded, output: succeeded ? 'ok' : 'failed', exitCode: succeeded ? 0 : 1, timedOut: false });
    },
    async trainExists(number) {
      return (await db.prisma.train.count({ where: { number, line: { name: line } } })) === 1;
    },
  };
}

let counter = 0;
/** Fresh fake commits (unique SHAs), one per author given. */
export function fakeCommits(authors: string[], message = 'change'): CommitInfo[] {
  return authors.map((email) => {
    const n = ++counter;
    return { sha: fakeSha(`bench-${process.pid}-${n}`), authorName: email.split('@')[0]!, authorEmail: email, message: `${message} ${n}` };
  });
}

export function assertOk(r: Reply, what: string): Reply {
  if (!r.ok) throw new Error(`${what}: ${r.text}`);
  return r;
}
