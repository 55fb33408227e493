import type { Ticket, Train } from '../../domain/index.js';

/**
 * Where verification tickets live. The built-in desk keeps them in Conductor's
 * database (nothing to do outside); the Jira desk mirrors them as issues.
 */
export interface TicketDesk {
  /** Make sure every ticket of the train exists outside; returns external keys/URLs to store. */
  open(msg: { line: string; train: Train; key: string }): Promise<{ authorEmail: string; externalKey: string; externalUrl: string | null }[]>;
  /** A ticket was verified (or reopened) in Conductor: mirror it outside. */
  setDone(externalKey: string, done: boolean): Promise<void>;
  /** Safety net: the outside state of these tickets (done or not). */
  states(keys: string[]): Promise<{ key: string; done: boolean }[]>;
}

export type { Ticket };
