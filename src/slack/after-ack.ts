/**
 * The work Slack requests need after their ack (directory lookups, the
 * engine's transaction, the answer through response_url), a few at a time.
 *
 * Why: an ack is cheap, but it waits for the event loop like everything
 * else. Under a burst of slash commands or clicks, a hundred post-ack
 * pipelines interleaving on the loop delay the acks of the requests that
 * arrive next (measured by `npm run bench -- slack-ack`: ack p99 3.9× a bare
 * Bolt app's at 100 concurrent requests). With a few running and the rest
 * waiting in order, an arriving request finds little ready work ahead of its
 * ack. The total work is the same; answers come back in arrival order. It
 * also keeps a burst from queueing on the database pool (whose wait for a
 * connection times out). The price: under a sustained burst, the answers on
 * response_url (valid 30 minutes) lag behind the acks. Measured with 4
 * running: ack p99 within 1.3× a bare Bolt app's at 1, 20 and 100 concurrent
 * requests (with 8: up to 2.9× at 20).
 */
export class AfterAck {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit = 8) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next in line (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Requests whose post-ack work is running or waiting. */
  get pending(): number {
    return this.running + this.waiting.length;
  }

  /** Resolves true once nothing runs or waits, false if that takes longer than timeoutMs. */
  async idle(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.pending > 0) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }
}
