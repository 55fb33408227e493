import { createHash } from 'node:crypto';
import pino from 'pino';
import type { AutoTimeWindow } from '../../src/domain/time.js';
import { WEEKDAYS } from '../../src/domain/time.js';
import { executeCommand } from '../../src/engine/commands.js';
import { Engine } from '../../src/engine/engine.js';
import { ensureLine, recordCommits } from '../../src/engine/inputs.js';
import type { LineRuntimeConfig } from '../../src/engine/line-config.js';
import type { CodeHost } from '../../src/engine/ports/code-host.js';
import { lineStatusJson } from '../../src/engine/views.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const ALWAYS: AutoTimeWindow[] = [{ days: [...WEEKDAYS], start: '00:00', end: '24:00' }];
export const ADMIN = 'admin@example.com';
export const ROBOT = 'bot@example.com';

export const fakeSha = (seed: string): string => createHash('sha1').update(seed).digest('hex');

export interface HarnessOptions {
  lines?: { name: string; mode?: 'schedule' | 'manual'; autoTime?: AutoTimeWindow[]; maxCommits?: number }[];
  start?: Date;
  random?: () => number;
  poolSize?: number;
  /** Secret values of the environment (redacted from job output). */
  secrets?: string[];
  /** Real code hosts by line: the line starts at its head and the engine may ask it (revert checks). */
  codeHosts?: Record<string, CodeHost>;
}

/** An engine on a fresh real PostgreSQL database, with a clock the test moves. */
export async function engineHarness(opts: HarnessOptions = {}) {
  const db: TestDatabase = await createTestDatabase({ poolSize: opts.poolSize ?? 10 });
  let now = opts.start ?? new Date('2026-11-23T10:00:00Z');
  const lines = opts.lines ?? [{ name: 'web' }];
  const runtime: LineRuntimeConfig[] = lines.map((l) => ({
    name: l.name,
    branch: 'main',
    maxCommits: l.maxCommits ?? null,
    reminderMinutes: 30,
    timeouts: { build: 10, deploy: 20, rollback: 20 },
  }));
  for (const l of lines) {
    await ensureLine(
      db.prisma,
      { name: l.name, repo: `/tmp/${l.name}.git`, branch: 'main', mode: l.mode ?? 'schedule', autoTime: l.autoTime ?? ALWAYS, freezes: [], timezone: 'UTC' },
      async () => (opts.codeHosts?.[l.name] ? opts.codeHosts[l.name]!.head() : fakeSha(`${l.name}-root`)),
    );
  }
  const engine = new Engine({
    db: db.prisma,
    pool: db.pool,
    config: { lines: runtime, policy: { admins: [ADMIN], robots: [ROBOT] }, publicUrl: 'http://localhost:3000', secrets: opts.secrets },
    clock: () => now,
    random: opts.random ?? (() => 0),
    log: pino({ level: 'silent' }),
    codeHost: (line) => opts.codeHosts?.[line],
  });
  let pushed = 0;
  const known = new Map<string, string>();

  const h = {
    db,
    engine,
    now: () => now,
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
    set(d: Date) {
      now = d;
    },
    /** Pushes commits by the given authors (one commit each) and records them as a fetch would. */
    async push(line: string, authors: string[], message = 'change'): Promise<string[]> {
      const head = known.get(line) ?? fakeSha(`${line}-root`);
      const commits = authors.map((a) => {
        pushed++;
        return { sha: fakeSha(`${line}-${pushed}`), authorName: a.split('@')[0]!, authorEmail: a, message: `${message} ${pushed}` };
      });
      const newHead = commits[commits.length - 1]?.sha ?? head;
      known.set(line, newHead);
      await recordCommits(engine, line, head, { headSha: newHead, commits, rewritten: false });
      return commits.map((c) => c.sha);
    },
    cmd(user: string, text: string, line?: string) {
      return executeCommand(engine, { user, text, line });
    },
    async status(line = 'web') {
      const { state } = await engine.read(line, { newestTrain: true });
      return lineStatusJson(state, now);
    },
    async outbox(kind?: string) {
      const rows = await db.prisma.outboxItem.findMany({ where: kind ? { kind } : {}, orderBy: { id: 'asc' } });
      return rows.map((r) => r.payload as Record<string, unknown> & { kind: string });
    },
    /** Finishes the newest job of a kind on a train as the runner would report it. */
    async finishJob(line: string, train: number, kind: 'build' | 'deploy' | 'rollback', succeeded = true, output = succeeded ? 'ok' : 'boom') {
      const job = await db.prisma.job.findFirst({
        where: { kind, train: { number: train, line: { name: line } } },
        orderBy: { attempt: 'desc' },
      });
      if (!job) throw new Error(`no ${kind} job on train #${train}`);
      const { jobFinished } = await import('../../src/engine/inputs.js');
      return jobFinished(engine, { jobId: job.id, succeeded, output, exitCode: succeeded ? 0 : 1, timedOut: false });
    },
    close: () => db.drop(),
  };
  return h;
}

export type Harness = Awaited<ReturnType<typeof engineHarness>>;
