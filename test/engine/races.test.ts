// Race tests (docs/architecture.md "Concurrency", "Testing"): many concurrent inputs of
// every kind at one line, then the train rules checked IN THE DATABASE.
//
// Each round fires ~50 inputs at line `web` with Promise.all: pushes followed
// by fetches (the same commits fetched twice at once, GitHub deliveries
// replayed with one key), starts, verifies by several authors, deploy
// double-clicks and Slack retries, derails, extends, blocks and unblocks,
// engineer claims, job starts and results (duplicated, even contradicting),
// ticks that move the clock, mode and freeze changes, emergency resets,
// retries, reopens, rollbacks and reverts. Inputs pick their target when they
// run (the current engineer, a pending ticket, an unfinished job), after a
// random delay, so they interleave with each other's writes. Rounds run one
// after another on the same line so history accumulates; a seed reproduces a
// round's choices (RACE_SEEDS=11,23 npx vitest run test/engine/races.test.ts).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeCommand } from '../../src/engine/commands.js';
import type { Reply } from '../../src/engine/engine.js';
import { jobFinished, jobStarted, recordCommits, tick } from '../../src/engine/inputs.js';
import { ADMIN, engineHarness, fakeSha, type Harness, ROBOT } from '../support/engine-harness.js';
import { type Applied, AUDIT_OF_INPUT, auditViolations, type Queryable, snapshot, stateViolations } from '../support/race-invariants.js';
import { RaceRemote, seeded } from '../support/race-remote.js';

const LINE = 'web';
const HUMANS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'];
const SEEDS = (process.env.RACE_SEEDS ?? '11,23,37,41,53,67').split(',').map(Number);
const INPUTS_PER_ROUND = 50;
/**
 * When inputs start: a burst at once (they queue on the line lock), the rest
 * spread over a second (they interleave with each other's reads and writes,
 * so trains get far enough to deploy).
 */
const BURST_MS = 50;
const SPREAD_MS = 1_200;

interface Outcome {
  kind: string;
  key: string | null;
  ok: boolean;
  text: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('races: concurrent inputs of every kind at one line keep the train rules', () => {
  let h: Harness;
  let remote: RaceRemote;
  const outcomes: Outcome[] = [];
  const errors: string[] = [];
  /** Invariant 'at most one going train' sampled DURING the rounds, from committed data. */
  const sampled: string[] = [];

  beforeAll(async () => {
    h = await engineHarness({ lines: [{ name: LINE }, { name: 'north' }, { name: 'south' }], poolSize: 12 });
    remote = new RaceRemote(LINE, fakeSha(`${LINE}-root`));
  });
  afterAll(async () => {
    await h?.close();
  });

  // ---------------------------------------------------------------- inputs

  async function input(kind: string, key: string | null, fn: () => Promise<Reply>): Promise<void> {
    try {
      const r = await fn();
      outcomes.push({ kind, key, ok: r.ok, text: r.text });
    } catch (err) {
      errors.push(`${kind}${key ? ` [${key}]` : ''}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  const cmd = (kind: string, user: string, text: string, key: string | null) => input(kind, key, () => executeCommand(h.engine, { user, text, line: LINE, inputKey: key ?? undefined }));

  /** The scheduler's fetch: read the known head (no lock), ask the remote, record through the engine. */
  const fetch = (key: string | null) =>
    input('push', key, async () => {
      const row = await h.db.prisma.line.findUniqueOrThrow({ where: { name: LINE }, select: { knownHeadSha: true } });
      return recordCommits(h.engine, LINE, row.knownHeadSha, remote.since(row.knownHeadSha), { inputKey: key ?? undefined });
    });

  async function goingTrain() {
    return h.db.prisma.train.findFirst({
      where: { line: { name: LINE }, state: { in: ['delivering', 'verifying'] } },
      include: { tickets: true },
    });
  }
  const pick = <T>(xs: T[], r: number): T | undefined => xs[Math.floor(r * xs.length)];
  /** An input that found nothing to act on (no job to finish yet) is a scheduler tick instead. */
  const nothingToDo = async (calls: number): Promise<void> => {
    await Promise.all(Array.from({ length: calls }, () => input('tick', null, () => tick(h.engine, LINE))));
  };

  async function driver(r: number): Promise<string> {
    const t = await goingTrain();
    return t?.engineerEmail && r < 0.7 ? t.engineerEmail : ADMIN;
  }

  /**
   * One generated input: `calls` is how many engine inputs it fires at least
   * (a double click is two), `run` fires them. Choices are drawn now (seeded); targets
   * that depend on the state are looked up when the input runs.
   */
  interface Planned {
    calls: number;
    run: () => Promise<unknown>;
  }

  function plan(seed: number, rnd: () => number): Planned[] {
    const out: Planned[] = [];
    let n = 0;
    const table: [number, (i: number, r: number[]) => Planned][] = [
      // Push 1-3 commits, then fetch (half of them as a GitHub delivery with a key).
      [
        5,
        (i, r) => {
          const authors = [0, 1, 2].slice(0, 1 + Math.floor(r[0]! * 3)).map((j) => ({
            email: r[1]! < 0.15 ? ROBOT : pick(HUMANS, (r[2]! + j * 0.37) % 1)!,
            message: r[3]! < 0.1 ? `tweak [no-verify] ${seed}-${i}` : undefined,
          }));
          return { calls: 1, run: () => (remote.push(authors), fetch(r[4]! < 0.5 ? `gh:${seed}:${i}` : null)) };
        },
      ],
      // The same commits recorded twice at once: two fetches, or one delivery replayed with its key.
      [
        2,
        (i, r) => ({
          calls: 2,
          run: async () => {
            remote.push([{ email: pick(HUMANS, r[0]!)! }, { email: pick(HUMANS, r[1]!)! }]);
            const key = r[2]! < 0.5 ? `gh:${seed}:${i}:retry` : null;
            await Promise.all([fetch(key), fetch(key)]);
          },
        }),
      ],
      [2, (i) => ({ calls: 1, run: () => cmd('start', ADMIN, 'start', `start:${seed}:${i}`) })],
      // Verify by an author who owes one (sometimes someone who does not).
      [
        11,
        (i, r) => ({
          calls: 1,
          run: async () => {
            const t = await goingTrain();
            const owing = (t?.tickets ?? []).filter((k) => k.state === 'pending').map((k) => k.authorEmail);
            const who = r[1]! < 0.2 || owing.length === 0 ? pick([...HUMANS, ADMIN], r[0]!)! : pick(owing, r[0]!)!;
            await cmd('verify', who, 'verify', `verify:${seed}:${i}`);
          },
        }),
      ],
      // Deploy: a double click (two keys) or a Slack retry (one key twice), at the same time.
      [
        5,
        (i, r) => ({
          calls: 2,
          run: async () => {
            const who = await driver(r[0]!);
            const same = r[1]! < 0.3;
            await Promise.all([cmd('deploy', who, 'deploy', `deploy:${seed}:${i}:a`), cmd('deploy', who, 'deploy', same ? `deploy:${seed}:${i}:a` : `deploy:${seed}:${i}:b`)]);
          },
        }),
      ],
      // Derail, sometimes replayed with its key (a second derail would hit the auto-started train).
      [
        1,
        (i, r) => ({
          calls: r[1]! < 0.4 ? 2 : 1,
          run: async () => {
            const who = await driver(r[0]!);
            const key = `derail:${seed}:${i}`;
            await Promise.all([cmd('derail', who, `derail race ${i}`, key), ...(r[1]! < 0.4 ? [cmd('derail', who, `derail race ${i}`, key)] : [])]);
          },
        }),
      ],
      [2, (i, r) => ({ calls: 1, run: async () => cmd('extend', await driver(r[0]!), 'extend', `extend:${seed}:${i}`) })],
      // Block, sometimes replayed with its key (a second block would be applied again),
      // and half the time lifted again by the same person a moment later.
      [
        1.5,
        (i, r) => ({
          calls: (r[1]! < 0.4 ? 2 : 1) + (r[2]! < 0.5 ? 1 : 0),
          run: async () => {
            const who = await driver(r[0]!);
            const key = `block:${seed}:${i}`;
            await Promise.all([cmd('block', who, `block waiting ${i}`, key), ...(r[1]! < 0.4 ? [cmd('block', who, `block waiting ${i}`, key)] : [])]);
            if (r[2]! < 0.5) await sleep(r[3]! * 100).then(() => cmd('unblock', who, 'unblock', `unblock:${seed}:${i}:after`));
          },
        }),
      ],
      [2, (i, r) => ({ calls: 1, run: async () => cmd('unblock', await driver(r[0]!), 'unblock', r[1]! < 0.5 ? `unblock:${seed}:${i}` : null) })],
      [
        2,
        (i, r) => ({
          calls: 1,
          run: () => (r[0]! < 0.6 ? cmd('engineer', pick(HUMANS, r[1]!)!, 'engineer me', `engineer:${seed}:${i}`) : cmd('engineer', ADMIN, `engineer ${pick(HUMANS, r[1]!)!}`, null)),
        }),
      ],
      // A runner reports a job started.
      [
        2,
        (_i, r) => ({
          calls: 1,
          run: async () => {
            const jobs = await h.db.prisma.job.findMany({ where: { state: 'queued', train: { line: { name: LINE } } }, orderBy: { id: 'asc' } });
            const j = pick(jobs, r[0]!);
            if (!j) return nothingToDo(1);
            await input('jobStarted', null, () => jobStarted(h.engine, j.id, `ext-${j.id}`, `https://ci.example.com/${j.id}`));
          },
        }),
      ],
      // A runner reports a result, sometimes twice at once (even contradicting itself), or late.
      [
        11,
        (_i, r) => ({
          calls: r[2]! < 0.4 ? 2 : 1,
          run: async () => {
            const kind = r[0]! < 0.55 ? 'build' : r[0]! < 0.9 ? 'deploy' : 'rollback';
            const open = await h.db.prisma.job.findMany({
              where: { kind, state: { in: ['queued', 'running'] }, train: { line: { name: LINE } } },
              orderBy: { id: 'asc' },
            });
            const late = open.length === 0 ? await h.db.prisma.job.findFirst({ where: { kind, train: { line: { name: LINE } } }, orderBy: { id: 'desc' } }) : null;
            const j = pick(open, r[1]!) ?? late;
            if (!j) return nothingToDo(r[2]! < 0.4 ? 2 : 1);
            const finish = (succeeded: boolean) =>
              input('jobFinished', `job:${j.id}:result`, () =>
                jobFinished(h.engine, { jobId: j.id, succeeded, output: succeeded ? 'ok' : 'boom', exitCode: succeeded ? 0 : 1, timedOut: false }),
              );
            const ok = r[3]! < 0.8;
            await Promise.all([finish(ok), ...(r[2]! < 0.4 ? [finish(r[4]! < 0.5 ? ok : !ok)] : [])]);
          },
        }),
      ],
      // Someone drives the going train to production, one step after another, racing everything else:
      // build result, each owed verification, unblock, deploy (double click), deploy result.
      [
        3,
        (i, r) => ({
          calls: 1, // at least: a tick when no train is going, else the deploy double click and more
          run: async () => {
            const t = await goingTrain();
            if (!t) return nothingToDo(1);
            const finish = async (kind: 'build' | 'deploy') => {
              const j = await h.db.prisma.job.findFirst({ where: { trainId: t.id, kind, state: { in: ['queued', 'running'] } } });
              if (j) await input('jobFinished', `job:${j.id}:result`, () => jobFinished(h.engine, { jobId: j.id, succeeded: true, output: 'ok', exitCode: 0, timedOut: false }));
            };
            await finish('build');
            const owing = await h.db.prisma.ticket.findMany({ where: { trainId: t.id, state: 'pending' } });
            await Promise.all(owing.map((k, n) => cmd('verify', k.authorEmail, 'verify', `drive-verify:${seed}:${i}:${n}`)));
            if ((await goingTrain())?.blockedReason) await cmd('unblock', ADMIN, 'unblock', null);
            const who = await driver(r[1]!);
            await Promise.all([cmd('deploy', who, 'deploy', `drive-deploy:${seed}:${i}:a`), cmd('deploy', who, 'deploy', `drive-deploy:${seed}:${i}:b`)]);
            await finish('deploy');
          },
        }),
      ],
      // The scheduler's tick, after time passes (job timeouts, reminders, rule 3).
      [
        3,
        (_i, r) => ({
          calls: 1,
          run: () => {
            h.advance(r[1]! < 0.15 ? 35 * 60_000 : Math.floor(r[0]! * 4 * 60_000)); // reminders are due after 30 min, builds time out after 10
            return input('tick', null, () => tick(h.engine, LINE));
          },
        }),
      ],
      [1.2, (i, r) => ({ calls: 1, run: () => cmd('mode', ADMIN, r[0]! < 0.3 ? 'mode manual' : 'mode schedule', `mode:${seed}:${i}`) })],
      // A freeze on today's date takes the line out of auto-time (so `start` is allowed).
      [
        0.6,
        (i, r) => ({
          calls: 1,
          run: () => cmd('freeze', ADMIN, `freeze ${r[0]! < 0.5 ? 'add' : 'remove'} ${h.now().toISOString().slice(0, 10)}`, `freeze:${seed}:${i}`),
        }),
      ],
      // Emergency reset; when applied, the branch is force-pushed back as the outbox would do.
      [
        0.4,
        (i, r) => ({
          calls: r[0]! < 0.3 ? 2 : 1,
          run: async () => {
            const key = `emergency:${seed}:${i}`;
            await Promise.all([cmd('emergency', ADMIN, `emergency race ${i}`, key), ...(r[0]! < 0.3 ? [cmd('emergency', ADMIN, `emergency race ${i}`, key)] : [])]);
            const reset = await h.db.prisma.outboxItem.findFirst({ where: { kind: 'git.reset' }, orderBy: { id: 'desc' } });
            if (reset) remote.resetTo((reset.payload as { targetSha: string }).targetSha);
          },
        }),
      ],
      [1.2, (i) => ({ calls: 1, run: () => cmd('retry', ADMIN, 'retry', `retry:${seed}:${i}`) })],
      // "Found a problem": an author reopens their verification (sometimes someone who cannot).
      [
        0.7,
        (i, r) => ({
          calls: 1,
          run: async () => {
            const t = await goingTrain();
            const done = (t?.tickets ?? []).filter((k) => k.state === 'verified').map((k) => k.authorEmail);
            const who = r[1]! < 0.2 || done.length === 0 ? pick(HUMANS, r[0]!)! : pick(done, r[0]!)!;
            await cmd('reopen', who, 'reopen found a bug', `reopen:${seed}:${i}`);
          },
        }),
      ],
      [
        0.7,
        (i, r) => ({
          calls: 1,
          run: async () => {
            const deployed = await h.db.prisma.train.findMany({ where: { line: { name: LINE }, state: 'deployed' }, select: { number: true } });
            const t = pick(deployed, r[0]!);
            if (!t) return nothingToDo(1);
            await cmd('rollback', ADMIN, `rollback ${t.number}`, `rollback:${seed}:${i}`);
          },
        }),
      ],
      [
        0.5,
        (i, r) => ({
          calls: 1,
          run: async () => {
            const mine = await h.db.prisma.commit.findMany({ where: { line: { name: LINE }, state: { not: 'removed' } }, select: { sha: true, authorEmail: true } });
            const c = pick(mine, r[0]!);
            if (!c) return nothingToDo(1);
            await cmd('revert', c.authorEmail === ROBOT ? ADMIN : c.authorEmail, `revert ${c.sha.slice(0, 10)}`, `revert:${seed}:${i}`);
          },
        }),
      ],
    ];
    const total = table.reduce((s, [w]) => s + w, 0);
    for (let i = 0; n < INPUTS_PER_ROUND; i++) {
      let x = rnd() * total;
      const entry = table.find(([w]) => (x -= w) < 0) ?? table[table.length - 1]!;
      const r = Array.from({ length: 6 }, rnd);
      const p = entry[1](i, r);
      const delay = Math.floor(rnd() < 0.4 ? rnd() * BURST_MS : rnd() * SPREAD_MS);
      out.push({ calls: p.calls, run: () => sleep(delay).then(p.run) });
      n += p.calls;
    }
    return out;
  }

  // ---------------------------------------------------------------- checks

  function summary(list: Outcome[]): string {
    const m = new Map<string, [number, number]>();
    for (const o of list) {
      const e = m.get(o.kind) ?? [0, 0];
      e[o.ok ? 0 : 1]++;
      m.set(o.kind, e);
    }
    return [...m].map(([k, [ok, no]]) => `${k} ${ok}/${ok + no}`).join(', ');
  }

  function applied(): Applied {
    const byKind = new Map<string, number>();
    const seen = new Set<string>();
    let commitsRecorded = 0;
    let pushesWithCommits = 0;
    for (const o of outcomes) {
      if (!o.ok) continue;
      if (o.key) {
        if (seen.has(o.key)) continue;
        seen.add(o.key);
      }
      byKind.set(o.kind, (byKind.get(o.kind) ?? 0) + 1);
      if (o.kind === 'push') {
        const m = /^Recorded (\d+) new commit/.exec(o.text);
        if (!m) throw new Error(`unexpected push reply: ${o.text}`);
        commitsRecorded += Number(m[1]);
        if (Number(m[1]) > 0) pushesWithCommits++;
      }
    }
    return { byKind, commitsRecorded, pushesWithCommits, starts: byKind.get('start') ?? 0, ticks: byKind.get('tick') ?? 0 };
  }

  /** Every key was applied once: one processed_input row, and every caller got the reply stored with it. */
  async function keyViolations(): Promise<string[]> {
    const bad: string[] = [];
    const rows = await h.db.prisma.processedInput.findMany();
    const stored = new Map(rows.map((r) => [r.key, r.reply as { ok: boolean; text: string } | null]));
    const byKey = new Map<string, Outcome[]>();
    for (const o of outcomes) if (o.key) byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
    for (const [key, list] of byKey) {
      const s = stored.get(key);
      if (!s) {
        bad.push(`key ${key} has no processed_input row`);
        continue;
      }
      for (const o of list) if (o.ok !== s.ok || o.text !== s.text) bad.push(`key ${key}: a caller got ${JSON.stringify([o.ok, o.text])}, stored ${JSON.stringify([s.ok, s.text])}`);
    }
    for (const key of stored.keys()) if (!byKey.has(key)) bad.push(`processed_input has a key no input used: ${key}`);
    return bad;
  }

  async function allViolations(db: Queryable): Promise<string[]> {
    const s = await snapshot(db, LINE);
    return [...stateViolations(s, [ROBOT]), ...auditViolations(s, applied(), [ADMIN])];
  }

  /** Samples committed state while a round runs: never two going trains, never two deploying. */
  function startSampler(): () => Promise<void> {
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        const { rows } = await h.db.pool.query<{ going: number; deploying: number }>(
          `SELECT count(*) FILTER (WHERE state IN ('delivering', 'verifying'))::int AS going,
                  count(*) FILTER (WHERE state = 'deploying')::int AS deploying
           FROM train WHERE line_id = (SELECT id FROM line WHERE name = $1)`,
          [LINE],
        );
        const r = rows[0]!;
        if (r.going > 1 || r.deploying > 1) sampled.push(`sampled ${r.going} going and ${r.deploying} deploying trains`);
        await sleep(10);
      }
    })();
    return async () => {
      stop = true;
      await loop;
    };
  }

  // ---------------------------------------------------------------- rounds

  for (const seed of SEEDS) {
    it(`round seed=${seed}: ${INPUTS_PER_ROUND} concurrent inputs, then every invariant holds in the database`, async () => {
      const before = outcomes.length;
      const planned = plan(seed, seeded(seed));
      const stopSampler = startSampler();
      await Promise.all(planned.map((p) => p.run()));
      await stopSampler();
      await fetch(null); // what the next poll would do: the branch is fully recorded

      expect(errors).toEqual([]);
      expect(sampled).toEqual([]);
      if (process.env.RACE_DEBUG) console.info(seed, summary(outcomes.slice(before)));
      expect(outcomes.length - before, 'engine inputs fired').toBeGreaterThanOrEqual(INPUTS_PER_ROUND);

      expect(await allViolations(h.db.pool)).toEqual([]);
      expect(await keyViolations()).toEqual([]);
      const onBranch = remote.all().map((c) => c.sha);
      const recorded = await h.db.prisma.commit.count({ where: { line: { name: LINE }, sha: { in: onBranch } } });
      expect(recorded, 'every commit on the branch is recorded').toBe(onBranch.length);
    });
  }

  it('the rounds covered every kind of input, applied and refused, and the interesting outcomes', async () => {
    const fired = new Set(outcomes.map((o) => o.kind));
    for (const k of [...Object.keys(AUDIT_OF_INPUT), 'push', 'start', 'tick']) expect(fired, `a ${k} input`).toContain(k);
    // Rarely applicable ones (reopen, retry, rollback, revert, freeze, tick) need not have been applied.
    const applied = new Set(outcomes.filter((o) => o.ok).map((o) => o.kind));
    for (const k of ['push', 'start', 'verify', 'deploy', 'derail', 'extend', 'block', 'unblock', 'engineer', 'mode', 'emergency', 'jobFinished'])
      expect(applied, `an applied ${k}`).toContain(k);
    const refused = new Set(outcomes.filter((o) => !o.ok).map((o) => o.kind));
    for (const k of ['deploy', 'verify', 'push', 'jobFinished']) expect(refused, `a refused ${k}`).toContain(k);
    // Replayed keys really happened (otherwise "applied once" proves nothing).
    const keyed = new Map<string, number>();
    for (const o of outcomes) if (o.key) keyed.set(o.key, (keyed.get(o.key) ?? 0) + 1);
    expect([...keyed.values()].filter((n) => n > 1).length).toBeGreaterThanOrEqual(10);
    const trains = await h.db.prisma.train.groupBy({ by: ['state'], where: { line: { name: LINE } }, _count: true });
    const byState = Object.fromEntries(trains.map((t) => [t.state, t._count]));
    expect(byState.deployed ?? 0, 'trains deployed').toBeGreaterThanOrEqual(1);
    expect(byState.derailed ?? 0, 'trains derailed').toBeGreaterThanOrEqual(2);
    const extended = await h.db.prisma.train.count({ where: { line: { name: LINE }, replacesTrainId: { not: null } } });
    expect(extended, 'trains extended').toBeGreaterThanOrEqual(1);
    const removed = await h.db.prisma.commit.count({ where: { line: { name: LINE }, state: 'removed' } });
    expect(removed, 'commits removed by emergency resets').toBeGreaterThan(0);
    console.info(
      `races: ${outcomes.length} inputs (${outcomes.filter((o) => o.ok).length} applied), trains ${JSON.stringify(byState)}, ${extended} extended, ${removed} commits removed; ${summary(outcomes)}`,
    );
  });

  it('the checks can fail: corrupted tables (rolled back) are reported', async () => {
    const client = await h.db.pool.connect();
    const corrupt = async (sql: string): Promise<string[]> => {
      await client.query('BEGIN');
      try {
        await client.query(sql);
        return await allViolations(client);
      } finally {
        await client.query('ROLLBACK');
      }
    };
    try {
      const deployed = `(SELECT id FROM train WHERE state = 'deployed' ORDER BY number LIMIT 1)`;
      expect(await corrupt(`UPDATE commit SET state = 'platform', train_id = NULL WHERE id = (SELECT commit_id FROM train_commit WHERE train_id = ${deployed} LIMIT 1)`)).toEqual(
        expect.arrayContaining([expect.stringMatching(/is platform but rides non-derailed train/)]),
      );
      expect(await corrupt(`UPDATE train SET state = 'verifying' WHERE state = 'derailed'`)).toEqual(expect.arrayContaining([expect.stringMatching(/going trains/)]));
      expect(
        await corrupt(
          `INSERT INTO audit_entry (line_id, train_id, actor, action, details, created_at)
         SELECT line_id, id, 'x', 'train.deploy-started', '{}', now() FROM train WHERE id = ${deployed}`,
        ),
      ).toEqual(expect.arrayContaining([expect.stringMatching(/has 2 deploy-started audit entries/), expect.stringMatching(/applied deploy input\(s\) but \d+ train.deploy-started/)]));
      expect(await corrupt(`DELETE FROM audit_entry WHERE id = (SELECT min(id) FROM audit_entry WHERE action = 'ticket.verified')`)).toEqual([
        expect.stringMatching(/applied verify input\(s\) but \d+ ticket.verified audit entries/),
      ]);
      expect(await corrupt(`UPDATE ticket SET state = 'pending' WHERE train_id = ${deployed}`)).toEqual(
        expect.arrayContaining([expect.stringMatching(/deployed train #\d+: ticket of .* is pending/)]),
      );
      expect(
        await corrupt(
          `INSERT INTO train_commit (train_id, commit_id)
         SELECT (SELECT id FROM train WHERE state <> 'derailed' AND id <> ${deployed} ORDER BY number DESC LIMIT 1), commit_id FROM train_commit WHERE train_id = ${deployed}
         ON CONFLICT DO NOTHING`,
        ),
      ).toEqual(expect.arrayContaining([expect.stringMatching(/is on 2 non-derailed trains/)]));
      expect(await corrupt(`UPDATE line SET next_train_number = next_train_number + 1`)).toEqual([expect.stringMatching(/next_train_number is \d+ with \d+ trains/)]);
    } finally {
      client.release();
    }
    expect(await allViolations(h.db.pool)).toEqual([]);
  });

  it('lines run in parallel: an input on one line is not blocked by a transaction holding another line', async () => {
    const holder = new pg.Client({ connectionString: h.db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM line WHERE name = 'south' FOR UPDATE`);
      // An input on the held line waits for the lock...
      let southDone = false;
      const south = executeCommand(h.engine, { user: ADMIN, line: 'south', text: 'mode manual' }).finally(() => (southDone = true));
      for (let i = 0; ; i++) {
        const { rows } = await h.db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM line%FOR UPDATE%'`,
        );
        if (rows[0]!.n > 0) break;
        if (i > 200) throw new Error('the input on the held line never waited for its lock');
        await sleep(10);
      }
      // ...while one on another line goes through at once.
      const t0 = performance.now();
      const north = await Promise.race([
        executeCommand(h.engine, { user: ADMIN, line: 'north', text: 'mode manual' }),
        sleep(5_000).then(() => ({ ok: false, text: 'timed out behind the other line' })),
      ]);
      const ms = performance.now() - t0;
      expect(north).toEqual({ ok: true, text: 'The line is now in manual mode: trains start only by hand.' });
      expect(ms).toBeLessThan(2_000);
      await sleep(100);
      expect(southDone, 'the held line stays blocked until its lock is released').toBe(false);
      await holder.query('COMMIT');
      expect(await south).toEqual({ ok: true, text: 'The line is now in manual mode: trains start only by hand.' });
    } finally {
      await holder.end();
    }
  });
});
