/** Days of the week as written in the config file and in `/conductor autotime`. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A weekly window in the line's time zone in which trains start by themselves.
 * `start` and `end` are 24-hour `HH:MM`; `end` may be `24:00` (end of the day).
 * The window includes its start and excludes its end; an end before the start
 * crosses midnight (the window opens on each listed day and closes the next day).
 */
export interface AutoTimeWindow {
  days: Weekday[];
  start: string;
  end: string;
}

const DAY_NAMES = new Map<string, Weekday>([
  ['mon', 'mon'],
  ['monday', 'mon'],
  ['tue', 'tue'],
  ['tues', 'tue'],
  ['tuesday', 'tue'],
  ['wed', 'wed'],
  ['weds', 'wed'],
  ['wednesday', 'wed'],
  ['thu', 'thu'],
  ['thur', 'thu'],
  ['thurs', 'thu'],
  ['thursday', 'thu'],
  ['fri', 'fri'],
  ['friday', 'fri'],
  ['sat', 'sat'],
  ['saturday', 'sat'],
  ['sun', 'sun'],
  ['sunday', 'sun'],
]);

const DAY_GROUPS = new Map<string, readonly Weekday[]>([
  ['daily', WEEKDAYS],
  ['everyday', WEEKDAYS],
  ['weekdays', ['mon', 'tue', 'wed', 'thu', 'fri']],
  ['weekday', ['mon', 'tue', 'wed', 'thu', 'fri']],
  ['weekends', ['sat', 'sun']],
  ['weekend', ['sat', 'sun']],
]);

/**
 * The one days grammar of the config file and `/conductor autotime set`:
 * items separated by commas or spaces, each a day (`mon`, `monday`…), a range
 * `a-b` (wrapping past Sunday: `fri-mon` is fri, sat, sun, mon) or a group
 * (`daily`, `everyday`, `weekdays`, `weekends`). Returns the distinct days in
 * week order, `{ empty: true }` when nothing was given, or the first unknown item.
 */
export function parseDayItems(items: string[]): Weekday[] | { empty: true } | { unknown: string } {
  const words = items.flatMap((s) => s.toLowerCase().split(/[\s,]+/)).filter((s) => s !== '');
  if (words.length === 0) return { empty: true };
  const chosen = new Set<Weekday>();
  for (const word of words) {
    const group = DAY_GROUPS.get(word);
    if (group) {
      group.forEach((d) => chosen.add(d));
      continue;
    }
    const single = DAY_NAMES.get(word);
    if (single) {
      chosen.add(single);
      continue;
    }
    const range = /^([a-z]+)[-–—]([a-z]+)$/.exec(word);
    const from = range ? DAY_NAMES.get(range[1]!) : undefined;
    const to = range ? DAY_NAMES.get(range[2]!) : undefined;
    if (!from || !to) return { unknown: word };
    let i = WEEKDAYS.indexOf(from);
    const stop = WEEKDAYS.indexOf(to);
    chosen.add(WEEKDAYS[i]!);
    while (i !== stop) {
      i = (i + 1) % WEEKDAYS.length;
      chosen.add(WEEKDAYS[i]!);
    }
  }
  return WEEKDAYS.filter((d) => chosen.has(d));
}
