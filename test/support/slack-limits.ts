/**
 * Slack's documented limits on messages, views and Block Kit, as checks that
 * return a list of problems (empty = Slack would accept it). The fake Slack
 * answers `invalid_blocks` when any check fails; view and card tests can call
 * `checkMessage` / `checkView` directly on what they render.
 *
 * Each problem names where it is, e.g. `blocks[3].text.text: 3001 characters (max 3000)`.
 */

export const SLACK_LIMITS = {
  messageText: 40_000,
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  contextText: 3000,
  contextElements: 10,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  actionId: 255,
  blockId: 255,
  actionsElements: 25,
  modalTitle: 24,
  modalSubmit: 24,
  modalClose: 24,
  privateMetadata: 3000,
  callbackId: 255,
  externalId: 255,
  inputLabel: 2000,
  hint: 2000,
  placeholder: 150,
  optionText: 75,
  optionValue: 150,
  options: 100,
  overflowOptions: 5,
  imageAltText: 2000,
  markdownText: 12_000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Blocks may arrive as a JSON string (form bodies); anything unparsable stays as is. */
function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

class Problems {
  readonly list: string[] = [];
  add(where: string, what: string): void {
    this.list.push(where ? `${where}: ${what}` : what);
  }
  maxLen(where: string, value: unknown, max: number): void {
    if (typeof value === 'string' && value.length > max) this.add(where, `${value.length} characters (max ${max})`);
  }
  /** A composition text object: `{ type: plain_text|mrkdwn, text }`, 1..max characters. */
  text(where: string, t: unknown, max: number, plainOnly = false): void {
    if (!isObj(t)) return this.add(where, 'must be a text object { type, text }');
    if (t.type !== 'plain_text' && t.type !== 'mrkdwn') return this.add(`${where}.type`, `must be plain_text or mrkdwn (got ${JSON.stringify(t.type)})`);
    if (plainOnly && t.type !== 'plain_text') this.add(`${where}.type`, 'must be plain_text');
    if (typeof t.text !== 'string') return this.add(`${where}.text`, 'must be a string');
    if (t.text.length === 0) this.add(`${where}.text`, 'must not be empty');
    this.maxLen(`${where}.text`, t.text, max);
    if (t.type === 'mrkdwn' && 'emoji' in t) this.add(`${where}.emoji`, 'is only allowed on plain_text');
    if (t.type === 'plain_text' && 'verbatim' in t) this.add(`${where}.verbatim`, 'is only allowed on mrkdwn');
  }
}

const BLOCK_TYPES = new Set(['section', 'divider', 'header', 'context', 'actions', 'image', 'input', 'rich_text', 'markdown', 'video', 'file', 'call', 'table', 'context_actions']);
const SELECTS_WITH_OPTIONS = new Set(['static_select', 'multi_static_select', 'overflow', 'radio_buttons', 'checkboxes']);
const OTHER_ELEMENTS = new Set([
  'users_select',
  'multi_users_select',
  'conversations_select',
  'multi_conversations_select',
  'channels_select',
  'multi_channels_select',
  'external_select',
  'multi_external_select',
  'datepicker',
  'timepicker',
  'datetimepicker',
  'plain_text_input',
  'email_text_input',
  'url_text_input',
  'number_input',
  'rich_text_input',
  'file_input',
  'workflow_button',
]);

function checkConfirm(p: Problems, where: string, c: unknown): void {
  if (!isObj(c)) return p.add(where, 'must be a confirmation object');
  p.text(`${where}.title`, c.title, SLACK_LIMITS.confirmTitle, true);
  p.text(`${where}.text`, c.text, SLACK_LIMITS.confirmText);
  p.text(`${where}.confirm`, c.confirm, SLACK_LIMITS.confirmButton, true);
  p.text(`${where}.deny`, c.deny, SLACK_LIMITS.confirmButton, true);
  if (c.style !== undefined && c.style !== 'primary' && c.style !== 'danger') p.add(`${where}.style`, 'must be primary or danger');
}

function checkOption(p: Problems, where: string, o: unknown): void {
  if (!isObj(o)) return p.add(where, 'must be an option object');
  p.text(`${where}.text`, o.text, SLACK_LIMITS.optionText);
  if (typeof o.value !== 'string') p.add(`${where}.value`, 'must be a string');
  p.maxLen(`${where}.value`, o.value, SLACK_LIMITS.optionValue);
}

/** An interactive (or image) element inside an actions block, section accessory or input. */
function checkElement(p: Problems, where: string, e: unknown, actionIds: Set<string>): void {
  if (!isObj(e)) return p.add(where, 'must be an element object');
  const type = e.type;
  if (type === 'image') {
    if (typeof e.image_url !== 'string' && !isObj(e.slack_file)) p.add(where, 'image needs image_url or slack_file');
    if (typeof e.alt_text !== 'string' || e.alt_text.length === 0) p.add(`${where}.alt_text`, 'is required');
    p.maxLen(`${where}.alt_text`, e.alt_text, SLACK_LIMITS.imageAltText);
    return;
  }
  if (typeof type !== 'string' || (type !== 'button' && !SELECTS_WITH_OPTIONS.has(type) && !OTHER_ELEMENTS.has(type))) {
    return p.add(`${where}.type`, `unknown element type ${JSON.stringify(type)}`);
  }
  if (e.action_id !== undefined) {
    if (typeof e.action_id !== 'string' || e.action_id.length === 0) p.add(`${where}.action_id`, 'must be a non-empty string');
    else {
      p.maxLen(`${where}.action_id`, e.action_id, SLACK_LIMITS.actionId);
      if (actionIds.has(e.action_id)) p.add(`${where}.action_id`, `duplicate action_id ${JSON.stringify(e.action_id)} in the block`);
      actionIds.add(e.action_id);
    }
  }
  if (e.confirm !== undefined) checkConfirm(p, `${where}.confirm`, e.confirm);
  if (e.placeholder !== undefined) p.text(`${where}.placeholder`, e.placeholder, SLACK_LIMITS.placeholder, true);
  if (type === 'button') {
    p.text(`${where}.text`, e.text, SLACK_LIMITS.buttonText, true);
    if (e.value !== undefined && typeof e.value !== 'string') p.add(`${where}.value`, 'must be a string');
    p.maxLen(`${where}.value`, e.value, SLACK_LIMITS.buttonValue);
    p.maxLen(`${where}.url`, e.url, SLACK_LIMITS.url);
    if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') p.add(`${where}.style`, 'must be primary or danger');
  } else if (SELECTS_WITH_OPTIONS.has(type)) {
    const groups = Array.isArray(e.option_groups) ? e.option_groups : undefined;
    if (!Array.isArray(e.options) && !groups) return p.add(`${where}.options`, 'is required');
    const options = Array.isArray(e.options) ? e.options : [];
    const max = type === 'overflow' ? SLACK_LIMITS.overflowOptions : SLACK_LIMITS.options;
    if (Array.isArray(e.options) && options.length === 0) p.add(`${where}.options`, 'must not be empty');
    if (options.length > max) p.add(`${where}.options`, `${options.length} options (max ${max})`);
    options.forEach((o, i) => checkOption(p, `${where}.options[${i}]`, o));
    groups?.forEach((g, gi) => {
      if (!isObj(g) || !Array.isArray(g.options)) return p.add(`${where}.option_groups[${gi}]`, 'must have options');
      g.options.forEach((o, i) => checkOption(p, `${where}.option_groups[${gi}].options[${i}]`, o));
    });
  }
}

function checkBlock(p: Problems, where: string, b: unknown, blockIds: Set<string>): void {
  if (!isObj(b)) return p.add(where, 'must be a block object');
  const type = b.type;
  if (typeof type !== 'string' || !BLOCK_TYPES.has(type)) return p.add(`${where}.type`, `unknown block type ${JSON.stringify(type)}`);
  if (b.block_id !== undefined) {
    if (typeof b.block_id !== 'string' || b.block_id.length === 0) p.add(`${where}.block_id`, 'must be a non-empty string');
    else {
      p.maxLen(`${where}.block_id`, b.block_id, SLACK_LIMITS.blockId);
      if (blockIds.has(b.block_id)) p.add(`${where}.block_id`, `duplicate block_id ${JSON.stringify(b.block_id)}`);
      blockIds.add(b.block_id);
    }
  }
  const actionIds = new Set<string>();
  switch (type) {
    case 'section': {
      if (b.text === undefined && b.fields === undefined) p.add(where, 'section needs text or fields');
      if (b.text !== undefined) p.text(`${where}.text`, b.text, SLACK_LIMITS.sectionText);
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields)) p.add(`${where}.fields`, 'must be an array');
        else {
          if (b.fields.length > SLACK_LIMITS.sectionFields) p.add(`${where}.fields`, `${b.fields.length} fields (max ${SLACK_LIMITS.sectionFields})`);
          b.fields.forEach((f, i) => p.text(`${where}.fields[${i}]`, f, SLACK_LIMITS.sectionFieldText));
        }
      }
      if (b.accessory !== undefined) checkElement(p, `${where}.accessory`, b.accessory, actionIds);
      break;
    }
    case 'header':
      p.text(`${where}.text`, b.text, SLACK_LIMITS.headerText, true);
      break;
    case 'context': {
      if (!Array.isArray(b.elements) || b.elements.length === 0) return p.add(`${where}.elements`, 'must be a non-empty array');
      if (b.elements.length > SLACK_LIMITS.contextElements) p.add(`${where}.elements`, `${b.elements.length} elements (max ${SLACK_LIMITS.contextElements})`);
      b.elements.forEach((e, i) => {
        if (isObj(e) && e.type === 'image') checkElement(p, `${where}.elements[${i}]`, e, actionIds);
        else p.text(`${where}.elements[${i}]`, e, SLACK_LIMITS.contextText);
      });
      break;
    }
    case 'actions': {
      if (!Array.isArray(b.elements) || b.elements.length === 0) return p.add(`${where}.elements`, 'must be a non-empty array');
      if (b.elements.length > SLACK_LIMITS.actionsElements) p.add(`${where}.elements`, `${b.elements.length} elements (max ${SLACK_LIMITS.actionsElements})`);
      b.elements.forEach((e, i) => {
        if (isObj(e) && e.type === 'image') p.add(`${where}.elements[${i}]`, 'image is not allowed in an actions block');
        else checkElement(p, `${where}.elements[${i}]`, e, actionIds);
      });
      break;
    }
    case 'image':
      checkElement(p, where, b, actionIds);
      if (b.title !== undefined) p.text(`${where}.title`, b.title, SLACK_LIMITS.imageAltText, true);
      break;
    case 'input':
      p.text(`${where}.label`, b.label, SLACK_LIMITS.inputLabel, true);
      if (b.hint !== undefined) p.text(`${where}.hint`, b.hint, SLACK_LIMITS.hint, true);
      if (b.element === undefined) p.add(`${where}.element`, 'is required');
      else checkElement(p, `${where}.element`, b.element, actionIds);
      break;
    case 'markdown':
      if (typeof b.text !== 'string' || b.text.length === 0) p.add(`${where}.text`, 'must be a non-empty string');
      p.maxLen(`${where}.text`, b.text, SLACK_LIMITS.markdownText);
      break;
    case 'rich_text':
      if (!Array.isArray(b.elements)) p.add(`${where}.elements`, 'must be an array');
      break;
    default:
      break;
  }
}

function checkBlocks(p: Problems, raw: unknown, max: number): Obj[] {
  const blocks = parseMaybeJson(raw);
  if (!Array.isArray(blocks)) {
    p.add('blocks', 'must be an array of blocks');
    return [];
  }
  if (blocks.length > max) p.add('blocks', `${blocks.length} blocks (max ${max})`);
  const ids = new Set<string>();
  blocks.forEach((b, i) => checkBlock(p, `blocks[${i}]`, b, ids));
  return blocks.filter(isObj);
}

/**
 * The arguments of `chat.postMessage`, `chat.update`, `chat.postEphemeral` or a
 * `response_url` body. With `blocks`, a non-empty top-level `text` is required
 * (the notification and accessibility fallback).
 */
export function checkMessage(args: Record<string, unknown>): string[] {
  const p = new Problems();
  const { text } = args;
  if (text !== undefined && typeof text !== 'string') p.add('text', 'must be a string');
  p.maxLen('text', text, SLACK_LIMITS.messageText);
  const hasText = typeof text === 'string' && text.length > 0;
  if (args.blocks !== undefined && args.blocks !== null) {
    const blocks = checkBlocks(p, args.blocks, SLACK_LIMITS.messageBlocks);
    if (!hasText && (blocks.length > 0 || Array.isArray(parseMaybeJson(args.blocks)))) {
      p.add('text', 'missing: a message with blocks must also carry a top-level text');
    }
  } else if (!hasText && args.attachments === undefined) {
    p.add('text', 'missing: a message needs text or blocks');
  }
  return p.list;
}

/** A modal or App Home view (the `view` argument of views.open/push/update/publish). */
export function checkView(raw: unknown): string[] {
  const p = new Problems();
  const view = parseMaybeJson(raw);
  if (!isObj(view)) return ['view: must be a view object'];
  if (view.type !== 'modal' && view.type !== 'home') p.add('type', `must be modal or home (got ${JSON.stringify(view.type)})`);
  if (view.blocks === undefined) p.add('blocks', 'is required');
  const blocks = view.blocks === undefined ? [] : checkBlocks(p, view.blocks, SLACK_LIMITS.viewBlocks);
  if (view.type === 'modal') {
    if (view.title === undefined) p.add('title', 'is required for a modal');
    else p.text('title', view.title, SLACK_LIMITS.modalTitle, true);
    if (view.submit !== undefined && view.submit !== null) p.text('submit', view.submit, SLACK_LIMITS.modalSubmit, true);
    if (view.close !== undefined && view.close !== null) p.text('close', view.close, SLACK_LIMITS.modalClose, true);
    if ((view.submit === undefined || view.submit === null) && blocks.some((b) => b.type === 'input')) p.add('submit', 'is required when the modal has input blocks');
  }
  if (view.private_metadata !== undefined && typeof view.private_metadata !== 'string') p.add('private_metadata', 'must be a string');
  p.maxLen('private_metadata', view.private_metadata, SLACK_LIMITS.privateMetadata);
  p.maxLen('callback_id', view.callback_id, SLACK_LIMITS.callbackId);
  p.maxLen('external_id', view.external_id, SLACK_LIMITS.externalId);
  return p.list;
}
