import type { AutoTimeWindow } from '../domain/time.js';

/**
 * Who `/conductor engineer …` gives the engineer role to.
 * - `me`: the caller claims it (anyone may).
 * - `email`: a person named by email (lower-cased), e.g. `alice@example.com` or `@alice@example.com`.
 * - `slack`: a Slack mention `<@U123ABC>` / `<@U123ABC|alice>`, kept as the user id `U123ABC`.
 */
export type EngineerTarget = { kind: 'me' } | { kind: 'email'; email: string } | { kind: 'slack'; userId: string };

/**
 * One `/conductor` subcommand, as parsed from the text after `/conductor`
 * (Slack) or from the `text` of `POST /api/command`. Shared by both paths.
 */
export type Command =
  | { name: 'help'; topic?: string }
  | { name: 'status' }
  | { name: 'queue' }
  | { name: 'start'; sha?: string }
  | { name: 'derail'; reason?: string }
  | { name: 'extend' }
  /** `extend`: `revert <sha> and extend` (behaviour.md §8): the train is extended with the revert once it lands. */
  | { name: 'revert'; sha: string; extend?: true }
  | { name: 'emergency'; reason?: string }
  | { name: 'block'; reason: string }
  | { name: 'unblock' }
  | { name: 'deploy' }
  | { name: 'retry' }
  | { name: 'verify'; train?: number }
  | { name: 'reopen'; train?: number; reason?: string }
  | { name: 'engineer'; target: EngineerTarget }
  | { name: 'mode'; mode: 'manual' | 'schedule'; reason?: string }
  | { name: 'autotime'; action: 'show' }
  | { name: 'autotime'; action: 'set'; windows: AutoTimeWindow[]; timezone?: string }
  | { name: 'autotime'; action: 'clear' }
  | { name: 'freeze'; action: 'list' }
  | { name: 'freeze'; action: 'add' | 'remove'; date: string }
  | { name: 'history'; limit: number }
  | { name: 'train'; number: number }
  | { name: 'rollback'; train: number }
  /** behaviour.md §9: how a job whose outcome was unknown ended, as the person who checked production says. */
  | { name: 'job'; outcome: 'succeeded' | 'failed'; train?: number };

export type CommandName = Command['name'];

/** Every subcommand name, in the order the help lists them. */
export const COMMAND_NAMES = [
  'help',
  'status',
  'queue',
  'start',
  'derail',
  'extend',
  'revert',
  'emergency',
  'block',
  'unblock',
  'deploy',
  'retry',
  'verify',
  'reopen',
  'engineer',
  'mode',
  'autotime',
  'freeze',
  'history',
  'train',
  'rollback',
  'job',
] as const satisfies readonly CommandName[];

// Compile-time check that COMMAND_NAMES lists every member of the union.
type _MissingNames = Exclude<CommandName, (typeof COMMAND_NAMES)[number]>;
const _allNamesListed: [_MissingNames] extends [never] ? true : false = true;
void _allNamesListed;

export function isCommandName(value: string): value is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(value);
}

/** Result of parsing the text after `/conductor`. */
export type ParseResult = { ok: true; command: Command; line?: string } | { ok: false; error: string };
