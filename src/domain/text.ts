/**
 * Text helpers for sentences people read in Slack and on the web pages alike
 * (the confirmations say the same words in both). Pure functions.
 */

/** Cuts `text` to at most `max` characters (code points kept whole), ending with `…` when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  // Never leave half a surrogate pair, nor half an `&amp;` entity.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z]{0,4}$/, '');
  return `${cut}…`;
}

/** The first line of a commit message, cut to `max` characters. */
export function firstLine(message: string, max = 80): string {
  return truncate((message.split('\n')[0] ?? '').trim(), max);
}

/** `1234` → `1,234`, independent of the process locale. */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `3 commits` / `1 commit`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

export const shortSha = (sha: string): string => sha.slice(0, 8);
