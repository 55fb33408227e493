/**
 * Text helpers shared by the Block Kit views: mrkdwn escaping, truncation to
 * Slack's limits, and thread replies. Pure functions, no I/O.
 */
import type { Button, ConfirmationDialog, KnownBlock, MrkdwnElement, PlainTextElement, SectionBlock } from '@slack/types';
import { count, firstLine, plural, shortSha, truncate } from '../../domain/text.js';
import type { ActionId, ActionValue } from '../registrations.js';

/** Slack's limits, in characters or items (https://docs.slack.dev/reference/block-kit). */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  contextElements: 10,
  /** A context element's text: Slack documents 3000 like a section's. */
  contextText: 3000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  actionsElements: 25,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  /** chat.postMessage truncates `text` beyond 40,000; a notification needs far less. */
  fallbackText: 3000,
} as const;

/**
 * Escapes user-provided text for mrkdwn: Slack treats `<`, `>` and `&` as
 * control characters (links, mentions, entities). Commit messages, reasons and
 * names come from users and must never turn into a mention or a link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Shared with the web pages (src/domain/text.ts): the confirmations say the same words in both.
export { count, firstLine, plural, shortSha, truncate };

/**
 * A mention for `email`: `mention` returns `<@U123>` when the person has a
 * Slack account, else the email, which is then escaped like any user text.
 */
export function safeMention(mention: (email: string) => string, email: string): string {
  const m = mention(email);
  return /^<@[A-Z0-9]+>$/.test(m) ? m : escapeMrkdwn(m);
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

/** Escapes `text`, then turns the emails in it into mentions (when `mention` knows them). */
export function escapeWithMentions(text: string, mention?: (email: string) => string): string {
  const escaped = escapeMrkdwn(text);
  if (!mention) return escaped;
  return escaped.replace(EMAIL, (email) => {
    const m = mention(email);
    return /^<@[A-Z0-9]+>$/.test(m) ? m : email;
  });
}

/** A link in mrkdwn; the URL's control characters are escaped so the link cannot break out. */
export function link(url: string, label: string): string {
  const safeUrl = escapeMrkdwn(url).replace(/\|/g, '%7C');
  return `<${safeUrl}|${escapeMrkdwn(label).replace(/\|/g, '¦')}>`;
}

export const plain = (text: string, max: number = LIMITS.sectionText): PlainTextElement => ({
  type: 'plain_text',
  text: truncate(text, max),
  emoji: true,
});

export const mrkdwn = (text: string, max: number = LIMITS.sectionText): MrkdwnElement => ({
  type: 'mrkdwn',
  text: truncate(text, max),
});

export const section = (text: string): SectionBlock => ({ type: 'section', text: mrkdwn(text) });

/**
 * Mrkdwn text as section blocks of at most 3000 characters each, split at line
 * ends, at most `maxBlocks` of them: what does not fit is cut, with a note.
 */
export function sections(text: string, maxBlocks: number): SectionBlock[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = truncate(raw, LIMITS.sectionText);
    const next = current ? `${current}\n${line}` : line;
    if (next.length > LIMITS.sectionText) {
      if (current.trim()) chunks.push(current);
      current = line;
    } else {
      current = next;
    }
  }
  if (current.trim()) chunks.push(current);
  if (chunks.length === 0) chunks.push('_(no text)_');
  if (chunks.length > maxBlocks) {
    const kept = chunks.slice(0, Math.max(1, maxBlocks));
    const last = kept.length - 1;
    kept[last] = `${truncate(kept[last]!, LIMITS.sectionText - 40)}\n_(cut: too long for Slack)_`;
    return kept.map(section);
  }
  return chunks.map(section);
}

/** A button carrying `{line, train}` as its value. */
export function actionButton(actionId: ActionId, label: string, value: ActionValue, opts: { style?: 'primary' | 'danger'; confirm?: ConfirmationDialog } = {}): Button {
  const button: Button = {
    type: 'button',
    action_id: actionId,
    text: plain(label, LIMITS.buttonText),
    value: buttonValue(value),
  };
  if (opts.style) button.style = opts.style;
  if (opts.confirm) button.confirm = opts.confirm;
  return button;
}

/** JSON of `ActionValue`; a line name too long for Slack's 2000 characters is a configuration error. */
export function buttonValue(value: ActionValue): string {
  const json = JSON.stringify({ line: value.line, train: value.train } satisfies ActionValue);
  if (json.length > LIMITS.buttonValue) throw new Error(`line name too long for a Slack button value: ${value.line.slice(0, 40)}…`);
  return json;
}

/** A Slack `confirm` dialog, cut to its limits. */
export function confirmDialog(title: string, text: string, confirm: string, style: 'primary' | 'danger'): ConfirmationDialog {
  return {
    title: plain(title, LIMITS.confirmTitle),
    text: plain(text, LIMITS.confirmText),
    confirm: plain(confirm, LIMITS.confirmButton),
    deny: plain('Cancel', LIMITS.confirmButton),
    style,
  };
}

/**
 * A reply in a card's thread: the engine's sentence (which may carry users'
 * reasons and commit messages) escaped, emails turned into mentions when
 * `mention` is given, within Slack's limits.
 */
export function threadReply(text: string, opts: { mention?: (email: string) => string } = {}): { text: string; blocks: KnownBlock[] } {
  const body = escapeWithMentions(text, opts.mention);
  return {
    text: truncate(body, LIMITS.fallbackText),
    blocks: sections(body, 10),
  };
}
