/**
 * Confirmation modals (behaviour.md §2 rules 6–8 and 13; §3 "Derail (confirmation),
 * Extend (confirmation)"): what will happen, said from the state before the
 * command runs, and a modal that runs the command once confirmed.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import { type ConfirmCommand, confirmAdvice, describeConfirmation, MAX_LISTED_COMMITS } from '../../domain/confirmation.js';
import { type ConfirmMetadata, VIEWS } from '../registrations.js';
import { escapeMrkdwn, LIMITS, mrkdwn, plain, plural, sections, truncate } from './text.js';

// The sentences are the domain's (src/domain/confirmation.ts): the web's confirm page shows the same.
export { type ConfirmCommand, describeConfirmation, MAX_LISTED_COMMITS };

export interface ConfirmModalOptions {
  /** The modal's title: cut to Slack's 24 characters. */
  title: string;
  /** The command text run once confirmed, e.g. `emergency prod is down`. */
  command: string;
  line: string;
  /** Where the command was typed, to answer there. */
  channel: string | null;
  /** What will happen, one sentence each (mrkdwn code spans allowed; escaped here). */
  lines: string[];
  danger: boolean;
}

/** Sentences shown in the modal; beyond this they are counted. */
const MAX_MODAL_LINES = 60;
/** Sections the modal uses for its sentences (of Slack's 100 blocks per view). */
const MAX_MODAL_SECTIONS = 20;

export function confirmModal(opts: ConfirmModalOptions): ModalView {
  const shown = opts.lines.slice(0, MAX_MODAL_LINES).map((l) => `• ${escapeMrkdwn(truncate(l, 500))}`);
  if (opts.lines.length > MAX_MODAL_LINES) shown.push(`• …and ${plural(opts.lines.length - MAX_MODAL_LINES, 'more line')}.`);
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: mrkdwn(`${opts.danger ? ':warning: ' : ''}*Run \`/conductor ${escapeMrkdwn(truncate(oneLine(opts.command), 300))}\` on ${escapeMrkdwn(truncate(opts.line, 200))}?*`),
    },
    ...sections(shown.join('\n'), MAX_MODAL_SECTIONS),
    {
      type: 'context',
      elements: [mrkdwn(confirmAdvice(opts.danger), LIMITS.contextText)],
    },
  ];
  return {
    type: 'modal',
    callback_id: VIEWS.confirm,
    title: plain(opts.title, LIMITS.modalTitle),
    submit: plain('Confirm', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: confirmMetadata(opts.line, opts.command, opts.channel),
    blocks,
  };
}

/**
 * JSON of `ConfirmMetadata` within Slack's 3000 characters: a command too long
 * for it (a very long reason) is cut, which only shortens the reason.
 */
export function confirmMetadata(line: string, command: string, channel: string | null): string {
  const build = (text: string): string => JSON.stringify({ line, text, channel } satisfies ConfirmMetadata);
  let json = build(command);
  if (json.length <= LIMITS.privateMetadata) return json;
  let keep = command.length;
  while (keep > 0 && json.length > LIMITS.privateMetadata) {
    keep -= Math.max(1, json.length - LIMITS.privateMetadata);
    json = build(command.slice(0, Math.max(0, keep)).replace(/[\uD800-\uDBFF]$/, ''));
  }
  if (json.length > LIMITS.privateMetadata) throw new Error('line or channel name too long for a Slack modal');
  return json;
}

const oneLine = (t: string): string => t.replace(/\s*\n\s*/g, ' ');
