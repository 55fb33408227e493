import type { Logger } from 'pino';
import type { Chat } from '../../engine/ports/chat.js';
import { trainSummary } from '../../engine/views.js';

export interface ChatMessage {
  kind: 'announce' | 'dm' | 'card';
  line: string;
  to: string | null;
  train: number | null;
  text: string;
  key: string;
}

/**
 * The chat used when Slack is not configured: every message goes to the log
 * (and to a short in-memory history, for the demo and the tests). Repeated
 * deliveries of one outbox item are written once.
 */
export function createLogChat(log: Logger, keep = 500): Chat & { messages: ChatMessage[] } {
  const messages: ChatMessage[] = [];
  const seen = new Set<string>();
  const record = (m: ChatMessage) => {
    if (seen.has(m.key)) return;
    seen.add(m.key);
    messages.push(m);
    if (messages.length > keep) seen.delete(messages.shift()!.key);
    log.info({ chat: m.kind, line: m.line, to: m.to ?? undefined, train: m.train ?? undefined }, m.text);
  };
  return {
    messages,
    async announce({ line, train, text, key }) {
      record({ kind: 'announce', line, to: null, train, text, key });
    },
    async dm({ line, to, train, text, key }) {
      record({ kind: 'dm', line, to, train, text, key });
    },
    async card({ line, state, train, key }) {
      record({ kind: 'card', line, to: null, train: train.number, text: trainSummary(state, train), key });
    },
  };
}
