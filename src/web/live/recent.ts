/**
 * The most recent change events this process received, in the order
 * PostgreSQL delivered them (commit order, the same in every process), so that
 * a browser reconnecting with `Last-Event-ID` is sent what it missed.
 */
import type { ChangeEvent } from '../../engine/notify.js';

export class RecentChanges {
  private readonly events: ChangeEvent[] = [];

  constructor(private readonly capacity = 1000) {}

  add(e: ChangeEvent): void {
    this.events.push(e);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
  }

  /**
   * The events after the one with id `lastId`, or null when this buffer does
   * not hold it (too old, from before this process started, or not an id):
   * the caller cannot tell what was missed.
   */
  after(lastId: string): ChangeEvent[] | null {
    if (!/^\d{1,18}$/.test(lastId)) return null;
    const id = Number(lastId);
    // By position, not by id: ids are taken before commit, so two transactions may commit out of id order.
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.id === id) return this.events.slice(i + 1);
    return null;
  }

  /** The newest event, whose id a "*" event carries so the next reconnect can resume from there. */
  newest(): ChangeEvent | undefined {
    return this.events.at(-1);
  }
}
