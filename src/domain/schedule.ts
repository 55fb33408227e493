/**
 * Auto-time and freeze math (behaviour.md §1, §2 rules 3-4, §5 `autoTime`/`freeze`).
 *
 * PURE: every function takes the instant it reasons about; nothing reads the
 * clock. Wall-clock time in the line's IANA zone comes from Intl.DateTimeFormat.
 *
 * How we think about time here: an instant `t` (UTC ms) has a *wall time*
 * `t + offset(t)`, which we store as a "wall ms" number and read with the
 * getUTC* accessors. Windows and freeze dates are rules about wall time only,
 * so DST needs no special case when asking "is this instant inside?":
 * - spring forward: wall times in the gap never happen; a window starting in
 *   the gap opens at the first instant after it (its wall time is inside);
 * - fall back: the repeated hour is inside both times if its wall time is.
 */
import { type AutoTimeWindow, WEEKDAYS, type Weekday } from './time.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;
/** UTC offsets in use range from -12:00 to +14:00: a bound for "which instant starts this local day". */
const MAX_OFFSET_MS = 14 * 3_600_000;

// ---------------------------------------------------------------------------
// Validation and parsing
// ---------------------------------------------------------------------------

const HHMM = /^(\d{2}):(\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `HH:MM` → minutes since midnight (`24:00` → 1440 only when `allowEndOfDay`), or null. */
export function parseTime(s: string, allowEndOfDay = false): number | null {
  const m = HHMM.exec(s);
  if (!m) return null;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (allowEndOfDay && hours === 24 && minutes === 0) return MINUTES_PER_DAY;
  if (hours > 23 || minutes > 59) return null;
  return hours * 60 + minutes;
}

/** True for a zone Intl knows (e.g. `Europe/Paris`, `UTC`). */
export function isValidTimezone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** True for a real calendar date written `YYYY-MM-DD` (no 2026-02-30). */
export function isValidDate(s: string): boolean {
  return parseDateToDay(s) !== null;
}

/** Null when the window is usable; otherwise a sentence a user can act on. */
export function validateWindow(w: AutoTimeWindow): string | null {
  if (!Array.isArray(w.days) || w.days.length === 0) {
    return 'An auto-time window needs at least one day (mon, tue, wed, thu, fri, sat, sun).';
  }
  const unknown = w.days.filter((d) => !(WEEKDAYS as readonly string[]).includes(d));
  if (unknown.length > 0) {
    return `Unknown day "${unknown[0]}": use mon, tue, wed, thu, fri, sat or sun.`;
  }
  const start = parseTime(w.start);
  if (start === null) {
    return `Start time "${w.start}" is not a 24-hour time HH:MM between 00:00 and 23:59.`;
  }
  const end = parseTime(w.end, true);
  if (end === null) {
    return `End time "${w.end}" is not a 24-hour time HH:MM between 00:00 and 24:00.`;
  }
  if (start === end) {
    return `The window ${w.start}-${w.end} is empty: the start and the end must differ (use 00:00-24:00 for a whole day).`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Wall-clock time in a zone
// ---------------------------------------------------------------------------

// Building a DateTimeFormat costs far more than using one; keep one per zone.
// This memo is invisible to callers, so the module stays pure in effect.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size > 200) formatters.clear();
    formatters.set(timezone, f);
  }
  return f;
}

/** Offset (wall ms − UTC ms) in force at instant `t`; whole seconds. Throws on an unknown zone. */
function offsetAt(t: number, timezone: string): number {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timezone).formatToParts(t)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const wall = Date.UTC(fields.year ?? 1970, (fields.month ?? 1) - 1, fields.day ?? 1, fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0);
  return wall - Math.floor(t / 1000) * 1000;
}

function wallMs(t: number, timezone: string): number {
  return t + offsetAt(t, timezone);
}

/** Days since 1970-01-01 of a wall time. */
function dayOf(wall: number): number {
  return Math.floor(wall / DAY_MS);
}

/** 0 = mon … 6 = sun, matching WEEKDAYS. 1970-01-01 was a Thursday. */
function weekdayIndex(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

function dayToIso(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function parseDateToDay(s: string): number | null {
  const m = typeof s === 'string' ? ISO_DATE.exec(s) : null;
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  // Date.UTC rolls 02-30 over to 03-02: a round trip catches impossible dates.
  return dayToIso(ms / DAY_MS) === s ? ms / DAY_MS : null;
}

/** The calendar date (`YYYY-MM-DD`) of `at` in `timezone`. */
export function localDate(at: Date, timezone: string): string {
  return dayToIso(dayOf(wallMs(at.getTime(), timezone)));
}

// ---------------------------------------------------------------------------
// The weekly pattern: windows compiled into inside-intervals per weekday
// ---------------------------------------------------------------------------

/** [start, end) in minutes of one local day. */
type Interval = readonly [number, number];

interface WeeklyPattern {
  /** Merged, sorted inside-intervals for each weekday (0 = mon). */
  inside: Interval[][];
  /** Minutes of each weekday at which the state may change: midnight plus every interval edge. */
  boundaries: number[][];
  /** 'never': no window at all; 'always': the windows cover the whole week. */
  kind: 'never' | 'always' | 'some';
}

/**
 * Splits every window into same-day pieces: `fri 22:00-02:00` becomes
 * fri [22:00, 24:00) and sat [00:00, 02:00). Invalid windows are skipped
 * (config and commands validate them before they get here).
 */
function compile(windows: AutoTimeWindow[]): WeeklyPattern {
  const pieces: Interval[][] = WEEKDAYS.map(() => []);
  for (const w of windows) {
    if (validateWindow(w) !== null) continue;
    const start = parseTime(w.start) as number;
    const end = parseTime(w.end, true) as number;
    for (const day of new Set(w.days)) {
      const i = WEEKDAYS.indexOf(day);
      if (end > start) {
        pieces[i]!.push([start, end]);
      } else {
        pieces[i]!.push([start, MINUTES_PER_DAY]);
        if (end > 0) pieces[(i + 1) % 7]!.push([0, end]);
      }
    }
  }
  const inside = pieces.map(merge);
  const boundaries = inside.map((intervals) => {
    const edges = new Set<number>([0]);
    for (const [s, e] of intervals) {
      edges.add(s);
      if (e < MINUTES_PER_DAY) edges.add(e); // 24:00 is the next day's 00:00
    }
    return [...edges].sort((a, b) => a - b);
  });
  const whole = (d: Interval[]) => d.length === 1 && d[0]![0] === 0 && d[0]![1] === MINUTES_PER_DAY;
  const kind = inside.every((d) => d.length === 0) ? 'never' : inside.every(whole) ? 'always' : 'some';
  return { inside, boundaries, kind };
}

/** Sorts and joins overlapping or touching intervals. */
function merge(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

function freezeDays(freezes: string[]): Set<number> {
  const days = new Set<number>();
  for (const f of freezes) {
    const day = parseDateToDay(f);
    if (day !== null) days.add(day);
  }
  return days;
}

/** The whole rule, on a wall time: not a freeze date, and inside a window of that weekday. */
function insideAtWall(wall: number, pattern: WeeklyPattern, frozen: Set<number>): boolean {
  const day = dayOf(wall);
  if (frozen.has(day)) return false;
  const minute = Math.floor((wall - day * DAY_MS) / MINUTE_MS);
  return pattern.inside[weekdayIndex(day)]!.some(([s, e]) => s <= minute && minute < e);
}

// ---------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------

/** True when `at` falls on a freeze date in the line's zone (whatever window it is in). */
export function isFrozen(at: Date, freezes: string[], timezone: string): boolean {
  return freezeDays(freezes).has(dayOf(wallMs(at.getTime(), timezone)));
}

/** True when trains may start by themselves at `at` (rule 3): inside a window, not on a freeze date. */
export function isInAutoTime(at: Date, windows: AutoTimeWindow[], freezes: string[], timezone: string): boolean {
  if (windows.length === 0) return false;
  return insideAtWall(wallMs(at.getTime(), timezone), compile(windows), freezeDays(freezes));
}

/**
 * The state at `at` and the next instant after `at` at which it flips
 * (null: it never does — no windows, or windows covering the whole week with
 * no freeze ahead). Exact to the minute of wall time and to the second of a
 * clock change.
 */
export function nextAutoTimeChange(at: Date, windows: AutoTimeWindow[], freezes: string[], timezone: string): { inAutoTime: boolean; next: Date | null } {
  const t0 = at.getTime();
  const pattern = compile(windows);
  if (pattern.kind === 'never') return { inAutoTime: false, next: null };

  const frozen = freezeDays(freezes);
  const today = dayOf(wallMs(t0, timezone));
  const inAutoTime = insideAtWall(wallMs(t0, timezone), pattern, frozen);

  let from: number;
  let until: number;
  if (pattern.kind === 'always') {
    // Only freeze dates matter: jump to the day before the first date whose
    // freeze status differs from today's, and let the scanner find its start.
    const target = inAutoTime ? nextFreeze(frozen, today) : nextUnfrozen(frozen, today);
    if (target === null) return { inAutoTime, next: null };
    from = Math.max(t0, (target - 1) * DAY_MS - MAX_OFFSET_MS);
    until = from + 3 * DAY_MS;
  } else {
    // With a mixed week the state flips within 8 days unless freeze dates
    // keep hiding the window: each future freeze can cost at most one more
    // week, and one more week covers a window lost in a DST gap.
    const futureFreezes = [...frozen].filter((d) => d >= today).length;
    from = t0;
    until = t0 + (7 * (futureFreezes + 2) + 1) * DAY_MS;
  }
  const next = scanForFlip(from, until, inAutoTime, pattern, frozen, timezone);
  return { inAutoTime, next: next === null ? null : new Date(next) };
}

function nextFreeze(frozen: Set<number>, today: number): number | null {
  let best: number | null = null;
  for (const d of frozen) if (d > today && (best === null || d < best)) best = d;
  return best;
}

function nextUnfrozen(frozen: Set<number>, today: number): number {
  let d = today + 1;
  while (frozen.has(d)) d++;
  return d;
}

/**
 * First instant in (from, until) where the state differs from `current`.
 * Walks a day at a time; within a stretch of constant UTC offset wall time is
 * linear, so the state can only change at a boundary minute of a window (or
 * midnight), and we test just those. A clock change inside a day is located by
 * bisection and tested too, as the wall time jumps there.
 * Assumes at most one clock change per day, which holds for real zones.
 */
function scanForFlip(from: number, until: number, current: boolean, pattern: WeeklyPattern, frozen: Set<number>, timezone: string): number | null {
  let lo = from;
  let offset = offsetAt(lo, timezone);
  while (lo < until) {
    const hi = Math.min(lo + DAY_MS, until);
    const offsetHi = offsetAt(hi, timezone);
    if (offsetHi === offset) {
      const flip = firstFlipAtBoundary(lo, hi, true, offset, current, pattern, frozen);
      if (flip !== null) return flip;
      lo = hi;
      continue;
    }
    const change = findClockChange(lo, hi, offset, timezone);
    const flip = firstFlipAtBoundary(lo, change, false, offset, current, pattern, frozen);
    if (flip !== null) return flip;
    offset = offsetAt(change, timezone);
    if (insideAtWall(change + offset, pattern, frozen) !== current) return change;
    lo = change;
  }
  return null;
}

/** Boundary instants in (lo, hi) — or (lo, hi] with `includeHi` — where the state is not `current`. */
function firstFlipAtBoundary(lo: number, hi: number, includeHi: boolean, offset: number, current: boolean, pattern: WeeklyPattern, frozen: Set<number>): number | null {
  const wallLo = lo + offset;
  const wallHi = hi + offset;
  for (let day = dayOf(wallLo); day * DAY_MS <= wallHi; day++) {
    for (const minute of pattern.boundaries[weekdayIndex(day)]!) {
      const wall = day * DAY_MS + minute * MINUTE_MS;
      if (wall <= wallLo) continue;
      if (wall > wallHi || (wall === wallHi && !includeHi)) return null;
      if (insideAtWall(wall, pattern, frozen) !== current) return wall - offset;
    }
  }
  return null;
}

/** The first whole second in (lo, hi] whose offset is not `offset`; offset(hi) must differ. */
function findClockChange(lo: number, hi: number, offset: number, timezone: string): number {
  let a = Math.floor(lo / 1000); // offset(a) === offset
  let b = Math.ceil(hi / 1000); // offset(b) !== offset
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (offsetAt(mid * 1000, timezone) === offset) a = mid;
    else b = mid;
  }
  return b * 1000;
}

// ---------------------------------------------------------------------------
// Sentences for users
// ---------------------------------------------------------------------------

/** `mon-fri`, `sat,sun`, `mon,wed,fri` — runs of three or more days become ranges. */
export function formatDays(days: Weekday[]): string {
  const idx = [...new Set(days)]
    .map((d) => WEEKDAYS.indexOf(d))
    .filter((i) => i >= 0)
    .sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1] === idx[j]! + 1) j++;
    const run = idx.slice(i, j + 1).map((k) => WEEKDAYS[k]!);
    parts.push(run.length >= 3 ? `${run[0]}-${run[run.length - 1]}` : run.join(','));
    i = j + 1;
  }
  return parts.join(',');
}

/** "mon-fri 09:00-17:00, sun 22:00-02:00 (Europe/Paris)". */
export function describeWindows(windows: AutoTimeWindow[], timezone: string): string {
  if (windows.length === 0) return 'never (no auto-time windows)';
  const list = windows.map((w) => `${formatDays(w.days)} ${w.start}-${w.end}`).join(', ');
  return `${list} (${timezone})`;
}

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** "Mon 09:00" within the coming week, "Mon 2027-01-04 09:00" further away. */
function formatWhen(instant: Date, now: Date, timezone: string): string {
  const wall = wallMs(instant.getTime(), timezone);
  const day = dayOf(wall);
  const minute = Math.floor((wall - day * DAY_MS) / MINUTE_MS);
  const hhmm = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  const name = DAY_NAMES[weekdayIndex(day)]!;
  const daysAhead = day - dayOf(wallMs(now.getTime(), timezone));
  return daysAhead < 7 ? `${name} ${hhmm}` : `${name} ${dayToIso(day)} ${hhmm}`;
}

/**
 * One short sentence on auto-time at `at`, for "why nothing is moving":
 * "outside auto-time; the next window opens Mon 09:00 (Europe/Paris)",
 * "today (2026-12-24) is a freeze date; auto-time resumes Mon 09:00 (Europe/Paris)",
 * "inside auto-time until Fri 17:00 (Europe/Paris)".
 */
export function describeAutoTime(at: Date, windows: AutoTimeWindow[], freezes: string[], timezone: string): string {
  if (compile(windows).kind === 'never') return 'no auto-time windows are set, so trains start only by hand';
  const { inAutoTime, next } = nextAutoTimeChange(at, windows, freezes, timezone);
  const when = next ? `${formatWhen(next, at, timezone)} (${timezone})` : null;
  if (inAutoTime) return when ? `inside auto-time until ${when}` : 'inside auto-time (the windows cover the whole week)';
  if (isFrozen(at, freezes, timezone)) {
    const today = `today (${localDate(at, timezone)}) is a freeze date`;
    return when ? `${today}; auto-time resumes ${when}` : today;
  }
  return when ? `outside auto-time; the next window opens ${when}` : 'outside auto-time';
}

/**
 * Auto-time as a week grid (the Web App's line page): for each weekday
 * (0 = mon) and each hour of the line's timezone, how much of the hour lies
 * inside a window. Freeze dates are dates, not weekdays: they are not in it.
 */
export function autoTimeWeekGrid(windows: AutoTimeWindow[]): ('in' | 'part' | 'out')[][] {
  const { inside } = compile(windows);
  return inside.map((intervals) =>
    Array.from({ length: 24 }, (_, h) => {
      const from = h * 60;
      const to = from + 60;
      const covered = intervals.reduce((sum, [s, e]) => sum + Math.max(0, Math.min(e, to) - Math.max(s, from)), 0);
      return covered >= 60 ? 'in' : covered > 0 ? 'part' : 'out';
    }),
  );
}
