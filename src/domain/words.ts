/** Small helpers for the sentences the rules write: plurals, and reasons that end a sentence. */

/** `1 commit`, `3 commits`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `1 commit waits` / `3 commits wait`. */
export function pluralAgree(n: number, one: string, verbOne: string, verbMany: string, many = `${one}s`): string {
  return `${plural(n, one, many)} ${n === 1 ? verbOne : verbMany}`;
}

/**
 * A reason people typed, as the end of a sentence: `flaky tests` → `flaky
 * tests.`, and `flaky tests.` (or `!`, `?`, `…`) stays as it is, never `..`.
 */
export function endSentence(text: string): string {
  const t = text.trim();
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}
