/**
 * Small zod building blocks that produce our messages: every problem reads
 * `<key path>: expected <what>, got <value>` (or a sentence of its own), and
 * unknown keys are reported one by one with a "did you mean" hint.
 */
import { z } from 'zod';
import { closest, describeValue, formatPath } from './errors.js';

/** Returned by a leaf parser when the value is wrong for a reason better told in its own words. */
export class Invalid {
  constructor(readonly message: string) {}
}

/** A parser for one value: the normalised value, `undefined` (the generic "expected … got …" message) or an `Invalid`. */
export type LeafParser<T> = (value: unknown) => T | undefined | Invalid;

/**
 * A single value (string, number, list of scalars…) checked by `parse`.
 * Missing (`undefined`) gives `fallback` when there is one, else "missing: expected <what>".
 * `null` (a key written with no value in YAML) is never accepted: it is reported as "got nothing".
 */
export function leaf<T>(what: string, parse: LeafParser<T>, fallback?: { default: T }) {
  // `.optional()` first: an absent key reaches the transform (which reports it or applies the default).
  return z
    .unknown()
    .optional()
    .transform((value, ctx): T => {
      if (value === undefined) {
        if (fallback) return fallback.default;
        ctx.addIssue({ code: 'custom', message: `missing: expected ${what}`, input: value });
        return z.NEVER;
      }
      const result = value === null ? undefined : parse(value);
      if (result instanceof Invalid) {
        ctx.addIssue({ code: 'custom', message: result.message, input: value });
        return z.NEVER;
      }
      if (result === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${describeValue(value)}`, input: value });
        return z.NEVER;
      }
      return result;
    });
}

const UNKNOWN_KEYS = '\u0000unknown-keys:';

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const hint = closest(key, known);
  return hint ? `unknown key (did you mean "${hint}"?)` : `unknown key (expected one of: ${known.join(', ')})`;
}

/** A mapping that rejects keys not in `shape` (typos must not pass silently). */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S, what: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        return UNKNOWN_KEYS + JSON.stringify(issue.keys.map((key) => [key, unknownKeyMessage(key, known)]));
      }
      if (issue.code === 'invalid_type') {
        return issue.input === undefined ? `missing: expected ${what}` : `expected ${what}, got ${describeValue(issue.input)}`;
      }
      return undefined;
    },
  });
}

/** A list of `item`; `min` items at least (with the message to give when there are fewer). */
export function list<T extends z.ZodType>(item: T, what: string, min?: { count: number; message: string }) {
  const array = z.array(item, {
    error: (issue) => (issue.code === 'invalid_type' ? (issue.input === undefined ? `missing: expected ${what}` : `expected ${what}, got ${describeValue(issue.input)}`) : undefined),
  });
  return min ? array.min(min.count, { error: min.message }) : array;
}

/** Fallback messages for anything our own schemas did not word themselves. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `missing: expected ${issue.expected}` : `expected ${issue.expected}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(issue.input)}`;
    default:
      return undefined;
  }
};

/**
 * Runs `schema` on `input` and turns every issue into a problem line
 * `<prefix><path>: <message>` (`prefix` is e.g. `conductor.yml: `, `basePath`
 * is prepended to the issue paths).
 */
export function check<T extends z.ZodType>(
  schema: T,
  input: unknown,
  prefix: string,
  basePath: readonly PropertyKey[] = [],
): { ok: true; value: z.output<T> } | { ok: false; problems: string[] } {
  const result = schema.safeParse(input, { error: errorMap, reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: result.error.issues.flatMap((issue) => issueToProblems(issue, prefix, basePath)) };
}

function issueToProblems(issue: z.core.$ZodIssue, prefix: string, basePath: readonly PropertyKey[]): string[] {
  const path = [...basePath, ...issue.path];
  if (issue.message.startsWith(UNKNOWN_KEYS)) {
    const entries = JSON.parse(issue.message.slice(UNKNOWN_KEYS.length)) as [string, string][];
    return entries.map(([key, message]) => problem(prefix, [...path, key], message));
  }
  return [problem(prefix, path, issue.message)];
}

/** `conductor.yml: lines[0].branch: <message>`; with an empty path, `conductor.yml: <message>`. */
export function problem(prefix: string, path: readonly PropertyKey[], message: string): string {
  const where = formatPath(path);
  return where === '' ? `${prefix}${message}` : `${prefix}${where}: ${message}`;
}
