// The outbox worker (src/engine/outbox.ts) against a real PostgreSQL database:
// order, retries with backoff, RetryLaterError, PermanentEffectError, two
// workers sharing one outbox, and leases that run out.
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OutboxItem, type OutboxOptions, OutboxWorker, PermanentEffectError, RetryLaterError } from '../../src/engine/outbox.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { addItems, gate, item, undelivered } from '../support/outbox-items.js';

const T0 = new Date('2026-11-23T10:00:00.000Z');
const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outbox worker on real PostgreSQL', () => {
  let db: TestDatabase;
  let now: Date;
  const clock = () => now;
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };
  const worker = (handle: OutboxOptions['handle'], opts: Partial<OutboxOptions> = {}) => new OutboxWorker({ pool: db.pool, handle, log, clock, ...opts });

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    now = T0;
    await db.prisma.outboxItem.deleteMany();
  });

  it('delivers items in id order, batch after batch, with their keys, and marks each done once', async () => {
    const keys = await addItems(db.prisma, 'order', 7, T0);
    const seen: OutboxItem[] = [];
    const w = worker(async (i) => void seen.push(i), { batchSize: 3 });
    const claimed: number[] = [];
    for (let n = await w.drainOnce(); n > 0; n = await w.drainOnce()) claimed.push(n);

    expect(claimed).toEqual([3, 3, 1]);
    expect(seen.map((i) => i.idempotencyKey)).toEqual(keys);
    expect(seen.map((i) => i.id)).toEqual([...seen.map((i) => i.id)].sort((a, b) => (a < b ? -1 : 1)));
    expect(seen.map((i) => i.payload.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seen.every((i) => i.attempts === 1)).toBe(true);
    for (const key of keys) expect(await item(db.prisma, key)).toMatchObject({ attempts: 1, doneAt: T0, leaseUntil: null, lastError: null });
    advance(24 * 3600_000);
    expect(await w.drainOnce()).toBe(0); // done items are never delivered again
  });

  it('a running worker delivers what is written after wake(), and stop() waits for the batch in hand', async () => {
    const seen: string[] = [];
    const began = gate();
    const w = new OutboxWorker({
      pool: db.pool,
      log,
      clock: () => new Date(),
      pollMs: 60_000, // only wake() can start a delivery within this test
      handle: async (i) => {
        began.open();
        await sleep(50);
        seen.push(i.idempotencyKey);
      },
    });
    w.start();
    await sleep(100); // the first (empty) drain
    const keys = await addItems(db.prisma, 'wake', 3, new Date(Date.now() - 1_000));
    w.wake();
    await began.promise;
    await w.stop(); // mid-batch: returns once the claimed items are delivered and marked
    expect(seen).toEqual(keys);
    expect(await undelivered(db.prisma)).toBe(0);
    expect(await db.prisma.outboxItem.count({ where: { leaseUntil: { not: null } } })).toBe(0);
  });

  it('retries a failing handler with exponential backoff (capped), counting attempts, and does not hold up the next item', async () => {
    const [bad, good] = await addItems(db.prisma, 'backoff', 2, T0);
    let failures = 4;
    const seen: string[] = [];
    const w = worker(
      async (i) => {
        seen.push(i.idempotencyKey);
        if (i.idempotencyKey === bad && failures-- > 0) throw new Error(`jenkins said 503 (attempt ${i.attempts})`);
      },
      { maxBackoffMs: 3_000 },
    );

    expect(await w.drainOnce()).toBe(2);
    expect(seen).toEqual([bad, good]);
    expect(await item(db.prisma, good!)).toMatchObject({ doneAt: T0, attempts: 1 });

    // 1 s, 2 s, then the 3 s cap (4 s uncapped), each with ±25 % jitter.
    const expected: [number, number][] = [
      [750, 1_250],
      [1_500, 2_500],
      [2_250, 3_750],
      [2_250, 3_750],
    ];
    for (const [attempt, [lo, hi]] of expected.entries()) {
      const row = await item(db.prisma, bad!);
      expect(row).toMatchObject({ attempts: attempt + 1, doneAt: null, leaseUntil: null, lastError: `jenkins said 503 (attempt ${attempt + 1})` });
      const delay = row.nextAttemptAt.getTime() - now.getTime();
      expect(delay).toBeGreaterThanOrEqual(lo);
      expect(delay).toBeLessThanOrEqual(hi);
      advance(delay - 1);
      expect(await w.drainOnce(), 'not due before its next attempt').toBe(0);
      advance(1);
      expect(await w.drainOnce()).toBe(1);
    }
    expect(await item(db.prisma, bad!)).toMatchObject({ attempts: 5, doneAt: now, lastError: null, leaseUntil: null });
    expect(seen.filter((k) => k === bad)).toHaveLength(5);
    expect(seen.filter((k) => k === good)).toHaveLength(1);
  });

  it('honours RetryLaterError: the next attempt is exactly the delay asked for (Slack Retry-After)', async () => {
    const [key] = await addItems(db.prisma, 'later', 1, T0);
    let first = true;
    const w = worker(async () => {
      if (first) {
        first = false;
        throw new RetryLaterError('slack 429', 42_000);
      }
    });
    expect(await w.drainOnce()).toBe(1);
    const row = await item(db.prisma, key!);
    expect(row).toMatchObject({ attempts: 1, doneAt: null, leaseUntil: null, lastError: 'slack 429' });
    expect(row.nextAttemptAt).toEqual(new Date(T0.getTime() + 42_000));
    advance(41_999);
    expect(await w.drainOnce()).toBe(0);
    advance(1);
    expect(await w.drainOnce()).toBe(1);
    expect(await item(db.prisma, key!)).toMatchObject({ attempts: 2, doneAt: now, lastError: null });
  });

  it('closes an item whose handler throws PermanentEffectError, with "gave up: …", and never tries it again', async () => {
    const [key] = await addItems(db.prisma, 'permanent', 1, T0);
    let calls = 0;
    const w = worker(async () => {
      calls++;
      throw new PermanentEffectError('unknown line in outbox item');
    });
    expect(await w.drainOnce()).toBe(1);
    expect(await item(db.prisma, key!)).toMatchObject({ attempts: 1, doneAt: T0, leaseUntil: null, lastError: 'gave up: unknown line in outbox item' });
    advance(7 * 24 * 3600_000);
    expect(await w.drainOnce()).toBe(0);
    expect(calls).toBe(1);
    expect(await w.pending()).toEqual({ count: 0, oldestError: null });
  });

  it('two workers on one database (two connection pools, as two processes) never deliver an item twice, nor at the same time', async () => {
    const keys = await addItems(db.prisma, 'shared', 120, new Date(Date.now() - 1_000));
    const other: Database = openDatabase(db.url, { poolSize: 4 });
    const deliveries = new Map<string, string[]>();
    const inFlight = new Set<string>();
    const overlaps: string[] = [];
    const handler = (name: string) => async (i: OutboxItem) => {
      if (inFlight.has(i.idempotencyKey)) overlaps.push(i.idempotencyKey);
      inFlight.add(i.idempotencyKey);
      deliveries.set(i.idempotencyKey, [...(deliveries.get(i.idempotencyKey) ?? []), name]);
      await sleep(Math.random() * 4);
      inFlight.delete(i.idempotencyKey);
    };
    const realClock = () => new Date();
    const a = new OutboxWorker({ pool: db.pool, log, clock: realClock, batchSize: 4, pollMs: 10, handle: handler('a') });
    const b = new OutboxWorker({ pool: other.pool, log, clock: realClock, batchSize: 4, pollMs: 10, handle: handler('b') });
    try {
      a.start();
      b.start();
      for (let i = 0; (await undelivered(db.prisma)) > 0; i++) {
        if (i > 1_000) throw new Error('the workers did not drain the outbox');
        await sleep(10);
      }
      await Promise.all([a.stop(), b.stop()]);
    } finally {
      await other.close();
    }
    expect(overlaps).toEqual([]);
    expect([...deliveries.keys()].sort()).toEqual([...keys].sort());
    const twice = [...deliveries].filter(([, by]) => by.length !== 1);
    expect(twice).toEqual([]);
    const byWorker = [...deliveries.values()].flat();
    expect(byWorker.filter((w) => w === 'a').length, 'worker a shared the work').toBeGreaterThan(0);
    expect(byWorker.filter((w) => w === 'b').length, 'worker b shared the work').toBeGreaterThan(0);
    const rows = await db.prisma.outboxItem.findMany();
    expect(rows.every((r) => r.attempts === 1 && r.doneAt !== null)).toBe(true);
  });

  it('a lease that runs out (crashed worker) is claimed again, with the same idempotency key', async () => {
    const [key, next] = await addItems(db.prisma, 'lease', 2, T0);
    const stuck = gate();
    const crashed: OutboxItem[] = [];
    const a = worker(
      async (i) => {
        crashed.push(i);
        await stuck.promise; // the process "dies" here: it never marks the item
      },
      { leaseMs: 1_000, batchSize: 1 },
    );
    const hung = a.drainOnce();
    while (crashed.length === 0) await sleep(5);
    expect(await item(db.prisma, key!)).toMatchObject({ attempts: 1, doneAt: null, leaseUntil: new Date(T0.getTime() + 1_000) });

    const again: OutboxItem[] = [];
    const b = worker(async (i) => void again.push(i), { leaseMs: 1_000 });
    advance(999);
    expect(await b.drainOnce()).toBe(1); // only the unleased item
    expect(again.map((i) => i.idempotencyKey)).toEqual([next]);
    advance(2); // the lease has run out
    expect(await b.drainOnce()).toBe(1);
    expect(again.map((i) => i.idempotencyKey)).toEqual([next, key]);
    expect(again[1]).toMatchObject({ id: crashed[0]!.id, idempotencyKey: crashed[0]!.idempotencyKey, attempts: 2 });
    expect(await item(db.prisma, key!)).toMatchObject({ attempts: 2, doneAt: now, leaseUntil: null });

    stuck.open(); // the stale worker wakes up late: nothing is delivered again
    expect(await hung).toBe(1);
    advance(3_600_000);
    expect(await b.drainOnce()).toBe(0);
  });

  it('a worker that lost its lease does not mark the item done while the worker that took it over still delivers it', async () => {
    const [key] = await addItems(db.prisma, 'lost', 1, T0);
    const aGate = gate();
    const bGate = gate();
    const calls: string[] = [];
    const handler = (name: string, wait: Promise<void>) => async () => {
      calls.push(name);
      await wait;
    };
    // A is slower than its lease: B claims the item and is still delivering it when A succeeds.
    const a = worker(handler('a', aGate.promise), { leaseMs: 1_000 });
    const b = worker(handler('b', bGate.promise), { leaseMs: 1_000 });
    const aRun = a.drainOnce();
    while (calls.length < 1) await sleep(5);
    advance(1_001);
    const bRun = b.drainOnce();
    while (calls.length < 2) await sleep(5);

    aGate.open();
    expect(await aRun).toBe(1);

    expect(await item(db.prisma, key!), "the claim is B's: A may not close it").toMatchObject({ attempts: 2, doneAt: null, leaseUntil: new Date(T0.getTime() + 2_001) });
    bGate.open();
    expect(await bRun).toBe(1);
    expect(await item(db.prisma, key!)).toMatchObject({ attempts: 2, doneAt: now, leaseUntil: null });
  });

  it('a stale worker whose lease ran out does not release the lease of the worker that took the item over', async () => {
    const [key] = await addItems(db.prisma, 'stale', 1, T0);
    const aGate = gate();
    const bGate = gate();
    const calls: string[] = [];
    const handler = (name: string, wait: Promise<void>) => async () => {
      calls.push(name);
      await wait;
    };
    // A is slower than its lease, so B takes the item over (a redelivery with the same key, by design);
    // then A fails (a timeout, a 429) while B is still delivering.
    const a = worker(handler('a', aGate.promise), { leaseMs: 1_000 });
    const b = worker(handler('b', bGate.promise), { leaseMs: 1_000 });
    const c = worker(handler('c', Promise.resolve()), { leaseMs: 1_000 });
    const aRun = a.drainOnce();
    while (calls.length < 1) await sleep(5);
    advance(1_001);
    const bRun = b.drainOnce();
    while (calls.length < 2) await sleep(5);
    aGate.fail(new RetryLaterError('slack 429', 0));
    expect(await aRun).toBe(1);

    advance(500); // B's lease (until T0 + 2001 ms) still holds
    expect(await c.drainOnce(), 'nobody may claim an item another worker is delivering').toBe(0);
    bGate.open();
    expect(await bRun).toBe(1);
    expect(calls).toEqual(['a', 'b']);
    expect(await item(db.prisma, key!)).toMatchObject({ attempts: 2, doneAt: now, leaseUntil: null });
    advance(3_600_000);
    expect(await c.drainOnce()).toBe(0);
  });
});
