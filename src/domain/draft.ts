import { isDeployable } from './deployability.js';
import type { AuditEvent, Effect } from './effects.js';
import { autoStart } from './lifecycle.js';
import type { Context, LineState, Train } from './model.js';

/** A rule's answer: a new state with its effects and audit, or a refusal that changes nothing. */
export type Decision = { ok: true; state: LineState; effects: Effect[]; audit: AuditEvent[]; reply: string } | { ok: false; reply: string };

export const refuse = (reply: string): Decision => ({ ok: false, reply });

/**
 * Work in progress of one decision. Rules mutate `state` (a deep copy: the
 * input is never touched), and collect effects and audit events.
 */
export class Draft {
  readonly state: LineState;
  readonly effects: Effect[] = [];
  readonly audit: AuditEvent[] = [];

  constructor(
    readonly before: LineState,
    readonly ctx: Context,
  ) {
    this.state = structuredClone(before);
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }
  announce(text: string, train: number | null = null, broadcast = false): void {
    this.emit({ kind: 'chat.announce', train, text, ...(broadcast ? { broadcast: true as const } : {}) });
  }
  dm(to: string, text: string, train: number | null = null, askVerify = false): void {
    this.emit({ kind: 'chat.dm', to, train, text, askVerify });
  }
  record(action: string, train: number | null, details: Record<string, unknown> = {}): void {
    this.audit.push({ action, train, details });
  }

  /**
   * Applies what must follow any change: rule 3 (start a train whenever
   * possible), the "ready to deploy" notice when a train becomes deployable,
   * and a card refresh for every train that changed.
   */
  finish(reply: string): Decision {
    autoStart(this);
    const { state, before } = this;
    const cards: Effect[] = [];
    for (const t of state.trains) {
      const old = before.trains.find((o) => o.number === t.number);
      if (isDeployable(state, t) && !(old && isDeployable(before, old))) {
        if (t.engineer) {
          this.dm(t.engineer, `Train #${t.number} is ready to deploy. Press Deploy or run \`/conductor deploy\`.`, t.number);
          this.announce(`Train #${t.number} is ready to deploy; waiting for ${t.engineer} to deploy.`, t.number);
        } else {
          this.announce(`Train #${t.number} is ready to deploy. It has no engineer: claim it with \`/conductor engineer me\`; admins may deploy it.`, t.number);
        }
      }
      if (!old || signature(old) !== signature(t)) cards.push({ kind: 'chat.card', train: t.number });
    }
    // Cards go first: a new train's thread replies need their card, and the card (the state
    // people act on) should not wait behind the narrative when Slack is slow.
    this.effects.unshift(...cards);
    warnIfManual(state, this.effects);
    return { ok: true, state, effects: this.effects, audit: this.audit, reply };
  }
}

/** Rule 8: while the line is in manual (or emergency) mode, every channel message says so. */
function warnIfManual(state: LineState, effects: Effect[]): void {
  const { mode, manualReason } = state.settings;
  if (mode !== 'manual') return;
  const warning = `:warning: The line is in manual mode${manualReason ? ` (${manualReason})` : ''}: trains start only by hand.`;
  for (const e of effects) if (e.kind === 'chat.announce' && !e.text.includes('manual mode')) e.text = `${e.text}${e.text.endsWith('```') ? '\n' : ' '}${warning}`;
}

/** What a train card shows; two trains with the same signature render the same card. */
function signature(t: Train): string {
  return JSON.stringify([
    t.state,
    t.headSha,
    t.commits.length,
    t.engineer,
    t.blocked,
    t.tickets.map((k) => [k.authorEmail, k.state]),
    // The culprit search's builds show as its count (below): a card update per search build would flood Slack.
    t.jobs.filter((j) => j.kind !== 'bisect').map((j) => [j.kind, j.attempt, j.state, j.url]),
    t.health && [t.health.state, t.health.failures],
    t.bisect && [t.bisect.state, t.bisect.builds],
  ]);
}
