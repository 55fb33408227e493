// behaviour.md §6: "a killed process loses nothing". A real child process runs an
// outbox worker whose receiver records every delivery in a sink file; it is
// SIGKILLed between a delivery and marking that delivery done. A second
// worker then drains the outbox. Nothing is lost, everything ends done, and
// the one delivery repeated after the crash carries the SAME idempotency key,
// so a receiver that dedupes by key sees each effect exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxWorker } from '../../src/engine/outbox.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { addItems, undelivered } from '../support/outbox-items.js';
import { dedupe, readSink, sinkHandler } from '../support/outbox-sink.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CHILD = path.join(ROOT, 'test/support/outbox-child.ts');
const ITEMS = 8;
const CHILD_LEASE_MS = 1_000;
const KILL_AFTER_DELIVERIES = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outbox: a worker process killed mid-delivery loses nothing', () => {
  let db: TestDatabase;
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conductor-outbox-crash-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL between delivery and done: every item is delivered, done, and repeated only under its own key', async () => {
    const sink = path.join(dir, 'sink.jsonl');
    const keys = await addItems(db.prisma, 'crash', ITEMS, new Date(Date.now() - 1_000));

    // 1. The child delivers, slowly (300 ms per item after recording it).
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, db.url, sink, String(CHILD_LEASE_MS), '300'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => proc.on('exit', (code, signal) => resolve(signal ?? code)));

    // 2. Kill it right after its third delivery was recorded, inside the 300 ms before it would mark it done.
    const deadline = Date.now() + 20_000;
    while (readSink(sink).length < KILL_AFTER_DELIVERIES) {
      if (proc.exitCode !== null) throw new Error(`the child exited early (${proc.exitCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`the child delivered nothing in time: ${stderr}`);
      await sleep(5);
    }
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const beforeKill = readSink(sink);
    expect(beforeKill.every((l) => l.pid === proc.pid)).toBe(true);

    // The kill landed between delivery and done: some delivered item is not marked done.
    const rows = await db.prisma.outboxItem.findMany({ orderBy: { id: 'asc' } });
    const delivered = new Set(beforeKill.map((l) => l.key));
    const inFlight = rows.filter((r) => delivered.has(r.idempotencyKey) && r.doneAt === null).map((r) => r.idempotencyKey);
    expect(inFlight.length, 'a delivered item was left not done by the kill').toBeGreaterThanOrEqual(1);
    for (const key of inFlight) expect(rows.find((r) => r.idempotencyKey === key)!.leaseUntil).not.toBeNull();
    const doneBeforeKill = new Set(rows.filter((r) => r.doneAt !== null).map((r) => r.idempotencyKey));

    // 3. Another worker (this process) takes over once the dead worker's leases run out.
    const survivor = new OutboxWorker({
      pool: db.pool,
      log: pino({ level: 'silent' }),
      clock: () => new Date(),
      leaseMs: 1_000,
      batchSize: 5,
      handle: sinkHandler(sink, 0),
    });
    const until = Date.now() + 15_000;
    while ((await undelivered(db.prisma)) > 0) {
      if (Date.now() > until) throw new Error('the surviving worker did not drain the outbox');
      if ((await survivor.drainOnce()) === 0) await sleep(100);
    }

    // Nothing lost, everything done.
    const after = await db.prisma.outboxItem.findMany({ orderBy: { id: 'asc' } });
    expect(after.map((r) => r.idempotencyKey)).toEqual(keys);
    expect(after.every((r) => r.doneAt !== null && r.leaseUntil === null && r.lastError === null)).toBe(true);

    const lines = readSink(sink);
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l.key, (counts.get(l.key) ?? 0) + 1);
    // Every item reached the receiver at least once...
    expect([...counts.keys()].sort()).toEqual([...keys].sort());
    // ...deduplicated by key, exactly once each...
    expect([...dedupe(lines).keys()].sort()).toEqual([...keys].sort());
    // ...and the only repeats are the deliveries the kill interrupted, redelivered by the survivor under the SAME key.
    const repeated = [...counts]
      .filter(([, n]) => n > 1)
      .map(([k]) => k)
      .sort();
    expect(repeated).toEqual([...inFlight].sort());
    for (const key of inFlight) {
      const mine = lines.filter((l) => l.key === key);
      expect(mine.map((l) => l.pid)).toEqual([proc.pid, process.pid]);
      expect(new Set(mine.map((l) => l.id)).size, 'the same outbox item').toBe(1);
      expect(mine[1]!.attempts).toBeGreaterThan(mine[0]!.attempts);
    }
    // Items the child had marked done were never delivered again.
    for (const key of doneBeforeKill) expect(counts.get(key)).toBe(1);
    expect(lines.length).toBe(ITEMS + inFlight.length);
  });
});
