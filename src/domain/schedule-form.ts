/**
 * The Web App's schedule editor (docs/behaviour.md §7) as pure functions: the
 * auto-time windows as rows per weekday (what the form shows), and a submitted
 * form turned into the `/conductor` command text that Slack admins type. The
 * command then goes through the one command path (parser, rules, audit), so
 * the web has no rules of its own; this module only refuses what could not be
 * written as a command (a half-filled row, a value that is not shaped like a
 * time), so nothing a person types can add words to the command.
 */
import { type AutoTimeWindow, WEEKDAYS, type Weekday } from './time.js';

export interface WindowRow {
  start: string;
  end: string;
}

/** A form field by name (URLSearchParams.get, or a plain record's lookup). */
export type FormValue = (name: string) => string | null | undefined;

export type FormCommand = { ok: true; text: string } | { ok: false; error: string };

/** The most rows a day may send (the page shows a day's windows plus two empty rows; "Add a window" stops here). */
export const MAX_ROWS_PER_DAY = 48;

const DAY_NAMES: Record<Weekday, string> = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

/** `mon` → `Monday`. */
export const dayName = (d: Weekday): string => DAY_NAMES[d];

/** The field names of one row, e.g. `mon-0-start`. */
export const rowField = (day: Weekday, i: number, part: 'start' | 'end'): string => `${day}-${i}-${part}`;

/**
 * Each weekday's windows, in the order they were configured: a window of
 * several days appears under each of them; one that crosses midnight is listed
 * under the day it starts (the grid draws it on both days).
 */
export function rowsByDay(windows: AutoTimeWindow[]): Record<Weekday, WindowRow[]> {
  const rows = Object.fromEntries(WEEKDAYS.map((d) => [d, [] as WindowRow[]])) as Record<Weekday, WindowRow[]>;
  for (const w of windows) for (const d of WEEKDAYS) if (w.days.includes(d)) rows[d].push({ start: w.start, end: w.end });
  return rows;
}

// A time as the form sends it; the parser then checks the range (25:00, 24:30) with its own words.
const TIME_SHAPE = /^\d{1,2}:\d{2}$/;
// An IANA name's characters; the parser then checks that the zone exists.
const ZONE_SHAPE = /^[A-Za-z0-9_+\-/]{1,64}$/;
const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

const notATime = (raw: string) => `\`${raw.slice(0, 20)}\` is not a time: use 24-hour \`HH:MM\` from \`00:00\` to \`23:59\` (\`24:00\` may end a window).`;

/**
 * The command for a submitted editor form: field `do` says which form it was.
 * - `autotime`: rows `<day>-<i>-start` / `<day>-<i>-end` (and an optional
 *   `timezone`) → `autotime set <days> <HH:MM-HH:MM>; … [timezone]`, windows with
 *   the same times grouped over their days; every row empty → `autotime clear`.
 * - `freeze-add` / `freeze-remove` with `date` → `freeze add|remove YYYY-MM-DD`.
 */
export function scheduleCommand(field: FormValue): FormCommand {
  const what = field('do');
  if (what === 'freeze-add' || what === 'freeze-remove') {
    const date = (field('date') ?? '').trim();
    if (date === '') return { ok: false, error: 'Choose a date first.' };
    if (!DATE_SHAPE.test(date)) return { ok: false, error: `\`${date.slice(0, 20)}\` is not a date: use \`YYYY-MM-DD\`, e.g. \`2025-12-24\`.` };
    return { ok: true, text: `freeze ${what === 'freeze-add' ? 'add' : 'remove'} ${date}` };
  }
  if (what !== 'autotime') return { ok: false, error: 'The form did not say what to change.' };

  // Times → the days that have them, in the order first seen (Monday first).
  const groups = new Map<string, Weekday[]>();
  for (const day of WEEKDAYS) {
    for (let i = 0; i < MAX_ROWS_PER_DAY; i++) {
      const start = (field(rowField(day, i, 'start')) ?? '').trim();
      const end = (field(rowField(day, i, 'end')) ?? '').trim();
      if (start === '' && end === '') continue;
      const which = `${dayName(day)}'s window ${i + 1}`;
      if (start === '') return { ok: false, error: `${which} has an end (${end.slice(0, 20)}) but no start: give both times, or clear both to remove the window.` };
      if (end === '') return { ok: false, error: `${which} has a start (${start.slice(0, 20)}) but no end: give both times, or clear both to remove the window.` };
      for (const t of [start, end]) if (!TIME_SHAPE.test(t)) return { ok: false, error: `${which}: ${notATime(t)}` };
      const key = `${start}-${end}`;
      const days = groups.get(key) ?? [];
      if (!days.includes(day)) days.push(day);
      groups.set(key, days);
    }
  }
  if (groups.size === 0) return { ok: true, text: 'autotime clear' };
  const zone = (field('timezone') ?? '').trim();
  if (zone !== '' && !ZONE_SHAPE.test(zone))
    return { ok: false, error: `\`${zone.slice(0, 64)}\` is not a time zone: use an IANA name such as \`Europe/Paris\`, \`America/New_York\` or \`UTC\`.` };
  const windows = [...groups].map(([times, days]) => `${days.join(',')} ${times}`).join('; ');
  return { ok: true, text: `autotime set ${windows}${zone ? ` ${zone}` : ''}` };
}

/** The rows a form sent, as typed (to show them again with what is wrong), non-empty rows only. */
export function rowsFromForm(field: FormValue): Record<Weekday, WindowRow[]> {
  const rows = Object.fromEntries(WEEKDAYS.map((d) => [d, [] as WindowRow[]])) as Record<Weekday, WindowRow[]>;
  for (const day of WEEKDAYS) {
    for (let i = 0; i < MAX_ROWS_PER_DAY; i++) {
      const start = (field(rowField(day, i, 'start')) ?? '').trim().slice(0, 20);
      const end = (field(rowField(day, i, 'end')) ?? '').trim().slice(0, 20);
      if (start !== '' || end !== '') rows[day].push({ start, end });
    }
  }
  return rows;
}
