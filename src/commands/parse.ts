/**
 * The one parser for the text after `/conductor`, shared by the Slack slash
 * command and `POST /api/command` (behaviour.md §3, §5). Pure: no I/O, no clock.
 *
 * Conventions (see also the tests):
 * - Tokens are separated by any whitespace; extra whitespace is ignored.
 * - `--line <name>` / `--line=<name>` may appear anywhere (an em/en dash, as
 *   typed by phone autocorrect, is accepted for `--`). It is removed before
 *   the subcommand is parsed, also from free-text reasons.
 * - Subcommand names and keywords (`me`, `manual`, `set`, day names, …) are
 *   case-insensitive. Free text (reasons) keeps its case; runs of whitespace
 *   in it are collapsed to one space.
 * - Empty text (or only `--line x`) means `help`.
 */

import { checkEmail } from '../domain/identity.js';
import { type AutoTimeWindow, parseDayItems, type Weekday } from '../domain/time.js';
import { type Command, type CommandName, type EngineerTarget, isCommandName, type ParseResult } from './command.js';
import { usageFor, usageText } from './usage.js';

export type { ParseResult } from './command.js';

/** Longest accepted free-text reason (derail, emergency, block, reopen). */
export const MAX_REASON_LENGTH = 500;
export const DEFAULT_HISTORY_LIMIT = 20;
export const MAX_HISTORY_LIMIT = 200;
/** Largest accepted train number (PostgreSQL `integer`). */
export const MAX_TRAIN_NUMBER = 2_147_483_647;

/** Internal: a usage error for one subcommand. Never escapes parseCommand. */
class ParseFailure {
  constructor(
    readonly name: CommandName | undefined,
    readonly message: string,
  ) {}
}

function fail(name: CommandName | undefined, message: string): never {
  throw new ParseFailure(name, message);
}

/** The error text: what is wrong, then the subcommand's usage (or the full help). */
function failure(message: string, name: CommandName | undefined): ParseResult {
  if (name === undefined) return { ok: false, error: `${message}\n${usageText()}` };
  const usage = usageFor(name);
  return { ok: false, error: `${message}\nUsage:${usage.includes('\n') ? '\n' : ' '}${usage}` };
}

const LINE_FLAG = /^(?:--|—|–)line(?:=(.*))?$/i;

export function parseCommand(text: string): ParseResult {
  const tokens = String(text ?? '')
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);

  // Pull `--line` out first, wherever it is.
  const rest: string[] = [];
  let line: string | undefined;
  let lineError: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const flag = LINE_FLAG.exec(token);
    if (!flag) {
      rest.push(token);
      continue;
    }
    let value = flag[1];
    if (value === undefined) {
      const next = tokens[i + 1];
      if (next !== undefined && !/^(?:--|—|–)/.test(next)) {
        value = next;
        i++;
      }
    }
    if (value === undefined || value === '' || /^(?:--|—|–)/.test(value)) {
      lineError ??= '`--line` needs a line name, e.g. `--line web`.';
    } else if (line !== undefined && line !== value) {
      lineError ??= `\`--line\` is given twice (\`${line}\` and \`${value}\`); give it once.`;
    } else {
      line = value;
    }
  }

  const [head, ...args] = rest;
  const lowered = head?.toLowerCase();
  const name = lowered !== undefined && isCommandName(lowered) ? lowered : undefined;

  if (lineError !== undefined) return failure(lineError, name);
  if (head === undefined) return withLine({ name: 'help' }, line);
  if (name === undefined) return failure(`Unknown command \`${head}\`.`, undefined);

  try {
    return withLine(parseSubcommand(name, args), line);
  } catch (err) {
    if (err instanceof ParseFailure) return failure(err.message, err.name);
    throw err;
  }
}

function withLine(command: Command, line: string | undefined): ParseResult {
  return line === undefined ? { ok: true, command } : { ok: true, command, line };
}

function parseSubcommand(name: CommandName, args: string[]): Command {
  switch (name) {
    case 'help':
      return parseHelp(args);
    case 'status':
    case 'queue':
    case 'extend':
    case 'unblock':
    case 'deploy':
    case 'retry':
      noArgs(name, args);
      return { name };
    case 'start': {
      atMost(name, args, 1);
      return args[0] === undefined ? { name } : { name, sha: parseSha(name, args[0]) };
    }
    case 'revert': {
      if (args[0] === undefined) fail(name, '`revert` needs the SHA of the commit to revert.');
      const sha = parseSha(name, args[0]);
      const rest = args.slice(1).map((a) => a.toLowerCase());
      if (rest.length === 0) return { name, sha };
      if ((rest.length === 1 && rest[0] === 'extend') || (rest.length === 2 && rest[0] === 'and' && rest[1] === 'extend')) return { name, sha, extend: true };
      return fail(name, `Unexpected \`${args.slice(1).join(' ')}\` after \`revert ${args[0]}\`: add nothing, or \`and extend\`.`);
    }
    case 'derail':
    case 'emergency': {
      const reason = parseReason(name, args);
      return reason === undefined ? { name } : { name, reason };
    }
    case 'block': {
      const reason = parseReason(name, args);
      if (reason === undefined) fail(name, '`block` needs a reason, e.g. `/conductor block waiting for the DB migration`.');
      return { name, reason };
    }
    case 'verify': {
      atMost(name, args, 1);
      return args[0] === undefined ? { name } : { name, train: parseTrainNumber(name, args[0]) };
    }
    case 'reopen':
      return parseReopen(args);
    case 'engineer':
      return { name, target: parseEngineerTarget(args) };
    case 'mode': {
      const mode = args[0]?.toLowerCase();
      if (mode === undefined) fail(name, '`mode` needs `manual` or `schedule`.');
      if (mode !== 'manual' && mode !== 'schedule') fail(name, `Unknown mode \`${args[0]}\`: use \`manual\` or \`schedule\`.`);
      // behaviour.md §3: `mode manual|schedule [reason]`; the reason is shown in status, on the card and in history.
      const reason = parseReason(name, args.slice(1));
      return reason === undefined ? { name, mode } : { name, mode, reason };
    }
    case 'autotime':
      return parseAutotime(args);
    case 'freeze':
      return parseFreeze(args);
    case 'history': {
      atMost(name, args, 1);
      if (args[0] === undefined) return { name, limit: DEFAULT_HISTORY_LIMIT };
      return { name, limit: parseHistoryLimit(args[0]) };
    }
    case 'train': {
      if (args[0] === undefined) fail(name, '`train` needs a train number, e.g. `/conductor train 12`.');
      atMost(name, args, 1);
      return { name, number: parseTrainNumber(name, args[0]) };
    }
    case 'rollback': {
      if (args[0] === undefined) fail(name, '`rollback` needs the number of the deployed train to go back to, e.g. `/conductor rollback 12`.');
      atMost(name, args, 1);
      return { name, train: parseTrainNumber(name, args[0]) };
    }
    case 'job': {
      const outcome = args[0]?.toLowerCase();
      if (outcome !== 'succeeded' && outcome !== 'failed')
        fail(name, '`job` records how a job whose outcome is unknown ended, once you have checked production: `/conductor job succeeded [train]` or `/conductor job failed [train]`.');
      atMost(name, args, 2);
      return args[1] === undefined ? { name, outcome } : { name, outcome, train: parseTrainNumber(name, args[1]) };
    }
  }
}

// ---------------------------------------------------------------- helpers

function noArgs(name: CommandName, args: string[]): void {
  if (args.length > 0) fail(name, `\`${name}\` takes no arguments (got \`${args.join(' ')}\`).`);
}

function atMost(name: CommandName, args: string[], n: number): void {
  if (args.length > n) fail(name, `Unexpected \`${args.slice(n).join(' ')}\` after \`${name} ${args.slice(0, n).join(' ')}\`.`);
}

function parseHelp(args: string[]): Command {
  // Lenient on purpose: `help autotime set` shows the autotime help.
  const topic = args[0];
  if (topic === undefined) return { name: 'help' };
  const lowered = topic.toLowerCase();
  if (!isCommandName(lowered)) fail(undefined, `Unknown command \`${topic}\`.`);
  return { name: 'help', topic: lowered };
}

const SHA = /^[0-9a-f]{4,40}$/i;

function parseSha(name: CommandName, raw: string): string {
  const value = raw.replace(/^`+|`+$/g, ''); // tolerate a SHA pasted as `code`
  if (!SHA.test(value)) fail(name, `\`${raw}\` is not a commit SHA: give 4 to 40 hexadecimal characters, e.g. \`abc1234\`.`);
  return value.toLowerCase();
}

function parseReason(name: CommandName, args: string[]): string | undefined {
  const reason = args.join(' ');
  if (reason === '') return undefined;
  if (reason.length > MAX_REASON_LENGTH) fail(name, `The reason is too long (${reason.length} characters; at most ${MAX_REASON_LENGTH}).`);
  return reason;
}

function parseTrainNumber(name: CommandName, raw: string): number {
  const m = /^#?(\d+)$/.exec(raw);
  if (!m) fail(name, `\`${raw}\` is not a train number: use a positive whole number, e.g. \`12\` or \`#12\`.`);
  return positiveInt(name, m[1]!, raw, MAX_TRAIN_NUMBER, 'train number');
}

function positiveInt(name: CommandName, digits: string, raw: string, max: number, what: string): number {
  const n = Number(digits);
  if (n < 1) fail(name, `\`${raw}\` is not a valid ${what}: it must be a positive whole number.`);
  if (n > max) fail(name, `\`${raw}\` is too large for a ${what} (at most ${max}).`);
  return n;
}

function parseHistoryLimit(raw: string): number {
  if (!/^\d+$/.test(raw)) fail('history', `\`${raw}\` is not a number of entries: use a whole number from 1 to ${MAX_HISTORY_LIMIT}.`);
  const n = Number(raw);
  if (n < 1 || n > MAX_HISTORY_LIMIT) fail('history', `\`${raw}\` is out of range: show from 1 to ${MAX_HISTORY_LIMIT} entries.`);
  return n;
}

function parseReopen(args: string[]): Command {
  // A leading `#12` or `12` is the train; everything else is the reason.
  const first = args[0];
  if (first !== undefined && /^#|^\d+$/.test(first)) {
    const train = parseTrainNumber('reopen', first);
    const reason = parseReason('reopen', args.slice(1));
    return reason === undefined ? { name: 'reopen', train } : { name: 'reopen', train, reason };
  }
  const reason = parseReason('reopen', args);
  return reason === undefined ? { name: 'reopen' } : { name: 'reopen', reason };
}

const SLACK_MENTION = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/i;
const SLACK_MAILTO = /^<mailto:([^|>\s]+)(?:\|[^>]*)?>$/i;
const EMAIL = /^@?([^\s@<>|]+@[^\s@<>|]+\.[^\s@<>|]+)$/;

function parseEngineerTarget(args: string[]): EngineerTarget {
  const raw = args.join(' ');
  if (raw === '') fail('engineer', '`engineer` needs `me`, a Slack mention or an email.');
  if (raw.toLowerCase() === 'me') return { kind: 'me' };
  const mention = SLACK_MENTION.exec(raw);
  if (mention) return { kind: 'slack', userId: mention[1]!.toUpperCase() };
  const mailto = SLACK_MAILTO.exec(raw);
  const email = EMAIL.exec(mailto ? mailto[1]! : raw);
  if (email) {
    const checked = checkEmail(email[1]!);
    if (!checked.ok) fail('engineer', `That is not an email Conductor accepts: ${checked.reason}.`);
    return { kind: 'email', email: checked.email };
  }
  if (/^@\S+$/.test(raw)) {
    fail('engineer', `\`${raw}\` is not a Slack mention Conductor can resolve: pick the person from Slack's autocomplete, or give their email.`);
  }
  fail('engineer', `\`${raw}\` is not \`me\`, a Slack mention or an email.`);
}

// ---------------------------------------------------------------- autotime

function parseAutotime(args: string[]): Command {
  const action = args[0]?.toLowerCase();
  switch (action) {
    case undefined:
    case 'show':
      noArgsAfter('autotime', args);
      return { name: 'autotime', action: 'show' };
    case 'clear':
      noArgsAfter('autotime', args);
      return { name: 'autotime', action: 'clear' };
    case 'set': {
      const { windows, timezone } = parseAutoTimeWindows(args.slice(1).join(' '));
      return timezone === undefined ? { name: 'autotime', action: 'set', windows } : { name: 'autotime', action: 'set', windows, timezone };
    }
    default:
      fail('autotime', `Unknown \`autotime\` action \`${args[0]}\`: use \`show\`, \`set\` or \`clear\`.`);
  }
}

function noArgsAfter(name: CommandName, args: string[]): void {
  if (args.length > 1) fail(name, `\`${name} ${args[0]!.toLowerCase()}\` takes no arguments (got \`${args.slice(1).join(' ')}\`).`);
}

const TIME_RANGE = /(\d+:\d+)\s*[-–—]\s*(\d+:\d+)/;

/**
 * Parses `<days> <HH:MM-HH:MM>[; <days> <HH:MM-HH:MM>…] [timezone]`.
 * The optional time zone comes once, at the very end (after the last window,
 * or as a last `;`-separated part of its own), and applies to all windows.
 */
function parseAutoTimeWindows(text: string): { windows: AutoTimeWindow[]; timezone?: string } {
  const segments = text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (segments.length === 0) {
    fail('autotime', '`autotime set` needs days and a time range, e.g. `autotime set mon-fri 09:00-17:00`.');
  }
  const windows: AutoTimeWindow[] = [];
  let timezone: string | undefined;
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    const m = TIME_RANGE.exec(segment);
    if (!m) {
      if (last && windows.length > 0 && !/\s/.test(segment)) {
        timezone = parseTimeZone(segment);
        return;
      }
      fail('autotime', `\`${segment}\` has no time range: write it as \`HH:MM-HH:MM\`, e.g. \`mon-fri 09:00-17:00\`.`);
    }
    const daysText = segment.slice(0, m.index).trim();
    const tail = segment.slice(m.index + m[0].length).trim();
    if (daysText === '') fail('autotime', `\`${segment}\` has no days: put them before the times, e.g. \`mon-fri ${m[0]}\`.`);
    const days = parseDays(daysText);
    const start = parseTime(m[1]!, 'start');
    const end = parseTime(m[2]!, 'end');
    if (start === end) fail('autotime', `\`${m[0]}\` starts and ends at the same time: a window must not be empty.`);
    windows.push({ days, start, end });
    if (tail !== '') {
      if (!last) fail('autotime', `Unexpected \`${tail}\` in \`${segment}\`: a time zone may only come at the very end.`);
      if (/\s/.test(tail)) fail('autotime', `Unexpected \`${tail}\` after \`${m[0]}\`: only one time zone may follow the last window.`);
      timezone = parseTimeZone(tail);
    }
  });
  return timezone === undefined ? { windows } : { windows, timezone };
}

function parseTime(raw: string, role: 'start' | 'end'): string {
  const m = /^(\d{1,2}):(\d{2})$/.exec(raw);
  const hours = m ? Number(m[1]) : NaN;
  const minutes = m ? Number(m[2]) : NaN;
  if (m && hours === 24 && minutes === 0) {
    if (role === 'end') return '24:00';
    fail('autotime', '`24:00` can only end a window (it is the end of the day); start at `00:00` instead.');
  }
  if (!m || hours > 23 || minutes > 59) {
    fail('autotime', `\`${raw}\` is not a time: use 24-hour \`HH:MM\` from \`00:00\` to \`23:59\` (\`24:00\` may end a window).`);
  }
  return `${String(hours).padStart(2, '0')}:${m[2]}`;
}

const DAYS_HELP = 'use `mon` … `sun`, ranges like `mon-fri` or `fri-mon`, lists like `mon,wed,fri`, or `daily`, `weekdays`, `weekends`';

/**
 * Parses a days expression: comma- or space-separated items, each a day, a
 * range `a-b` (wrapping past Sunday when b comes before a: `fri-mon` is
 * fri, sat, sun, mon) or a group (`daily`, `everyday`, `weekdays`, `weekends`).
 * Returns the distinct days in week order (mon … sun).
 */
function parseDays(text: string): Weekday[] {
  const days = parseDayItems([text]);
  if ('empty' in days) fail('autotime', `No days given: ${DAYS_HELP}.`);
  if ('unknown' in days) fail('autotime', `Unknown days \`${days.unknown}\`: ${DAYS_HELP}.`);
  return days;
}

/**
 * Validates an IANA time zone name with Intl (pure). The name is returned in
 * its canonical spelling when it differs only by case (`europe/paris` →
 * `Europe/Paris`); other accepted aliases are kept as typed.
 */
function parseTimeZone(raw: string): string {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat(undefined, { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    fail('autotime', `Unknown time zone \`${raw}\`: use an IANA name such as \`Europe/Paris\`, \`America/New_York\` or \`UTC\`.`);
  }
  return resolved.toLowerCase() === raw.toLowerCase() ? resolved : raw;
}

// ---------------------------------------------------------------- freeze

function parseFreeze(args: string[]): Command {
  const action = args[0]?.toLowerCase();
  switch (action) {
    case undefined:
    case 'list':
      noArgsAfter('freeze', args);
      return { name: 'freeze', action: 'list' };
    case 'add':
    case 'remove': {
      const raw = args[1];
      if (raw === undefined) fail('freeze', `\`freeze ${action}\` needs a date as \`YYYY-MM-DD\`, e.g. \`freeze ${action} 2025-12-24\`.`);
      if (args.length > 2) fail('freeze', `Unexpected \`${args.slice(2).join(' ')}\`: give one date at a time.`);
      return { name: 'freeze', action, date: parseDate(raw) };
    }
    default:
      fail('freeze', `Unknown \`freeze\` action \`${args[0]}\`: use \`list\`, \`add\` or \`remove\`.`);
  }
}

/** A `YYYY-MM-DD` that is a real (proleptic Gregorian) calendar date. */
function parseDate(raw: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (!m) fail('freeze', `\`${raw}\` is not a date: use \`YYYY-MM-DD\`, e.g. \`2025-12-24\`.`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (daysInMonth === undefined || day < 1 || day > daysInMonth) {
    fail('freeze', `\`${raw}\` is not a calendar date.`);
  }
  return raw;
}
