/**
 * The schedule editor's form → the `/conductor` command text (pure), and the
 * text back through the real parser: what the web sends is what Slack admins type.
 */
import { describe, expect, test } from 'vitest';
import { parseCommand } from '../../src/commands/parse.js';
import { monthTitle, monthWeeks, parseMonth, shiftMonth } from '../../src/domain/calendar.js';
import { autoTimeWeekGrid } from '../../src/domain/schedule.js';
import { rowsByDay, rowsFromForm, scheduleCommand } from '../../src/domain/schedule-form.js';

const form = (fields: Record<string, string>) => (name: string) => fields[name];
const autotime = (fields: Record<string, string>) => scheduleCommand(form({ do: 'autotime', ...fields }));

describe('scheduleCommand: auto-time rows', () => {
  test.each([
    ['one window on one day', { 'mon-0-start': '09:00', 'mon-0-end': '17:00' }, 'autotime set mon 09:00-17:00'],
    [
      'the same times on several days are one window over those days',
      { 'mon-0-start': '09:00', 'mon-0-end': '17:00', 'tue-0-start': '09:00', 'tue-0-end': '17:00', 'fri-1-start': '09:00', 'fri-1-end': '17:00' },
      'autotime set mon,tue,fri 09:00-17:00',
    ],
    [
      'several windows per day, in the order first seen',
      { 'mon-0-start': '13:00', 'mon-0-end': '17:00', 'mon-1-start': '09:00', 'mon-1-end': '11:30', 'wed-0-start': '09:00', 'wed-0-end': '11:30' },
      'autotime set mon 13:00-17:00; mon,wed 09:00-11:30',
    ],
    ['across midnight', { 'fri-0-start': '22:00', 'fri-0-end': '02:00' }, 'autotime set fri 22:00-02:00'],
    ['24:00 ends a day', { 'sun-0-start': '00:00', 'sun-0-end': '24:00' }, 'autotime set sun 00:00-24:00'],
    ['a row far down the day (JavaScript added rows) counts', { 'thu-47-start': '10:00', 'thu-47-end': '11:00' }, 'autotime set thu 10:00-11:00'],
    ['a time zone goes at the end', { 'sat-3-start': '10:00', 'sat-3-end': '12:00', timezone: 'Europe/Paris' }, 'autotime set sat 10:00-12:00 Europe/Paris'],
    ['blank rows and spaces are ignored', { 'mon-0-start': ' 09:00 ', 'mon-0-end': '17:00', 'mon-1-start': '', 'mon-1-end': '', timezone: ' ' }, 'autotime set mon 09:00-17:00'],
    ['every row empty turns auto-time off', { 'mon-0-start': '', 'mon-0-end': '', timezone: 'UTC' }, 'autotime clear'],
    ['no rows at all turns it off too', {}, 'autotime clear'],
  ])('%s', (_, fields, text) => {
    expect(autotime(fields)).toEqual({ ok: true, text });
  });

  test.each([
    ['a start without an end', { 'tue-1-start': '09:00' }, "Tuesday's window 2 has a start (09:00) but no end"],
    ['an end without a start', { 'wed-0-end': '17:00' }, "Wednesday's window 1 has an end (17:00) but no start"],
    ['not shaped like a time', { 'mon-0-start': '9am', 'mon-0-end': '17:00' }, "Monday's window 1: `9am` is not a time"],
    // A value must never add words to the command: `; sun 00:00-24:00` would be a second window.
    ['words smuggled into a time', { 'mon-0-start': '09:00', 'mon-0-end': '17:00; sun 00:00-24:00' }, 'is not a time'],
    ['words smuggled into the zone', { 'mon-0-start': '09:00', 'mon-0-end': '17:00', timezone: 'UTC; sun 00:00-24:00' }, 'is not a time zone'],
  ])('refused: %s', (_, fields, error) => {
    const r = autotime(fields);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.error).toContain(error);
  });

  test('the parser has the last word on ranges: 25:00, 24:00 as a start, an empty window', () => {
    for (const [fields, error] of [
      [{ 'mon-0-start': '25:00', 'mon-0-end': '17:00' }, '`25:00` is not a time'],
      [{ 'mon-0-start': '24:00', 'mon-0-end': '02:00' }, '`24:00` can only end a window'],
      [{ 'mon-0-start': '09:00', 'mon-0-end': '09:00' }, 'starts and ends at the same time'],
      [{ 'mon-0-start': '09:00', 'mon-0-end': '17:00', timezone: 'Mars/Olympus' }, 'Unknown time zone `Mars/Olympus`'],
    ] as const) {
      const r = autotime(fields);
      if (!r.ok) throw new Error(r.error);
      const parsed = parseCommand(r.text);
      expect(parsed.ok ? 'parsed' : parsed.error).toContain(error);
    }
  });

  test('what the form sends parses to the windows the form showed (round trip through the real parser)', () => {
    const windows = [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, start: '09:30', end: '17:00' },
      { days: ['fri'] as const, start: '22:00', end: '02:00' },
      { days: ['sun'] as const, start: '00:00', end: '24:00' },
    ].map((w) => ({ ...w, days: [...w.days] }));
    const rows = rowsByDay(windows);
    expect(rows.fri).toEqual([
      { start: '09:30', end: '17:00' },
      { start: '22:00', end: '02:00' },
    ]);
    expect(rows.sat).toEqual([]);
    const fields: Record<string, string> = {};
    for (const [day, list] of Object.entries(rows))
      list.forEach((r, i) => {
        fields[`${day}-${i}-start`] = r.start;
        fields[`${day}-${i}-end`] = r.end;
      });
    const r = autotime(fields);
    if (!r.ok) throw new Error(r.error);
    const parsed = parseCommand(r.text);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.command).toEqual({ name: 'autotime', action: 'set', windows });
    // Across midnight: Friday 22-24 and Saturday 00-02 are both in the grid.
    const grid = autoTimeWeekGrid(windows);
    expect(grid[4]![23]).toBe('in');
    expect(grid[5]![1]).toBe('in');
    expect(grid[5]![2]).toBe('out');
  });

  test('rowsFromForm keeps what was typed, so a refused form comes back as sent', () => {
    expect(rowsFromForm(form({ 'mon-0-start': '09:00', 'mon-0-end': '', 'mon-1-start': '', 'mon-1-end': '', 'tue-2-start': '25:00', 'tue-2-end': '26:00' }))).toMatchObject({
      mon: [{ start: '09:00', end: '' }],
      tue: [{ start: '25:00', end: '26:00' }],
      wed: [],
    });
  });
});

describe('scheduleCommand: freeze dates', () => {
  test.each([
    [
      { do: 'freeze-add', date: '2026-12-24' },
      { ok: true, text: 'freeze add 2026-12-24' },
    ],
    [
      { do: 'freeze-remove', date: ' 2026-12-24 ' },
      { ok: true, text: 'freeze remove 2026-12-24' },
    ],
    [
      { do: 'freeze-add', date: '' },
      { ok: false, error: 'Choose a date first.' },
    ],
    [
      { do: 'freeze-add', date: '2026-12-24 2026-12-25' },
      { ok: false, error: '`2026-12-24 2026-12-2` is not a date: use `YYYY-MM-DD`, e.g. `2025-12-24`.' },
    ],
    [{ do: 'drop-tables' }, { ok: false, error: 'The form did not say what to change.' }],
    [{}, { ok: false, error: 'The form did not say what to change.' }],
  ])('%o', (fields, expected) => {
    expect(scheduleCommand(form(fields))).toEqual(expected);
  });

  test('a date shaped right but not in the calendar is the parser’s to refuse', () => {
    const r = scheduleCommand(form({ do: 'freeze-add', date: '2026-02-30' }));
    if (!r.ok) throw new Error(r.error);
    const parsed = parseCommand(r.text);
    expect(parsed.ok ? '' : parsed.error).toContain('`2026-02-30` is not a calendar date.');
  });
});

describe('the month calendar', () => {
  test('weeks start on Monday, days outside the month are empty', () => {
    // 1 December 2026 is a Tuesday; the 31st a Thursday.
    const weeks = monthWeeks('2026-12');
    expect(weeks).toHaveLength(5);
    expect(weeks[0]).toEqual([null, '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06']);
    expect(weeks[4]).toEqual(['2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31', null, null, null]);
    // February 2027 starts on a Monday and has 28 days: four full weeks; 2028 is a leap year.
    expect(monthWeeks('2027-02')).toHaveLength(4);
    expect(monthWeeks('2028-02').flat()).toContain('2028-02-29');
  });

  test('months shift across years; only real months parse', () => {
    expect(shiftMonth('2026-12', 1)).toBe('2027-01');
    expect(shiftMonth('2026-01', -1)).toBe('2025-12');
    expect(shiftMonth('2026-05', -17)).toBe('2024-12');
    expect(monthTitle('2026-12')).toBe('December 2026');
    expect(parseMonth('2026-12')).toBe('2026-12');
    for (const bad of ['2026-13', '2026-00', '1969-12', '2026-1', '2026-12-01', '<b>', '', null]) expect(parseMonth(bad)).toBeNull();
  });
});
