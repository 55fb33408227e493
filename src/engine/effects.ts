import type { Effect } from '../domain/index.js';
import { PermanentEffectError } from './errors.js';
import type { OutboxItem } from './outbox.js';

/** A GitHub commit status for commits that moved (behaviour.md §4): where each commit is now. Written by the saver. */
export type StatusEffect = { kind: 'code.status'; shas: string[]; state: 'pending' | 'success' | 'error'; description: string };
/** A ticket with an outside key (Jira) changed state: the outside ticket follows. Written by the saver. */
export type TicketSyncEffect = { kind: 'ticket.sync'; externalKey: string; done: boolean };

/**
 * Every payload the outbox holds, by kind: the domain's effects (with their
 * line, and the job row they name), and the kinds adapters and the saver add.
 * The one discriminated union of outbox payloads: a new kind is added here,
 * and the compiler then asks for it in EFFECT_KINDS.
 */
export type OutboxPayloads = { [E in Effect as E['kind']]: E & { line: string; jobId?: number } } & {
  'code.status': StatusEffect & { line: string };
  'ticket.sync': TicketSyncEffect & { line: string };
  /** Slack's App Home refresh for one user (the line whose home was asked for, when a button asked). */
  'slack.home': { user: string; line?: string };
};

export type EffectKind = keyof OutboxPayloads;

/** An outbox item whose payload is known by its kind. */
export interface EffectItem<K extends EffectKind = EffectKind> {
  id: bigint;
  kind: K;
  payload: OutboxPayloads[K];
  idempotencyKey: string;
  attempts: number;
}

export type EffectHandler<K extends EffectKind> = (item: EffectItem<K>) => Promise<void>;
/** One handler per kind: what a registry must hold once every feature contributed its part. */
export type EffectHandlers = { [K in EffectKind]: EffectHandler<K> };

/** Every kind, listed once: the Record type makes the compiler reject a missing or unknown kind. */
const EFFECT_KINDS: Record<EffectKind, true> = {
  'chat.announce': true,
  'chat.dm': true,
  'chat.card': true,
  'job.start': true,
  'job.stop': true,
  'git.revert': true,
  'git.reset': true,
  'tickets.open': true,
  'code.status': true,
  'ticket.sync': true,
  'slack.home': true,
};

export function isEffectKind(kind: string): kind is EffectKind {
  return Object.hasOwn(EFFECT_KINDS, kind);
}

/** The kinds no part handles: the composition root refuses to start with any (see assertComplete). */
export function missingKinds(handlers: Partial<EffectHandlers>): EffectKind[] {
  return (Object.keys(EFFECT_KINDS) as EffectKind[]).filter((k) => !handlers[k]);
}

/** Checked at start: every kind the outbox may hold has a handler (features contribute theirs). */
export function assertComplete(handlers: Partial<EffectHandlers>): asserts handlers is EffectHandlers {
  const missing = missingKinds(handlers);
  if (missing.length > 0) throw new Error(`no outbox handler for ${missing.join(', ')}`);
}

/** The registry: the engine's handlers and each feature's, checked complete (it throws when a kind has none). */
export function effectRegistry(base: Partial<EffectHandlers>, contributed: (Partial<EffectHandlers> | undefined)[]): EffectHandlers {
  const handlers: Partial<EffectHandlers> = { ...base };
  for (const more of contributed) Object.assign(handlers, more);
  assertComplete(handlers);
  return handlers;
}

/**
 * The worker's handler over a registry: the stored row's kind picks the
 * handler. An unknown or unhandled kind can never be delivered: the item is closed.
 */
export function dispatchEffects(handlers: Partial<EffectHandlers>): (item: OutboxItem) => Promise<void> {
  return async (item) => {
    const { kind } = item;
    if (!isEffectKind(kind)) throw new PermanentEffectError(`unknown effect kind ${kind}`);
    return deliver(handlers, kind, stored(kind, item));
  };
}

function deliver<K extends EffectKind>(handlers: Partial<EffectHandlers>, kind: K, item: EffectItem<K>): Promise<void> {
  const handler: EffectHandlers[K] | undefined = handlers[kind];
  if (!handler) throw new PermanentEffectError(`no handler for effect kind ${kind}`);
  return handler(item);
}

/**
 * The one place a stored row becomes typed: rows are only written through the
 * typed writers (the saver and `enqueueEffect`), so the kind column names the
 * payload's shape. JSON from the database cannot be checked by the compiler.
 */
function stored<K extends EffectKind>(kind: K, item: OutboxItem): EffectItem<K> {
  const json: unknown = item.payload;
  return { id: item.id, kind, payload: json as OutboxPayloads[K], idempotencyKey: item.idempotencyKey, attempts: item.attempts };
}
