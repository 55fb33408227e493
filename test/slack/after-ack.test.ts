import { describe, expect, it } from 'vitest';
import { AfterAck } from '../../src/slack/after-ack.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('AfterAck (post-ack work, a few at a time)', () => {
  it('runs at most `limit` at once, the rest in arrival order, and hands each its own result or error', async () => {
    const q = new AfterAck(2);
    const started: number[] = [];
    const gates = new Map<number, () => void>();
    const job = (n: number) =>
      q.run(async () => {
        started.push(n);
        await new Promise<void>((r) => gates.set(n, r));
        if (n === 3) throw new Error('three failed');
        return n * 10;
      });
    const all = [1, 2, 3, 4, 5].map((n) => job(n).catch((e: Error) => e.message));
    await tick();
    expect(started).toEqual([1, 2]);
    expect(q.pending).toBe(5);
    gates.get(2)!();
    await tick();
    expect(started).toEqual([1, 2, 3]);
    gates.get(3)!();
    gates.get(1)!();
    await tick();
    await tick();
    expect(started).toEqual([1, 2, 3, 4, 5]);
    gates.get(4)!();
    gates.get(5)!();
    expect(await Promise.all(all)).toEqual([10, 20, 'three failed', 40, 50]);
    expect(q.pending).toBe(0);
  });

  it('idle() waits for the work in hand, or says it gave up', async () => {
    const q = new AfterAck(1);
    let release!: () => void;
    const running = q.run(() => new Promise<void>((r) => (release = r)));
    expect(await q.idle(30)).toBe(false);
    setTimeout(() => release(), 20);
    expect(await q.idle(2_000)).toBe(true);
    await running;
  });
});
