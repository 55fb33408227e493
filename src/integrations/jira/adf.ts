/**
 * Just enough Atlassian Document Format (REST v3 rich text) for Conductor's
 * issue descriptions: paragraphs and bullet lists of plain text.
 */
export interface AdfText {
  type: 'text';
  text: string;
  marks?: { type: 'code' | 'strong' }[];
}
export interface AdfParagraph {
  type: 'paragraph';
  content: AdfText[];
}
export interface AdfBulletList {
  type: 'bulletList';
  content: { type: 'listItem'; content: AdfParagraph[] }[];
}
export type AdfBlock = AdfParagraph | AdfBulletList;
export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfBlock[];
}

/** Jira rejects text nodes that are empty; it also caps a field near 32 767 characters. */
export function text(s: string, mark?: 'code' | 'strong'): AdfText {
  const t: AdfText = { type: 'text', text: s.length ? s : ' ' };
  if (mark) t.marks = [{ type: mark }];
  return t;
}

export function paragraph(...parts: (string | AdfText)[]): AdfParagraph {
  return { type: 'paragraph', content: parts.map((p) => (typeof p === 'string' ? text(p) : p)) };
}

export function bulletList(items: (string | AdfText)[][]): AdfBulletList {
  return { type: 'bulletList', content: items.map((parts) => ({ type: 'listItem', content: [paragraph(...parts)] })) };
}

export function doc(...blocks: AdfBlock[]): AdfDoc {
  return { type: 'doc', version: 1, content: blocks.filter((b) => b.content.length > 0) };
}

/** Every text of a document, joined: for tests and logs. */
export function plainText(d: unknown): string {
  const out: string[] = [];
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    const node = n as { type?: unknown; text?: unknown; content?: unknown };
    if (node.type === 'text' && typeof node.text === 'string') out.push(node.text);
    if (Array.isArray(node.content)) {
      node.content.forEach(walk);
      if (node.type === 'paragraph') out.push('\n');
    }
  };
  walk(d);
  return out.join('');
}
