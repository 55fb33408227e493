/**
 * Direct messages (behaviour.md §3 "DMs"): the engine's sentence, a Verify button when
 * the author is asked to verify, and a context line naming the line.
 */
import type { KnownBlock } from '@slack/types';
import { ACTIONS } from '../registrations.js';
import { actionButton, escapeMrkdwn, escapeWithMentions, LIMITS, mrkdwn, sections, truncate } from './text.js';

export interface DmOptions {
  /** The author is asked to verify: add a Verify button (needs `train`). */
  askVerify: boolean;
  line: string;
  train: number | null;
  /**
   * Turns the emails in `text` into mentions: `<@U123>` for Slack users, else
   * the email. `text` is the engine's plain sentence: this view escapes it, so
   * pass it unescaped (never pre-escaped or with mentions already in it).
   */
  mention?: (email: string) => string;
}

export function dmMessage(text: string, opts: DmOptions): { text: string; blocks: KnownBlock[] } {
  const body = escapeWithMentions(text, opts.mention);
  const blocks: KnownBlock[] = [...sections(body, 20)];
  if (opts.askVerify && opts.train !== null) {
    blocks.push({
      type: 'actions',
      block_id: `dm-train-${opts.train}`,
      elements: [actionButton(ACTIONS.verify, ':white_check_mark: Verify', { line: opts.line, train: opts.train }, { style: 'primary' })],
    });
  }
  const where = `Conductor · line *${escapeMrkdwn(truncate(opts.line, 200))}*${opts.train !== null ? ` · train #${opts.train}` : ''}`;
  blocks.push({ type: 'context', elements: [mrkdwn(where, LIMITS.contextText)] });
  return { text: truncate(body, LIMITS.fallbackText), blocks };
}
