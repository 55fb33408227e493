import type { JobKind } from './model.js';

/**
 * Side effects a decision asks for. The engine writes them to the outbox in the
 * decision's transaction; the outbox worker delivers them after commit.
 * Chat effects carry finished sentences; the Slack adapter may render richer views.
 */
export type Effect =
  /** `broadcast`: the whole channel must see it (Slack shows the thread reply in the channel too). */
  | { kind: 'chat.announce'; train: number | null; text: string; broadcast?: true }
  | { kind: 'chat.dm'; to: string; train: number | null; text: string; askVerify: boolean }
  | { kind: 'chat.card'; train: number }
  | { kind: 'job.start'; train: number; jobKind: JobKind; attempt: number }
  | { kind: 'job.stop'; train: number; jobKind: JobKind; attempt: number }
  /** `requestedByName`: the revert commit's author name (behaviour.md §10); absent in items written before it existed. */
  /** `extend`: "Revert it and extend" (behaviour.md §8): once the revert lands, the train is extended with it. */
  | { kind: 'git.revert'; sha: string; requestedBy: string; requestedByName?: string; extend?: { train: number } }
  | { kind: 'git.reset'; targetSha: string; backupRef: string; removedShas: string[] }
  | { kind: 'tickets.open'; train: number };

export interface AuditEvent {
  action: string;
  train: number | null;
  details: Record<string, unknown>;
}
