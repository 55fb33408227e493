/**
 * Group commit per key (a line): at most one run in flight per key; items
 * submitted while it runs wait and then go into the next run together.
 *
 * Nothing is delayed on purpose: a lone item runs at once, and under load the
 * batches grow by themselves to what arrived during one transaction. That is
 * how one line keeps up with hundreds of push webhooks a second when each
 * transaction (lock, load, save, commit) costs milliseconds: the cost is paid
 * per batch, not per delivery. Each caller still waits for its own item's
 * committed answer, so an HTTP 200 means recorded.
 */
export class Coalescer<I, R> {
  private readonly queues = new Map<string, { waiting: Pending<I, R>[]; running: boolean }>();

  /**
   * `run` gets the items of one key in submission order and answers each,
   * in the same order; when it throws, every item of that run gets the error.
   */
  constructor(
    private readonly run: (key: string, items: I[]) => Promise<R[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let q = this.queues.get(key);
      if (!q) {
        q = { waiting: [], running: false };
        this.queues.set(key, q);
      }
      q.waiting.push({ item, resolve, reject });
      if (!q.running) void this.drain(key, q);
    });
  }

  /** Items waiting or running, all keys (for tests and metrics). */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.waiting.length;
    return n;
  }

  private async drain(key: string, q: { waiting: Pending<I, R>[]; running: boolean }): Promise<void> {
    q.running = true;
    try {
      while (q.waiting.length > 0) {
        const batch = q.waiting.splice(0, this.maxBatch);
        try {
          const answers = await this.run(
            key,
            batch.map((p) => p.item),
          );
          if (answers.length !== batch.length) throw new Error(`coalescer: ${answers.length} answers for ${batch.length} items`);
          batch.forEach((p, i) => p.resolve(answers[i]!));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      q.running = false;
      if (q.waiting.length === 0) this.queues.delete(key);
    }
  }
}

interface Pending<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}
