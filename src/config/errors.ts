/**
 * Configuration problems: one error carrying every problem found, so a user
 * fixes them all in one go instead of one per restart.
 */

/** Thrown by `loadConfig` (and the parsers it uses) when anything is wrong. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One sentence per problem, each naming the key, e.g. `PORT: expected an integer from 1 to 65535, got "abc"`. */
  readonly problems: string[];

  constructor(problems: string[]) {
    const list = problems.length > 0 ? problems : ['unknown configuration problem'];
    super(list.length === 1 ? `Invalid configuration: ${list[0]}` : `Invalid configuration (${list.length} problems):\n${list.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = list;
  }
}

/** `lines[0].autoTime[1].start` from `['lines', 0, 'autoTime', 1, 'start']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = String(part);
      if (/^[A-Za-z0-9_-]+$/.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** How a value the user wrote is shown after "got": `"25:00"`, `25`, `a list`, `a mapping`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return `the date ${value.toISOString()}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest known name, when it is close enough to be a likely typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  // `timeout` → `timeoutMinutes`, `poll` → `pollSeconds`: a known key that starts with what was written.
  const prefixed = lower.length >= 4 ? known.filter((k) => k.toLowerCase().startsWith(lower)) : [];
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
