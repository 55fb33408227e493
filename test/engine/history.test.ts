/**
 * `history` in words (behaviour.md §10): every action code the code base records has a
 * sentence with its values, and the command prints one line per entry.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HISTORY_SENTENCES, type HistoryEntry, historyLine } from '../../src/engine/history.js';
import { ADMIN, engineHarness, type Harness } from '../support/engine-harness.js';

const AT = new Date('2026-11-23T10:05:00Z');
const A = 'alice@acme.test';
const B = 'bob@acme.test';
const S1 = 'a1b2c3d4'.padEnd(40, '0');
const S2 = 'e5f6a7b8'.padEnd(40, '0');

/** Templates in `record(...)` calls and what they expand to. */
const TEMPLATES: Record<string, string[]> = {
  'line.freeze-${action}': ['line.freeze-add', 'line.freeze-remove'],
};

/** Every action code written to the audit by the code under src/. */
function recordedCodes(): Set<string> {
  const codes = new Set<string>();
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) return f === 'generated' ? [] : walk(p);
      return p.endsWith('.ts') ? [p] : [];
    });
  for (const file of walk(path.resolve('src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.record\(\s*([^,]+),/g)) {
      const arg = m[1]!;
      for (const lit of arg.matchAll(/'([^']+)'/g)) codes.add(lit[1]!);
      for (const tpl of arg.matchAll(/`([^`]+)`/g)) {
        const expanded = TEMPLATES[tpl[1]!];
        if (!expanded) throw new Error(`${file}: audit code template ${tpl[1]} is not in TEMPLATES (add its expansion and a sentence)`);
        for (const c of expanded) codes.add(c);
      }
    }
    for (const m of text.matchAll(/\baction:\s*'([a-z]+\.[a-z_-]+)'/g)) codes.add(m[1]!);
  }
  return codes;
}

const entry = (action: string, details: Record<string, unknown>, actor = A, train: number | null = 3): HistoryEntry => ({ createdAt: AT, actor, action, train, details });

/** For each code: the details the code base writes, and the line people read. */
const TABLE: [string, HistoryEntry, string][] = [
  ['commits.arrived', entry('commits.arrived', { count: 2, headSha: S1, rewritten: false }, 'conductor', null), '2 commits arrived on the branch (head a1b2c3d4).'],
  [
    'commits.removed',
    entry('commits.removed', { shas: [S1, S2], headSha: S2, by: 'force push' }, 'conductor', null),
    'A force push took 2 commits off the branch before a train took them (a1b2c3d4, e5f6a7b8).',
  ],
  ['branch.rewritten', entry('branch.rewritten', { headSha: S2 }, 'conductor', null), 'The branch was rewritten by a force push; its head is now e5f6a7b8.'],
  ['train.rewritten', entry('train.rewritten', { headSha: S2 }, 'conductor'), "A force push removed train #3's commits from the branch (head now e5f6a7b8)."],
  [
    'train.created',
    entry('train.created', { commits: 4, headSha: S1, engineer: A, replaces: null }, 'conductor'),
    `Conductor started train #3 with 4 commits (head a1b2c3d4); engineer ${A}.`,
  ],
  ['train.extended', entry('train.extended', { commits: 5, headSha: S2, engineer: A, replaces: 2 }), `${A} extended train #2 into train #3: 5 commits (head e5f6a7b8); engineer ${A}.`],
  ['train.derailed', entry('train.derailed', { reason: 'flaky tests', afterFailedDeploy: false }), `${A} derailed train #3: flaky tests.`],
  ['train.blocked', entry('train.blocked', { reason: 'waiting for QA' }), `${A} blocked train #3: waiting for QA.`],
  ['train.unblocked', entry('train.unblocked', { was: 'waiting for QA' }), `${A} unblocked train #3 (it was blocked: waiting for QA).`],
  ['train.engineer', entry('train.engineer', { engineer: B, previous: A }, ADMIN), `${ADMIN} made ${B} the engineer of train #3 (was ${A}).`],
  ['train.deploy-started', entry('train.deploy-started', { headSha: S1 }), `${A} started the production deploy of train #3 (a1b2c3d4).`],
  ['train.deployed', entry('train.deployed', { headSha: S1 }, 'conductor'), 'Train #3 was deployed to production (a1b2c3d4).'],
  ['job.started', entry('job.started', { kind: 'build', attempt: 1, externalId: 'x', url: null }, 'conductor'), 'The build of train #3 started.'],
  ['job.succeeded', entry('job.succeeded', { kind: 'deploy', attempt: 2, timedOut: false }, 'conductor'), 'The production deploy of train #3 succeeded (attempt 2).'],
  ['job.failed', entry('job.failed', { kind: 'build', attempt: 1, timedOut: false }, 'conductor'), 'The build of train #3 failed.'],
  ['job.timed-out', entry('job.timed-out', { kind: 'rollback', attempt: 1 }, 'conductor'), 'The rollback of train #3 timed out.'],
  ['job.retried', entry('job.retried', { kind: 'build', attempt: 2 }), `${A} retried the build of train #3 (attempt 2).`],
  [
    'job.unknown',
    entry('job.unknown', { kind: 'deploy', attempt: 1, why: 'it did not report back within 60 minutes' }, 'conductor'),
    'The outcome of the production deploy of train #3 became unknown (it did not report back within 60 minutes); someone must check production.',
  ],
  ['job.marked', entry('job.marked', { kind: 'deploy', attempt: 1, outcome: 'succeeded' }), `${A} checked production and recorded that the production deploy of train #3 succeeded.`],
  ['line.rolled-back', entry('line.rolled-back', { headSha: 'abcdef1234567890', from: 5 }, 'conductor'), 'Production now runs train #3 (abcdef12); it ran train #5 before.'],
  ['ticket.verified', entry('ticket.verified', { author: B }, B), `${B} verified their changes on train #3.`],
  ['ticket.reopened', entry('ticket.reopened', { author: B, reason: 'the login is broken' }, B), `${B} reopened their verification on train #3: the login is broken.`],
  ['ticket.reminded', entry('ticket.reminded', { author: B }, 'conductor'), `Conductor reminded ${B} to verify their changes on train #3.`],
  [
    'ticket.sync_failed',
    entry('ticket.sync_failed', { externalKey: 'WEB-7', done: true, reason: 'no transition to Done' }, 'conductor'),
    'Jira could not follow on train #3: WEB-7 could not be moved to done (no transition to Done).',
  ],
  ['line.rollback', entry('line.rollback', { headSha: S1, blocked: 4 }, A, 2), `${A} rolled production back to train #2 (a1b2c3d4); train #4 was blocked.`],
  [
    'line.emergency',
    entry('line.emergency', { reason: 'payments down', targetSha: S1, backupRef: 'refs/conductor/backup/web/20261123T100500Z', removed: [S2] }, ADMIN),
    `${ADMIN} ran an emergency reset: payments down; the branch went back to a1b2c3d4, 1 commit removed (kept at refs/conductor/backup/web/20261123T100500Z); the line went to manual mode.`,
  ],
  ['line.mode', entry('line.mode', { from: 'schedule', to: 'manual', reason: 'release freeze' }, ADMIN, null), `${ADMIN} switched the line from schedule to manual mode: release freeze.`],
  [
    'line.autotime',
    entry('line.autotime', { before: 'mon-fri 09:00-17:00 (UTC)', after: 'mon-thu 10:00-16:00 (UTC)' }, ADMIN, null),
    `${ADMIN} changed auto-time from mon-fri 09:00-17:00 (UTC) to mon-thu 10:00-16:00 (UTC).`,
  ],
  ['line.freeze-add', entry('line.freeze-add', { date: '2026-12-24' }, ADMIN, null), `${ADMIN} added the freeze date 2026-12-24.`],
  ['line.freeze-remove', entry('line.freeze-remove', { date: '2026-12-24' }, ADMIN, null), `${ADMIN} removed the freeze date 2026-12-24.`],
  [
    'line.unblocked',
    entry('line.unblocked', { was: 'health check failed on train #3: value 0.2' }, ADMIN, null),
    `${ADMIN} unblocked the line (new trains were blocked: health check failed on train #3: value 0.2).`,
  ],
  ['health.watching', entry('health.watching', { until: '2026-11-23T10:15:00.000Z' }, 'conductor'), 'The health check started watching train #3 until 2026-11-23 10:15 UTC.'],
  ['health.healthy', entry('health.healthy', {}, 'conductor'), 'Train #3 passed its health checks: no trip during the soak.'],
  ['health.superseded', entry('health.superseded', { by: 4, failures: 0 }, 'conductor'), 'The health watch of train #3 ended early: train #4 was deployed after it.'],
  [
    'health.superseded',
    entry('health.superseded', { by: 1, failures: 2, rolledBack: true }, 'conductor'),
    'The health watch of train #3 ended early: production was rolled back to train #1.',
  ],
  ['health.unknown', entry('health.unknown', { message: 'Prometheus did not answer' }, 'conductor'), 'The health check of train #3 could not run: Prometheus did not answer.'],
  [
    'health.tripped',
    entry('health.tripped', { reason: 'health check failed on train #3: value 0.2', failures: 3, blocked: 4 }, 'conductor'),
    'The health check tripped on train #3 after 3 failures in a row; the line is blocked (health check failed on train #3: value 0.2).',
  ],
  ['commit.revert-requested', entry('commit.revert-requested', { sha: S1 }, A, null), `${A} asked to revert a1b2c3d4.`],
  [
    'bisect.started',
    entry('bisect.started', { commits: 33, maxBuilds: 8, parallel: 2 }, 'conductor'),
    'The build of train #3 failed: Conductor started looking for the first failing commit among 33 commits (at most 8 builds).',
  ],
  ['bisect.built', entry('bisect.built', { sha: S1, attempt: 2, passed: false }, 'conductor'), 'A culprit search build of train #3 at a1b2c3d4 failed.'],
  [
    'bisect.found',
    entry('bisect.found', { sha: S1, authorEmail: B, builds: 7 }, 'conductor'),
    `The culprit search of train #3 found that the build first fails at a1b2c3d4 (${B}), after 7 builds.`,
  ],
  [
    'bisect.flaky',
    entry('bisect.flaky', { fromSha: S1, toSha: S2, builds: 4 }, 'conductor'),
    'The culprit search of train #3 could not split a1b2c3d4…e5f6a7b8: the build results disagree (a flaky build?).',
  ],
  ['bisect.cancelled', entry('bisect.cancelled', { why: 'new commits were pushed', builds: 2 }, 'conductor'), 'The culprit search of train #3 was cancelled: new commits were pushed.'],
  [
    'commit.revert-landed',
    entry('commit.revert-landed', { sha: S1, revertSha: S2, extended: 4 }, 'conductor'),
    'The revert of a1b2c3d4 (e5f6a7b8) landed; train #3 was extended into train #4 with it.',
  ],
  [
    'commit.revert-failed',
    entry('commit.revert-failed', { sha: S1, requestedBy: A, reason: 'Reverting a1b2c3d4 would change nothing: its changes are no longer on main.' }, 'conductor', null),
    `The revert of a1b2c3d4 that ${A} asked for was not made. Reverting a1b2c3d4 would change nothing: its changes are no longer on main.`,
  ],
];

describe('history sentences', () => {
  it('every action code recorded under src/ has a sentence and a row in this table', () => {
    const codes = [...recordedCodes()].sort();
    expect(codes.length).toBeGreaterThan(20);
    expect(codes.filter((c) => !HISTORY_SENTENCES[c])).toEqual([]);
    expect(codes.filter((c) => !TABLE.some(([code]) => code === c))).toEqual([]);
  });

  it.each(TABLE)('%s', (_code, e, sentence) => {
    expect(historyLine(e, 'UTC')).toBe(`2026-11-23 10:05 UTC  ${sentence}`);
  });

  it("writes the time in the line's timezone, keeps an entry on one line, and still reads an unknown code", () => {
    expect(historyLine(entry('train.derailed', { reason: 'two\nlines' }), 'Europe/Paris')).toBe(`2026-11-23 11:05 Europe/Paris  ${A} derailed train #3: two lines.`);
    expect(historyLine(entry('train.engineer', { engineer: A, previous: null }), 'UTC')).toBe(`2026-11-23 10:05 UTC  ${A} took the engineer role of train #3.`);
    expect(historyLine(entry('line.mode', { from: 'manual', to: 'schedule' }, ADMIN, null), 'UTC')).toBe(`2026-11-23 10:05 UTC  ${ADMIN} switched the line from manual to schedule mode.`);
    expect(historyLine(entry('future.thing', { count: 2, nested: { a: 1 } }), 'UTC')).toBe(`2026-11-23 10:05 UTC  ${A}: future.thing on train #3 (count 2).`);
  });
});

describe('engine: the history command', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await engineHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('prints one line in words per entry, newest first, with the values and the mode reason', async () => {
    expect((await h.cmd(ADMIN, 'mode manual release freeze')).text).toBe('The line is now in manual mode (release freeze): trains start only by hand.');
    h.advance(60_000);
    expect((await h.cmd(ADMIN, 'autotime set mon-fri 09:00-17:00')).ok).toBe(true);
    h.advance(60_000);
    await h.push('web', [A]);
    const reply = await h.cmd(A, 'history 3');
    expect(reply.ok).toBe(true);
    expect(reply.text.split('\n')).toEqual([
      expect.stringMatching(/^2026-11-23 10:02 UTC {2}1 commit arrived on the branch \(head [0-9a-f]{8}\)\.$/),
      `2026-11-23 10:01 UTC  ${ADMIN} changed auto-time from mon-sun 00:00-24:00 (UTC) to mon-fri 09:00-17:00 (UTC).`,
      `2026-11-23 10:00 UTC  ${ADMIN} switched the line from schedule to manual mode: release freeze.`,
    ]);
  });
});
