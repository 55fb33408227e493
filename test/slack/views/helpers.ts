import type { Button, KnownBlock } from '@slack/types';

/** Every button in the blocks (actions blocks and section accessories). */
export function buttonsOf(blocks: KnownBlock[]): Button[] {
  const out: Button[] = [];
  for (const b of blocks) {
    if (b.type === 'actions') for (const e of b.elements) if (e.type === 'button') out.push(e);
    if (b.type === 'section' && b.accessory?.type === 'button') out.push(b.accessory);
  }
  return out;
}

export const actionIds = (blocks: KnownBlock[]): string[] => buttonsOf(blocks).map((b) => b.action_id ?? '');

/** All the text a reader sees, one string per text object, in order. */
export function textsOf(blocks: KnownBlock[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if ((b.type === 'section' || b.type === 'header') && b.text) out.push(b.text.text);
    if (b.type === 'section' && b.fields) for (const f of b.fields) out.push(f.text);
    if (b.type === 'context') for (const e of b.elements) if ('text' in e && typeof e.text === 'string') out.push(e.text);
  }
  return out;
}

export const allText = (blocks: KnownBlock[]): string => textsOf(blocks).join('\n');
