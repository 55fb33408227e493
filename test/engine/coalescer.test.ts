import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/engine/coalescer.js';

/** A run we finish by hand: records each batch and waits until the test releases it. */
function gatedRun() {
  const batches: { key: string; items: number[]; release: (answers?: string[]) => void; fail: (err: Error) => void }[] = [];
  const run = (key: string, items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push({ key, items, release: (a) => resolve(a ?? items.map((i) => `${key}:${i}`)), fail: reject });
    });
  return { batches, run };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Coalescer (group commit per key)', () => {
  it('runs a lone item at once, and puts what arrives meanwhile into the next run, in order', async () => {
    const g = gatedRun();
    const c = new Coalescer<number, string>(g.run);
    const first = c.submit('web', 1);
    await tick();
    expect(g.batches.map((b) => b.items)).toEqual([[1]]);
    const later = [2, 3, 4].map((i) => c.submit('web', i));
    await tick();
    expect(g.batches).toHaveLength(1); // one run in flight per key
    g.batches[0]!.release();
    expect(await first).toBe('web:1');
    await tick();
    expect(g.batches.map((b) => b.items)).toEqual([[1], [2, 3, 4]]);
    g.batches[1]!.release();
    expect(await Promise.all(later)).toEqual(['web:2', 'web:3', 'web:4']);
    expect(c.pending).toBe(0);
  });

  it('keeps keys apart: another line does not wait for this one', async () => {
    const g = gatedRun();
    const c = new Coalescer<number, string>(g.run);
    const a = c.submit('web', 1);
    const b = c.submit('api', 2);
    await tick();
    expect(g.batches.map((x) => [x.key, x.items])).toEqual([
      ['web', [1]],
      ['api', [2]],
    ]);
    g.batches[1]!.release();
    expect(await b).toBe('api:2');
    g.batches[0]!.release();
    expect(await a).toBe('web:1');
  });

  it('gives every item of a failed run the error, and goes on with the next run', async () => {
    const g = gatedRun();
    const c = new Coalescer<number, string>(g.run);
    const first = c.submit('web', 1);
    await tick();
    const second = c.submit('web', 2);
    g.batches[0]!.fail(new Error('database down'));
    await expect(first).rejects.toThrow('database down');
    await tick();
    g.batches[1]!.release();
    expect(await second).toBe('web:2');
  });

  it('refuses a run that answers the wrong number of items (every item gets the error)', async () => {
    const g = gatedRun();
    const c = new Coalescer<number, string>(g.run);
    const first = c.submit('web', 1);
    await tick();
    g.batches[0]!.release([]);
    await expect(first).rejects.toThrow('0 answers for 1 items');
  });

  it('caps a run at maxBatch items', async () => {
    const g = gatedRun();
    const c = new Coalescer<number, string>(g.run, 2);
    const all = [1, 2, 3, 4, 5].map((i) => c.submit('web', i));
    await tick();
    g.batches[0]!.release();
    await tick();
    await tick();
    expect(g.batches.map((b) => b.items)).toEqual([[1], [2, 3]]);
    g.batches[1]!.release();
    await tick();
    await tick();
    g.batches[2]!.release();
    expect(await Promise.all(all)).toEqual(['web:1', 'web:2', 'web:3', 'web:4', 'web:5']);
    expect(g.batches.map((b) => b.items)).toEqual([[1], [2, 3], [4, 5]]);
  });
});
