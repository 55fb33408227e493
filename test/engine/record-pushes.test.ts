// Push deliveries recorded together (recordPushes through Engine.runBatch) on
// real PostgreSQL: branch order restored, one decision per batch, idempotent
// per delivery key, and under a storm of concurrent out-of-order deliveries
// the recorded commits are always a prefix of the branch, each once.
import { afterEach, describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/engine/coalescer.js';
import type { Reply } from '../../src/engine/engine.js';
import { NOT_CONTIGUOUS, type PushInput, recordPushes } from '../../src/engine/inputs.js';
import { engineHarness, fakeSha, type Harness } from '../support/engine-harness.js';

/** A branch of `n` one-commit pushes: push i goes from commit i-1 (the root for i = 0) to commit i. */
function chain(line: string, n: number, tag = 'c'): { shas: string[]; pushes: PushInput[] } {
  const shas = Array.from({ length: n }, (_, i) => fakeSha(`${line}-${tag}-${i}`));
  const pushes = shas.map((sha, i) => ({
    sinceSha: i === 0 ? fakeSha(`${line}-root`) : shas[i - 1]!,
    found: { headSha: sha, rewritten: false, commits: [{ sha, authorName: 'Alice', authorEmail: 'Alice@Example.com', message: `change ${i}` }] },
    inputKey: `github:${line}-${tag}-${i}`,
  }));
  return { shas, pushes };
}

async function recorded(h: Harness, line: string): Promise<string[]> {
  const rows = await h.db.prisma.commit.findMany({ where: { line: { name: line } }, orderBy: { position: 'asc' }, select: { sha: true } });
  return rows.map((r) => r.sha);
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('recordPushes', () => {
  it('puts overtaken deliveries back in branch order, refuses one that does not join, and decides once', async () => {
    h = await engineHarness({ lines: [{ name: 'web', mode: 'manual' }] });
    const { shas, pushes } = chain('web', 4);
    const stray = chain('web', 1, 'elsewhere').pushes[0]!;
    stray.sinceSha = fakeSha('not-the-head');
    const replies = await recordPushes(h.engine, 'web', [pushes[2]!, pushes[0]!, stray, pushes[3]!, pushes[1]!]);
    expect(replies.map((r) => r.ok)).toEqual([true, true, false, true, true]);
    expect(replies[2]!.text).toBe(NOT_CONTIGUOUS);
    expect(replies[0]!.text).toBe('Recorded 1 new commit.');
    expect(await recorded(h, 'web')).toEqual(shas);
    const line = await h.db.prisma.line.findUniqueOrThrow({ where: { name: 'web' } });
    expect(line.knownHeadSha).toBe(shas[3]);
    expect(Number(line.commitSeq)).toBe(4);
    // One decision: one announcement for the four commits, one audit entry.
    const announcements = (await h.outbox('chat.announce')).map((e) => e.text as string);
    expect(announcements).toHaveLength(1);
    expect(announcements[0]).toContain('4 new commits on the platform (4 waiting)');
    expect(await h.db.prisma.auditEntry.count({ where: { action: 'commits.arrived' } })).toBe(1);
    // Emails are stored lower-cased, as recordCommits does.
    expect((await h.db.prisma.commit.findFirstOrThrow({ where: { sha: shas[0] } })).authorEmail).toBe('alice@example.com');
  });

  it('answers a redelivery what the first delivery got, within a batch and across batches, and changes nothing', async () => {
    h = await engineHarness({ lines: [{ name: 'web', mode: 'manual' }] });
    const { shas, pushes } = chain('web', 3);
    const first = await recordPushes(h.engine, 'web', [pushes[0]!, pushes[0]!, pushes[1]!]);
    expect(first.map((r) => r.text)).toEqual(['Recorded 1 new commit.', 'Recorded 1 new commit.', 'Recorded 1 new commit.']);
    const outboxBefore = await h.db.prisma.outboxItem.count();
    const again = await recordPushes(h.engine, 'web', [pushes[1]!, pushes[0]!]);
    expect(again.map((r) => r.text)).toEqual(['Recorded 1 new commit.', 'Recorded 1 new commit.']);
    expect(await h.db.prisma.outboxItem.count()).toBe(outboxBefore);
    // A refused delivery stays refused when it comes again, even once it would join.
    const refused = await recordPushes(h.engine, 'web', [{ ...pushes[2]!, sinceSha: fakeSha('elsewhere') }]);
    expect(refused[0]!.text).toBe(NOT_CONTIGUOUS);
    const retried = await recordPushes(h.engine, 'web', [pushes[2]!]);
    expect(retried[0]).toEqual({ ok: false, text: NOT_CONTIGUOUS });
    expect(await recorded(h, 'web')).toEqual(shas.slice(0, 2));
    const keys = await h.db.prisma.processedInput.findMany({ where: { key: { startsWith: 'github:web-c-' } }, orderBy: { key: 'asc' } });
    expect(keys.map((k) => [k.key, (k.reply as unknown as Reply).ok])).toEqual([
      ['github:web-c-0', true],
      ['github:web-c-1', true],
      ['github:web-c-2', false],
    ]);
  });

  it('a delivery of commits a fetch already recorded moves nothing and says so', async () => {
    h = await engineHarness({ lines: [{ name: 'web', mode: 'manual' }] });
    const { pushes } = chain('web', 2);
    await recordPushes(h.engine, 'web', [pushes[0]!, pushes[1]!]);
    const replay = { ...pushes[1]!, inputKey: 'github:another-delivery' };
    const [r] = await recordPushes(h.engine, 'web', [replay]);
    expect(r).toEqual({ ok: false, text: NOT_CONTIGUOUS });
  });

  it('on a schedule-mode line, the commits of one batch start one train together', async () => {
    h = await engineHarness({ lines: [{ name: 'web' }] });
    const { shas, pushes } = chain('web', 3);
    await recordPushes(h.engine, 'web', pushes);
    const status = await h.status('web');
    expect(status.train?.number).toBe(1);
    expect(status.train?.commits.map((c) => c.sha)).toEqual(shas);
    expect(status.platform).toEqual([]);
    // The next batch waits on the platform for the next train.
    const more = chain('web', 2, 'd');
    more.pushes[0]!.sinceSha = shas[2]!;
    await recordPushes(h.engine, 'web', more.pushes);
    const after = await h.status('web');
    expect(after.train?.number).toBe(1);
    expect(after.platform.map((c) => c.sha)).toEqual(more.shas);
  });

  it('a storm of concurrent out-of-order deliveries records a prefix of the branch, each commit once, in order', async () => {
    h = await engineHarness({
      lines: [
        { name: 'web', mode: 'manual' },
        { name: 'api', mode: 'manual' },
      ],
    });
    const engine = h.engine;
    const pushes = new Coalescer<PushInput, Reply>((line, batch) => recordPushes(engine, line, batch));
    for (const line of ['web', 'api']) {
      const { shas, pushes: list } = chain(line, 120);
      // Mostly in order with local overtaking (as concurrent HTTP deliveries arrive), plus redeliveries.
      const order = list
        .map((p, i) => ({ p, at: i + Math.random() * 6 }))
        .sort((a, b) => a.at - b.at)
        .map((x) => x.p);
      order.push(...list.slice(0, 10));
      const replies = await Promise.all(
        order.map(async (p, i) => {
          if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
          return pushes.submit(line, p);
        }),
      );
      const got = await recorded(h, line);
      expect(new Set(got).size).toBe(got.length);
      expect(got).toEqual(shas.slice(0, got.length));
      // Each delivery was either recorded or refused as not joining (its caller then fetches).
      for (const r of replies) expect(r.ok || r.text === NOT_CONTIGUOUS).toBe(true);
      const okKeys = new Set(order.filter((_, i) => replies[i]!.ok).map((p) => p.inputKey));
      expect(got.length).toBe(okKeys.size);
      const head = await h.db.prisma.line.findUniqueOrThrow({ where: { name: line } });
      expect(head.knownHeadSha).toBe(got.length ? got[got.length - 1] : fakeSha(`${line}-root`));
    }
  });
});
