import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeAutoTime,
  describeWindows,
  formatDays,
  isFrozen,
  isInAutoTime,
  isValidDate,
  isValidTimezone,
  localDate,
  nextAutoTimeChange,
  validateWindow,
} from '../../src/domain/schedule.js';
import { type AutoTimeWindow, WEEKDAYS, type Weekday } from '../../src/domain/time.js';

// Calendar used below (2026): Mon 01-05 … Fri 01-09, Sat 01-10, Sun 01-11.
// DST: Europe/Paris springs forward Sun 03-29 at 01:00Z (02:00 CET → 03:00 CEST)
// and falls back Sun 10-25 at 01:00Z (03:00 CEST → 02:00 CET); America/New_York
// springs forward Sun 03-08 at 07:00Z and falls back Sun 11-01 at 06:00Z.

const WEEKDAYS_MF: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
const ALL_DAYS: Weekday[] = [...WEEKDAYS];
const win = (days: Weekday[], start: string, end: string): AutoTimeWindow => ({ days, start, end });
const OFFICE = win(WEEKDAYS_MF, '09:00', '17:00');
const FRI_NIGHT = win(['fri'], '22:00', '02:00');
const ALWAYS = win(ALL_DAYS, '00:00', '24:00');
const d = (iso: string) => new Date(iso);

type InsideCase = [label: string, at: string, windows: AutoTimeWindow[], freezes: string[], tz: string, expected: boolean];

function insideTable(cases: InsideCase[]) {
  it.each(cases)('%s', (_label, at, windows, freezes, tz, expected) => {
    expect(isInAutoTime(d(at), windows, freezes, tz)).toBe(expected);
  });
}

describe('isInAutoTime: plain windows', () => {
  insideTable([
    ['Mon 09:00 is inside (start included)', '2026-01-05T09:00:00Z', [OFFICE], [], 'UTC', true],
    ['Mon 08:59:59 is outside', '2026-01-05T08:59:59Z', [OFFICE], [], 'UTC', false],
    ['Mon 16:59:59 is inside', '2026-01-05T16:59:59Z', [OFFICE], [], 'UTC', true],
    ['Mon 17:00 is outside (end excluded)', '2026-01-05T17:00:00Z', [OFFICE], [], 'UTC', false],
    ['Sat 10:00 is outside (day not listed)', '2026-01-10T10:00:00Z', [OFFICE], [], 'UTC', false],
    ['no windows: never inside', '2026-01-05T10:00:00Z', [], [], 'UTC', false],
    ['24:00 end: Sat 23:59 inside', '2026-01-10T23:59:00Z', [win(['sat'], '20:00', '24:00')], [], 'UTC', true],
    ['24:00 end: Sun 00:00 outside', '2026-01-11T00:00:00Z', [win(['sat'], '20:00', '24:00')], [], 'UTC', false],
    ['24:00 end: Sat 19:59 outside', '2026-01-10T19:59:00Z', [win(['sat'], '20:00', '24:00')], [], 'UTC', false],
    ['whole day 00:00-24:00: Sun 00:00 inside', '2026-01-11T00:00:00Z', [win(['sun'], '00:00', '24:00')], [], 'UTC', true],
    ['whole day 00:00-24:00: Mon 00:00 outside', '2026-01-12T00:00:00Z', [win(['sun'], '00:00', '24:00')], [], 'UTC', false],
    ['00:00 end means until midnight: Mon 23:00 inside', '2026-01-05T23:00:00Z', [win(['mon'], '18:00', '00:00')], [], 'UTC', true],
    ['00:00 end means until midnight: Tue 00:00 outside', '2026-01-06T00:00:00Z', [win(['mon'], '18:00', '00:00')], [], 'UTC', false],
  ]);
});

describe('isInAutoTime: windows crossing midnight', () => {
  insideTable([
    ['Fri 21:59 before the start', '2026-01-09T21:59:00Z', [FRI_NIGHT], [], 'UTC', false],
    ['Fri 22:00 at the start', '2026-01-09T22:00:00Z', [FRI_NIGHT], [], 'UTC', true],
    ['Fri 23:59 before midnight', '2026-01-09T23:59:00Z', [FRI_NIGHT], [], 'UTC', true],
    ['Sat 00:00 at midnight', '2026-01-10T00:00:00Z', [FRI_NIGHT], [], 'UTC', true],
    ['Sat 01:59 after midnight', '2026-01-10T01:59:00Z', [FRI_NIGHT], [], 'UTC', true],
    ['Sat 02:00 at the end', '2026-01-10T02:00:00Z', [FRI_NIGHT], [], 'UTC', false],
    ['Sat 22:00 (sat not listed)', '2026-01-10T22:00:00Z', [FRI_NIGHT], [], 'UTC', false],
    ['Sun 01:00 (the day after unlisted sat)', '2026-01-11T01:00:00Z', [FRI_NIGHT], [], 'UTC', false],
    ['Fri 01:00 (the day after unlisted thu)', '2026-01-09T01:00:00Z', [FRI_NIGHT], [], 'UTC', false],
    ['sun 22:00-02:00 covers Mon 01:00', '2026-01-05T01:00:00Z', [win(['sun'], '22:00', '02:00')], [], 'UTC', true],
  ]);
});

describe('isInAutoTime: several windows', () => {
  const windows = [win(WEEKDAYS_MF, '09:00', '12:00'), win(WEEKDAYS_MF, '14:00', '17:00'), win(['sun'], '22:00', '02:00')];
  insideTable([
    ['Mon 10:00 in the morning window', '2026-01-05T10:00:00Z', windows, [], 'UTC', true],
    ['Mon 13:00 between windows', '2026-01-05T13:00:00Z', windows, [], 'UTC', false],
    ['Mon 15:00 in the afternoon window', '2026-01-05T15:00:00Z', windows, [], 'UTC', true],
    ['Mon 01:00 in the Sunday-night window', '2026-01-05T01:00:00Z', windows, [], 'UTC', true],
    ['Sun 23:00 in the Sunday-night window', '2026-01-11T23:00:00Z', windows, [], 'UTC', true],
    ['Sun 12:00 in none', '2026-01-11T12:00:00Z', windows, [], 'UTC', false],
  ]);
});

describe('isInAutoTime: freeze dates', () => {
  insideTable([
    ['Wed 10:00 on a freeze date', '2026-01-07T10:00:00Z', [OFFICE], ['2026-01-07'], 'UTC', false],
    ['Tue 10:00 the day before', '2026-01-06T10:00:00Z', [OFFICE], ['2026-01-07'], 'UTC', true],
    ['Thu 10:00 the day after', '2026-01-08T10:00:00Z', [OFFICE], ['2026-01-07'], 'UTC', true],
    ['Fri 23:00 before midnight into a frozen Sat', '2026-01-09T23:00:00Z', [FRI_NIGHT], ['2026-01-10'], 'UTC', true],
    ['Sat 01:00 after-midnight part on a frozen Sat', '2026-01-10T01:00:00Z', [FRI_NIGHT], ['2026-01-10'], 'UTC', false],
    ['frozen Fri: Fri 23:00 is frozen', '2026-01-09T23:00:00Z', [FRI_NIGHT], ['2026-01-09'], 'UTC', false],
    ['frozen Fri: Sat 01:00 is another date', '2026-01-10T01:00:00Z', [FRI_NIGHT], ['2026-01-09'], 'UTC', true],
    ['freeze in LA: 01-10T05:00Z is still 01-09 in LA', '2026-01-10T05:00:00Z', [ALWAYS], ['2026-01-09'], 'America/Los_Angeles', false],
    ['freeze in LA: 01-09T05:00Z is 01-08 in LA', '2026-01-09T05:00:00Z', [ALWAYS], ['2026-01-09'], 'America/Los_Angeles', true],
    ['same instant in UTC is 01-10, not frozen', '2026-01-10T05:00:00Z', [ALWAYS], ['2026-01-09'], 'UTC', true],
    ['malformed freeze entries are ignored', '2026-01-07T10:00:00Z', [OFFICE], ['2026-02-30', 'soon'], 'UTC', true],
  ]);

  it('isFrozen reads the date in the line zone', () => {
    expect(isFrozen(d('2026-01-10T05:00:00Z'), ['2026-01-09'], 'America/Los_Angeles')).toBe(true);
    expect(isFrozen(d('2026-01-10T05:00:00Z'), ['2026-01-09'], 'UTC')).toBe(false);
    expect(isFrozen(d('2026-01-09T20:00:00Z'), ['2026-01-10'], 'Asia/Tokyo')).toBe(true);
    expect(isFrozen(d('2026-01-09T20:00:00Z'), [], 'Asia/Tokyo')).toBe(false);
  });
});

describe('isInAutoTime: time zones', () => {
  // 2026-01-05T18:00Z is Mon 18:00 UTC, Mon 10:00 in LA, Tue 03:00 in Tokyo.
  insideTable([
    ['UTC: Mon 18:00 outside', '2026-01-05T18:00:00Z', [OFFICE], [], 'UTC', false],
    ['LA: Mon 10:00 inside', '2026-01-05T18:00:00Z', [OFFICE], [], 'America/Los_Angeles', true],
    ['Tokyo: Tue 03:00 outside', '2026-01-05T18:00:00Z', [OFFICE], [], 'Asia/Tokyo', false],
    ['Kolkata (+05:30): Mon 09:00 inside', '2026-01-05T03:30:00Z', [OFFICE], [], 'Asia/Kolkata', true],
    ['Kolkata (+05:30): Mon 08:59 outside', '2026-01-05T03:29:00Z', [OFFICE], [], 'Asia/Kolkata', false],
  ]);
});

describe('isInAutoTime: clock changes', () => {
  const sun = (start: string, end: string) => [win(['sun'], start, end)];
  insideTable([
    // Paris spring forward: local 02:00-02:59 does not exist on 2026-03-29.
    ['Paris spring: 01:00-03:00 covers 01:30 CET', '2026-03-29T00:30:00Z', sun('01:00', '03:00'), [], 'Europe/Paris', true],
    ['Paris spring: 01:00-03:00 covers 01:59 CET', '2026-03-29T00:59:00Z', sun('01:00', '03:00'), [], 'Europe/Paris', true],
    ['Paris spring: 01:00-03:00 ends at 03:00 CEST', '2026-03-29T01:00:00Z', sun('01:00', '03:00'), [], 'Europe/Paris', false],
    ['Paris spring: 02:30-04:00 open at 03:00 CEST', '2026-03-29T01:00:00Z', sun('02:30', '04:00'), [], 'Europe/Paris', true],
    ['Paris spring: 02:30-04:00 shut at 01:59 CET', '2026-03-29T00:59:00Z', sun('02:30', '04:00'), [], 'Europe/Paris', false],
    ['Paris spring: 02:00-02:30 lies in the gap', '2026-03-29T01:00:00Z', sun('02:00', '02:30'), [], 'Europe/Paris', false],
    // Paris fall back: local 02:00-02:59 happens twice on 2026-10-25.
    ['Paris fall: 02:00-03:00 at 02:30 CEST', '2026-10-25T00:30:00Z', sun('02:00', '03:00'), [], 'Europe/Paris', true],
    ['Paris fall: 02:00-03:00 at 02:30 CET (again)', '2026-10-25T01:30:00Z', sun('02:00', '03:00'), [], 'Europe/Paris', true],
    ['Paris fall: 02:00-03:00 shut at 03:00 CET', '2026-10-25T02:00:00Z', sun('02:00', '03:00'), [], 'Europe/Paris', false],
    ['Paris fall: 02:00-03:00 shut at 01:59 CEST', '2026-10-24T23:59:00Z', sun('02:00', '03:00'), [], 'Europe/Paris', false],
    // New York spring forward: local 02:00-02:59 does not exist on 2026-03-08.
    ['NY spring: 02:30-04:00 open at 03:00 EDT', '2026-03-08T07:00:00Z', sun('02:30', '04:00'), [], 'America/New_York', true],
    ['NY spring: 02:30-04:00 shut at 01:59 EST', '2026-03-08T06:59:00Z', sun('02:30', '04:00'), [], 'America/New_York', false],
    // New York fall back: local 01:00-01:59 happens twice on 2026-11-01.
    ['NY fall: 01:00-02:00 at 01:30 EDT', '2026-11-01T05:30:00Z', sun('01:00', '02:00'), [], 'America/New_York', true],
    ['NY fall: 01:00-02:00 at 01:30 EST (again)', '2026-11-01T06:30:00Z', sun('01:00', '02:00'), [], 'America/New_York', true],
    ['NY fall: 01:00-02:00 shut at 02:00 EST', '2026-11-01T07:00:00Z', sun('01:00', '02:00'), [], 'America/New_York', false],
    ['NY: office hours follow local time in summer', '2026-07-06T13:00:00Z', [OFFICE], [], 'America/New_York', true],
    ['NY: the same UTC hour is outside in winter', '2026-01-05T13:00:00Z', [OFFICE], [], 'America/New_York', false],
  ]);
});

describe('nextAutoTimeChange', () => {
  type NextCase = [label: string, at: string, windows: AutoTimeWindow[], freezes: string[], tz: string, inside: boolean, next: string | null];
  const sun = (start: string, end: string) => [win(['sun'], start, end)];
  it.each<NextCase>([
    ['inside until the end of the day window', '2026-01-05T10:00:00Z', [OFFICE], [], 'UTC', true, '2026-01-05T17:00:00.000Z'],
    ['Friday evening: next opens Monday', '2026-01-09T17:00:00Z', [OFFICE], [], 'UTC', false, '2026-01-12T09:00:00.000Z'],
    ['seconds before the start', '2026-01-05T08:59:30Z', [OFFICE], [], 'UTC', false, '2026-01-05T09:00:00.000Z'],
    ['at the start the next change is the end', '2026-01-05T09:00:00Z', [OFFICE], [], 'UTC', true, '2026-01-05T17:00:00.000Z'],
    ['across a freeze date', '2026-01-06T17:00:00Z', [OFFICE], ['2026-01-07'], 'UTC', false, '2026-01-08T09:00:00.000Z'],
    ['on a freeze date, inside the window hours', '2026-01-07T10:00:00Z', [OFFICE], ['2026-01-07'], 'UTC', false, '2026-01-08T09:00:00.000Z'],
    ['touching windows count as one', '2026-01-05T10:00:00Z', [win(['mon'], '09:00', '12:00'), win(['mon'], '12:00', '17:00')], [], 'UTC', true, '2026-01-05T17:00:00.000Z'],
    ['cross-midnight: inside until Sat 02:00', '2026-01-09T23:00:00Z', [FRI_NIGHT], [], 'UTC', true, '2026-01-10T02:00:00.000Z'],
    ['cross-midnight: closed until next Fri 22:00', '2026-01-10T03:00:00Z', [FRI_NIGHT], [], 'UTC', false, '2026-01-16T22:00:00.000Z'],
    ['cross-midnight into a frozen Sat closes at midnight', '2026-01-09T23:00:00Z', [FRI_NIGHT], ['2026-01-10'], 'UTC', true, '2026-01-10T00:00:00.000Z'],
    ['three frozen Mondays in a row', '2026-01-06T10:00:00Z', [win(['mon'], '09:00', '10:00')], ['2026-01-12', '2026-01-19', '2026-01-26'], 'UTC', false, '2026-02-02T09:00:00.000Z'],
    ['in LA local time', '2026-01-05T18:00:00Z', [OFFICE], [], 'America/Los_Angeles', true, '2026-01-06T01:00:00.000Z'],
    ['24/7: never changes', '2026-01-05T10:00:00Z', [ALWAYS], [], 'UTC', true, null],
    ['24/7 in two halves: never changes', '2026-01-05T10:00:00Z', [win(ALL_DAYS, '00:00', '12:00'), win(ALL_DAYS, '12:00', '24:00')], [], 'Europe/Paris', true, null],
    ['24/7 from cross-midnight windows: never changes', '2026-01-05T10:00:00Z', [win(ALL_DAYS, '08:00', '03:00'), win(ALL_DAYS, '02:00', '09:00')], [], 'UTC', true, null],
    ['24/7 with a freeze: closes at its local midnight', '2026-01-05T10:00:00Z', [ALWAYS], ['2026-01-07'], 'UTC', true, '2026-01-07T00:00:00.000Z'],
    ['24/7 with a freeze a year away (LA midnight)', '2026-01-05T10:00:00Z', [ALWAYS], ['2027-01-05'], 'America/Los_Angeles', true, '2027-01-05T08:00:00.000Z'],
    ['24/7 on consecutive freezes: reopens after them', '2026-01-07T10:00:00Z', [ALWAYS], ['2026-01-07', '2026-01-08'], 'UTC', false, '2026-01-09T00:00:00.000Z'],
    ['no windows: never changes', '2026-01-05T10:00:00Z', [], ['2026-01-07'], 'UTC', false, null],
    // Clock changes.
    ['Paris fall: the repeated hour stays inside', '2026-10-25T00:00:00Z', sun('02:00', '03:00'), [], 'Europe/Paris', true, '2026-10-25T02:00:00.000Z'],
    ['Paris fall: the clock change reopens 01:00-02:30', '2026-10-25T00:45:00Z', sun('01:00', '02:30'), [], 'Europe/Paris', false, '2026-10-25T01:00:00.000Z'],
    ['Paris fall: then closes at 02:30 CET', '2026-10-25T01:00:00Z', sun('01:00', '02:30'), [], 'Europe/Paris', true, '2026-10-25T01:30:00.000Z'],
    ['Paris spring: a window in the gap waits a week', '2026-03-28T12:00:00Z', sun('02:00', '02:30'), [], 'Europe/Paris', false, '2026-04-05T00:00:00.000Z'],
    ['Paris spring: 01:00-03:00 ends at the clock change', '2026-03-29T00:30:00Z', sun('01:00', '03:00'), [], 'Europe/Paris', true, '2026-03-29T01:00:00.000Z'],
    ['NY spring: 02:30-04:00 opens at the clock change', '2026-03-08T06:00:00Z', sun('02:30', '04:00'), [], 'America/New_York', false, '2026-03-08T07:00:00.000Z'],
    ['NY spring: then closes at 04:00 EDT', '2026-03-08T07:00:00Z', sun('02:30', '04:00'), [], 'America/New_York', true, '2026-03-08T08:00:00.000Z'],
    ['NY fall: the repeated 01:00 hour stays inside', '2026-11-01T05:00:00Z', sun('01:00', '02:00'), [], 'America/New_York', true, '2026-11-01T07:00:00.000Z'],
    ['NY: a week of office hours across the spring change', '2026-03-06T22:00:00Z', [OFFICE], [], 'America/New_York', false, '2026-03-09T13:00:00.000Z'],
  ])('%s', (_label, at, windows, freezes, tz, inside, next) => {
    const result = nextAutoTimeChange(d(at), windows, freezes, tz);
    expect(result.inAutoTime).toBe(inside);
    expect(result.next?.toISOString() ?? null).toBe(next);
  });

  // Brute force: the state is constant on every minute strictly between `at`
  // and `next`, and differs at `next`. Checks the boundary-stepping search
  // against the plain definition, in zones with DST (incl. Lord Howe's 30-minute one).
  it('agrees with a minute-by-minute scan (property)', () => {
    const hhmm = fc.integer({ min: 0, max: 95 }).map((q) => `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`);
    const windowArb = fc.record({ days: fc.subarray(ALL_DAYS, { minLength: 1 }), start: hhmm, end: fc.oneof(hhmm, fc.constant('24:00')) }).filter((w) => w.start !== w.end);
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];
    // Instants near the 2026 clock changes and elsewhere.
    const instants = ['2026-03-27T00:00:00Z', '2026-03-06T00:00:00Z', '2026-10-23T00:00:00Z', '2026-10-30T00:00:00Z', '2026-04-03T00:00:00Z', '2026-06-15T00:00:00Z'];
    fc.assert(
      fc.property(
        fc.array(windowArb, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...zones),
        fc.constantFrom(...instants),
        fc.integer({ min: 0, max: 3 * 1440 }),
        fc.boolean(),
        (windows, tz, base, minutes, withFreeze) => {
          const at = new Date(Date.parse(base) + minutes * 60_000 + 17_000);
          const freezes = withFreeze ? [localDate(new Date(at.getTime() + 86_400_000), tz)] : [];
          const { inAutoTime, next } = nextAutoTimeChange(at, windows, freezes, tz);
          expect(inAutoTime).toBe(isInAutoTime(at, windows, freezes, tz));
          const limit = next ? next.getTime() : at.getTime() + 9 * 86_400_000;
          for (let t = Math.ceil(at.getTime() / 60_000) * 60_000; t < limit; t += 60_000) {
            if (isInAutoTime(new Date(t), windows, freezes, tz) !== inAutoTime) {
              throw new Error(`flip missed at ${new Date(t).toISOString()} (${tz}, ${JSON.stringify(windows)})`);
            }
          }
          if (next) expect(isInAutoTime(next, windows, freezes, tz)).toBe(!inAutoTime);
        },
      ),
      { numRuns: 60, seed: 20260105 },
    );
  });

  it('is fast for a typical config (well under 1 ms per call)', () => {
    const windows = [OFFICE, win(['sun'], '22:00', '02:00')];
    const freezes = ['2026-12-24', '2026-12-25', '2026-12-31'];
    const start = Date.parse('2026-03-01T00:00:00Z');
    const runs = 500;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      nextAutoTimeChange(new Date(start + i * 37 * 60_000), windows, freezes, 'Europe/Paris');
    }
    expect((performance.now() - t0) / runs).toBeLessThan(1);
  });
});

describe('validateWindow', () => {
  it.each<[AutoTimeWindow, string | null]>([
    [OFFICE, null],
    [FRI_NIGHT, null],
    [ALWAYS, null],
    [win(['mon'], '18:00', '00:00'), null],
    [win([], '09:00', '17:00'), 'at least one day'],
    [win(['funday' as Weekday], '09:00', '17:00'), 'Unknown day "funday"'],
    [win(['mon'], '9:00', '17:00'), 'Start time "9:00"'],
    [win(['mon'], '24:00', '17:00'), 'Start time "24:00"'],
    [win(['mon'], '09:00', '17:60'), 'End time "17:60"'],
    [win(['mon'], '09:00', '24:01'), 'End time "24:01"'],
    [win(['mon'], '09:00', 'noon'), 'End time "noon"'],
    [win(['mon'], '09:00', '09:00'), 'is empty'],
  ])('%j → %s', (w, expected) => {
    const message = validateWindow(w);
    if (expected === null) expect(message).toBeNull();
    else expect(message).toContain(expected);
  });
});

describe('isValidTimezone, isValidDate, localDate', () => {
  it.each([
    ['Europe/Paris', true],
    ['America/Los_Angeles', true],
    ['UTC', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
  ])('isValidTimezone(%j) is %s', (tz, expected) => {
    expect(isValidTimezone(tz)).toBe(expected);
  });

  it.each([
    ['2026-02-28', true],
    ['2028-02-29', true],
    ['2026-02-29', false],
    ['2026-13-01', false],
    ['2026-1-01', false],
    ['2026-01-01T00:00', false],
    ['tomorrow', false],
  ])('isValidDate(%j) is %s', (s, expected) => {
    expect(isValidDate(s)).toBe(expected);
  });

  it.each([
    ['2026-01-10T05:00:00Z', 'America/Los_Angeles', '2026-01-09'],
    ['2026-01-10T05:00:00Z', 'UTC', '2026-01-10'],
    ['2026-01-09T20:00:00Z', 'Asia/Tokyo', '2026-01-10'],
    ['2026-10-24T22:30:00Z', 'Europe/Paris', '2026-10-25'],
  ])('localDate(%s, %s) is %s', (at, tz, expected) => {
    expect(localDate(d(at), tz)).toBe(expected);
  });
});

describe('describing auto-time', () => {
  it.each<[Weekday[], string]>([
    [WEEKDAYS_MF, 'mon-fri'],
    [['sat', 'sun'], 'sat,sun'],
    [['fri', 'mon', 'wed'], 'mon,wed,fri'],
    [ALL_DAYS, 'mon-sun'],
    [['mon', 'tue', 'wed', 'fri', 'sat'], 'mon-wed,fri,sat'],
  ])('formatDays(%j) is %s', (days, expected) => {
    expect(formatDays(days)).toBe(expected);
  });

  it('describeWindows lists the windows and the zone', () => {
    expect(describeWindows([OFFICE, win(['sun'], '22:00', '02:00')], 'Europe/Paris')).toBe('mon-fri 09:00-17:00, sun 22:00-02:00 (Europe/Paris)');
    expect(describeWindows([win(['sat'], '20:00', '24:00')], 'UTC')).toBe('sat 20:00-24:00 (UTC)');
    expect(describeWindows([], 'Europe/Paris')).toBe('never (no auto-time windows)');
  });

  it.each<[string, string, AutoTimeWindow[], string[], string]>([
    ['outside, next window soon', '2026-01-10T12:00:00Z', [OFFICE], [], 'outside auto-time; the next window opens Mon 09:00 (Europe/Paris)'],
    ['inside', '2026-01-05T10:00:00Z', [OFFICE], [], 'inside auto-time until Mon 17:00 (Europe/Paris)'],
    ['freeze date', '2026-12-24T10:00:00Z', [OFFICE], ['2026-12-24'], 'today (2026-12-24) is a freeze date; auto-time resumes Fri 09:00 (Europe/Paris)'],
    [
      'next window more than a week away',
      '2026-01-06T10:00:00Z',
      [win(['mon'], '09:00', '10:00')],
      ['2026-01-12'],
      'outside auto-time; the next window opens Mon 2026-01-19 09:00 (Europe/Paris)',
    ],
    ['24/7', '2026-01-05T10:00:00Z', [ALWAYS], [], 'inside auto-time (the windows cover the whole week)'],
    ['no windows', '2026-01-05T10:00:00Z', [], [], 'no auto-time windows are set, so trains start only by hand'],
  ])('describeAutoTime: %s', (_label, at, windows, freezes, expected) => {
    expect(describeAutoTime(d(at), windows, freezes, 'Europe/Paris')).toBe(expected);
  });
});
