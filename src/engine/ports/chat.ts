import type { LineState, Train } from '../../domain/index.js';

/**
 * What Conductor says to people. The local implementation writes to the log;
 * the Slack one posts, updates cards and opens DMs. Every call carries the
 * outbox item's idempotency key, stable across redeliveries.
 */
export interface Chat {
  announce(msg: { line: string; train: number | null; text: string; broadcast?: boolean; key: string }): Promise<void>;
  dm(msg: { line: string; to: string; train: number | null; text: string; askVerify: boolean; key: string }): Promise<void>;
  /** Post or refresh the train's card from the current state. */
  card(msg: { line: string; state: LineState; train: Train; key: string }): Promise<void>;
}
