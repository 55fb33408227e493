// Helpers for outbox tests: write items as the engine would, read them back.
import type { PrismaClient } from '../../src/generated/prisma/client.js';

export interface OutboxRow {
  id: bigint;
  idempotencyKey: string;
  attempts: number;
  nextAttemptAt: Date;
  leaseUntil: Date | null;
  doneAt: Date | null;
  lastError: string | null;
}

/** Inserts items `${prefix}:1` … `${prefix}:n` (in id order), due at `due`. */
export async function addItems(prisma: PrismaClient, prefix: string, n: number, due: Date, kind = 'test.effect'): Promise<string[]> {
  const keys = Array.from({ length: n }, (_, i) => `${prefix}:${i + 1}`);
  await prisma.outboxItem.createMany({
    data: keys.map((key, i) => ({ kind, payload: { n: i + 1, line: 'web' }, idempotencyKey: key, nextAttemptAt: due })),
  });
  return keys;
}

export async function item(prisma: PrismaClient, key: string): Promise<OutboxRow> {
  return prisma.outboxItem.findUniqueOrThrow({ where: { idempotencyKey: key } });
}

export async function undelivered(prisma: PrismaClient): Promise<number> {
  return prisma.outboxItem.count({ where: { doneAt: null } });
}

/** A promise and the function that settles it, for handlers a test holds open. */
export function gate(): { promise: Promise<void>; open: () => void; fail: (err: Error) => void } {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}
