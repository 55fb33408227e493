/**
 * A small, strict checker of Slack's Block Kit limits for these view tests
 * (https://docs.slack.dev/reference/block-kit). It returns the problems found,
 * so a failing test names every one of them.
 */
import type { View } from '@slack/types';

export const SLACK = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  actionId: 255,
  blockId: 255,
  actionsElements: 25,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * mrkdwn must not carry a raw `<` or `&` except Slack's own tokens: a raw one
 * means user text was not escaped (and could become a mention or a link).
 */
export function mrkdwnProblems(text: string, where: string): string[] {
  const out: string[] = [];
  const token = /^<(@[UW][A-Z0-9]+|#C[A-Z0-9]+(\|[^<>]*)?|!date\^\d+\^[^|<>]+\|[^<>]+|!(here|channel|everyone)|(https?:\/\/|mailto:)[^|<>\s]+(\|[^<>]+)?)>/;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '<') {
      const m = token.exec(text.slice(i));
      if (!m) out.push(`${where}: raw '<' at ${i}: ${JSON.stringify(text.slice(i, i + 40))}`);
      else {
        if (m[0].startsWith('<!') && !m[0].startsWith('<!date')) out.push(`${where}: broadcast ${m[0]}`);
        i += m[0].length - 1;
      }
    } else if (ch === '>') {
      out.push(`${where}: raw '>' at ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))}`);
    } else if (ch === '&' && !/^&(amp|lt|gt);/.test(text.slice(i))) {
      out.push(`${where}: raw '&' at ${i}: ${JSON.stringify(text.slice(i, i + 20))}`);
    }
  }
  return out;
}

function textProblems(t: unknown, max: number, where: string, kinds: string[] = ['plain_text', 'mrkdwn']): string[] {
  if (!isObj(t)) return [`${where}: missing text object`];
  const out: string[] = [];
  if (!kinds.includes(String(t.type))) out.push(`${where}: text type ${String(t.type)} not in ${kinds.join('|')}`);
  const s = t.text;
  if (typeof s !== 'string' || s.trim().length === 0) return [...out, `${where}: empty text`];
  if (s.length > max) out.push(`${where}: ${s.length} > ${max} characters`);
  if (t.type === 'mrkdwn') out.push(...mrkdwnProblems(s, where));
  return out;
}

function confirmProblems(c: unknown, where: string): string[] {
  if (!isObj(c)) return [`${where}: confirm is not an object`];
  return [
    ...textProblems(c.title, SLACK.confirmTitle, `${where}.title`, ['plain_text']),
    ...textProblems(c.text, SLACK.confirmText, `${where}.text`),
    ...textProblems(c.confirm, SLACK.confirmButton, `${where}.confirm`, ['plain_text']),
    ...textProblems(c.deny, SLACK.confirmButton, `${where}.deny`, ['plain_text']),
    ...(c.style === undefined || c.style === 'primary' || c.style === 'danger' ? [] : [`${where}: bad style ${String(c.style)}`]),
  ];
}

function elementProblems(e: unknown, where: string): string[] {
  if (!isObj(e)) return [`${where}: element is not an object`];
  if (e.type !== 'button') return [`${where}: unexpected element type ${String(e.type)}`];
  const out = textProblems(e.text, SLACK.buttonText, `${where}.text`, ['plain_text']);
  if (typeof e.action_id !== 'string' || e.action_id.length === 0 || e.action_id.length > SLACK.actionId) out.push(`${where}: bad action_id`);
  if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > SLACK.buttonValue)) out.push(`${where}: value over ${SLACK.buttonValue}`);
  if (e.url !== undefined && (typeof e.url !== 'string' || e.url.length > SLACK.buttonUrl)) out.push(`${where}: url over ${SLACK.buttonUrl}`);
  if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') out.push(`${where}: bad style`);
  if (e.confirm !== undefined) out.push(...confirmProblems(e.confirm, `${where}.confirm`));
  return out;
}

export function blockProblems(blocks: unknown, maxBlocks: number): string[] {
  if (!Array.isArray(blocks)) return ['blocks is not an array'];
  const out: string[] = [];
  if (blocks.length === 0) out.push('no blocks');
  if (blocks.length > maxBlocks) out.push(`${blocks.length} blocks > ${maxBlocks}`);
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    const where = `blocks[${i}]`;
    if (!isObj(b)) return void out.push(`${where}: not an object`);
    if (b.block_id !== undefined) {
      const id = String(b.block_id);
      if (id.length > SLACK.blockId) out.push(`${where}: block_id too long`);
      if (blockIds.has(id)) out.push(`${where}: duplicate block_id ${id}`);
      blockIds.add(id);
    }
    switch (b.type) {
      case 'header':
        out.push(...textProblems(b.text, SLACK.headerText, `${where}(header)`, ['plain_text']));
        break;
      case 'section': {
        if (b.text === undefined && b.fields === undefined) out.push(`${where}: section without text or fields`);
        if (b.text !== undefined) out.push(...textProblems(b.text, SLACK.sectionText, `${where}(section)`));
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > SLACK.sectionFields) out.push(`${where}: too many fields`);
          else b.fields.forEach((f, j) => out.push(...textProblems(f, SLACK.fieldText, `${where}.fields[${j}]`)));
        }
        if (b.accessory !== undefined) out.push(...elementProblems(b.accessory, `${where}.accessory`));
        break;
      }
      case 'context': {
        const els = b.elements;
        if (!Array.isArray(els) || els.length === 0 || els.length > SLACK.contextElements) out.push(`${where}: context needs 1..${SLACK.contextElements} elements`);
        else els.forEach((e, j) => out.push(...textProblems(e, SLACK.contextText, `${where}(context)[${j}]`)));
        break;
      }
      case 'actions': {
        const els = b.elements;
        if (!Array.isArray(els) || els.length === 0 || els.length > SLACK.actionsElements) out.push(`${where}: actions needs 1..${SLACK.actionsElements} elements`);
        else {
          const ids = els.map((e) => (isObj(e) ? e.action_id : undefined));
          if (new Set(ids).size !== ids.length) out.push(`${where}: duplicate action_id in one block`);
          els.forEach((e, j) => out.push(...elementProblems(e, `${where}(actions)[${j}]`)));
        }
        break;
      }
      case 'divider':
        break;
      default:
        out.push(`${where}: unexpected block type ${String(b.type)}`);
    }
  });
  return out;
}

/** A chat.postMessage / chat.update payload: blocks and the top-level fallback text. */
export function messageProblems(msg: { text?: unknown; blocks?: unknown }): string[] {
  const out = blockProblems(msg.blocks, SLACK.messageBlocks);
  if (typeof msg.text !== 'string' || msg.text.trim() === '') out.push('top-level text missing');
  else if (msg.text.length > 40_000) out.push('top-level text over 40,000');
  else out.push(...mrkdwnProblems(msg.text, 'text'));
  return out;
}

/** views.publish / views.open payloads. */
export function viewProblems(view: View): string[] {
  const out = blockProblems(view.blocks, SLACK.viewBlocks);
  if (view.private_metadata !== undefined && view.private_metadata.length > SLACK.privateMetadata) out.push(`private_metadata ${view.private_metadata.length} > ${SLACK.privateMetadata}`);
  if (view.callback_id !== undefined && view.callback_id.length > SLACK.callbackId) out.push('callback_id too long');
  if (view.type === 'modal') {
    out.push(...textProblems(view.title, SLACK.modalTitle, 'title', ['plain_text']));
    if (view.submit) out.push(...textProblems(view.submit, SLACK.modalButton, 'submit', ['plain_text']));
    if (view.close) out.push(...textProblems(view.close, SLACK.modalButton, 'close', ['plain_text']));
  }
  return out;
}
