/**
 * The schedule page of a line (`GET /lines/<line>/schedule`, docs/behaviour.md
 * §7): auto-time as a week grid and the freeze dates as a month calendar, for
 * everyone; for admins, the forms that change them. Works without JavaScript:
 * every change is a plain form POST.
 */
import { monthTitle, monthWeeks, shiftMonth } from '../../domain/calendar.js';
import { autoTimeWeekGrid } from '../../domain/schedule.js';
import { dayName, rowField, type WindowRow } from '../../domain/schedule-form.js';
import { type AutoTimeWindow, WEEKDAYS, type Weekday } from '../../domain/time.js';
import type { Reply } from '../../engine/engine.js';
import { WeekGrid as HourGrid } from '../pages/parts.js';

/** Empty rows offered under each day's windows (without JavaScript there is no "add a row"). */
export const BLANK_ROWS = 2;

export interface ScheduleProps {
  line: string;
  timezone: string;
  mode: 'manual' | 'schedule';
  /** The windows in force (the grid). */
  windows: AutoTimeWindow[];
  /** What the form shows per day: the windows in force, or what was just sent when it was wrong. */
  rows: Record<Weekday, WindowRow[]>;
  /** The time zone field's value. */
  zoneValue: string;
  /** Every freeze date, sorted. */
  freezes: string[];
  /** Today in the line's time zone. */
  today: string;
  /** The calendar's month, `YYYY-MM`. */
  month: string;
  /** Admins get the forms; everyone else the same page read-only. */
  admin: boolean;
  admins: string[];
  csrf: string;
  /** A fresh idempotency nonce per form (a double submit applies once). */
  nonce: () => string;
  outcome: Reply | null;
}

export const scheduleHref = (line: string) => `/lines/${encodeURIComponent(line)}/schedule`;

export function ScheduleView(p: ScheduleProps) {
  return (
    <>
      <p class="meta">
        <a href={`/lines/${encodeURIComponent(p.line)}`}>{`← ${p.line}`}</a>
      </p>
      <h1>{`Schedule of ${p.line}`}</h1>
      {p.outcome && <Outcome line={p.line} reply={p.outcome} />}
      {!p.admin && <p class="note">{`Only admins may change auto-time and freeze dates (admins: ${p.admins.join(', ') || 'none configured'}).`}</p>}
      <AutoTimeSection {...p} />
      <FreezeSection {...p} />
    </>
  );
}

function Outcome({ line, reply }: { line: string; reply: Reply }) {
  return (
    <div class={`schedule-outcome ${reply.ok ? 'schedule-outcome-ok' : 'schedule-outcome-refused'}`} role="status" data-testid="schedule-outcome">
      <p>{reply.text}</p>
      {reply.ok && (
        <p>
          <a href={`/history?line=${encodeURIComponent(line)}`}>See it in the history</a>
        </p>
      )}
    </div>
  );
}

function Hidden({ csrf, nonce, what }: { csrf: string; nonce: string; what: string }) {
  return (
    <>
      <input type="hidden" name="_csrf" value={csrf} />
      <input type="hidden" name="_nonce" value={nonce} />
      <input type="hidden" name="do" value={what} />
    </>
  );
}

function WeekGrid({ windows }: { windows: AutoTimeWindow[] }) {
  const caption = windows.length ? 'Hours with auto-time are filled; a half-filled hour has auto-time for part of it.' : 'Auto-time is off (no windows).';
  return <HourGrid grid={autoTimeWeekGrid(windows)} caption={caption} />;
}

// Text fields, not type=time: a time input cannot hold 24:00 (the end of the day) and would drop it, and it
// shows 12-hour times in an en-US browser while auto-time is written in 24-hour time everywhere else.
const START_PATTERN = '([01][0-9]|2[0-3]):[0-5][0-9]';
const END_PATTERN = `${START_PATTERN}|24:00`;

function TimeInput({ id, value, pattern, title }: { id: string; value: string; pattern: string; title: string }) {
  return (
    <input
      id={id}
      name={id}
      type="text"
      inputMode="numeric"
      pattern={pattern}
      placeholder="HH:MM"
      size={5}
      maxLength={5}
      autocomplete="off"
      value={value}
      title={title}
      aria-describedby="autotime-help"
    />
  );
}

function AutoTimeSection(p: ScheduleProps) {
  return (
    <section aria-labelledby="autotime">
      <h2 id="autotime">Auto-time</h2>
      <p>
        {'Times are in the line’s time zone, '}
        <strong data-testid="timezone">{p.timezone}</strong>
        {`. Trains start by themselves inside these hours${p.mode === 'manual' ? ' (not now: the line is in manual mode)' : ''}, except on freeze dates.`}
      </p>
      <WeekGrid windows={p.windows} />
      {p.admin && (
        <form method="post" action={scheduleHref(p.line)} class="autotime-form" data-testid="autotime-form">
          <Hidden csrf={p.csrf} nonce={p.nonce()} what="autotime" />
          <p class="muted" id="autotime-help">
            24-hour times. An end before the start crosses midnight (Friday 22:00 to 02:00 runs into Saturday); 24:00 ends a window at midnight. Clear both times of a row to remove that
            window; with every row empty, auto-time is off.
          </p>
          <div class="days">
            {WEEKDAYS.map((day) => (
              <DayRows key={day} day={day} rows={p.rows[day]} />
            ))}
          </div>
          <p class="zone">
            <label for="timezone">Time zone</label>
            <input id="timezone" name="timezone" type="text" value={p.zoneValue} autocomplete="off" spellcheck={false} maxLength={64} />
          </p>
          <button type="submit" class="primary">
            Save auto-time
          </button>
        </form>
      )}
    </section>
  );
}

function DayRows({ day, rows }: { day: Weekday; rows: WindowRow[] }) {
  const all = [...rows, ...Array.from({ length: BLANK_ROWS }, () => ({ start: '', end: '' }))];
  return (
    <fieldset class="day" data-day={day}>
      <legend>{dayName(day)}</legend>
      {all.map((r, i) => {
        const label = `${dayName(day)}, window ${i + 1}`;
        return (
          <div class="window-row" key={i}>
            <label class="visually-hidden" for={rowField(day, i, 'start')}>{`${label}, start`}</label>
            <TimeInput id={rowField(day, i, 'start')} value={r.start} pattern={START_PATTERN} title="24-hour HH:MM" />
            <span aria-hidden="true">to</span>
            <label class="visually-hidden" for={rowField(day, i, 'end')}>{`${label}, end`}</label>
            <TimeInput id={rowField(day, i, 'end')} value={r.end} pattern={END_PATTERN} title="24-hour HH:MM; 24:00 is the end of the day" />
          </div>
        );
      })}
    </fieldset>
  );
}

function FreezeSection(p: ScheduleProps) {
  const frozen = new Set(p.freezes);
  const upcoming = p.freezes.filter((d) => d >= p.today);
  const past = p.freezes.filter((d) => d < p.today);
  const here = scheduleHref(p.line);
  const prev = shiftMonth(p.month, -1);
  const next = shiftMonth(p.month, 1);
  return (
    <section aria-labelledby="freezes">
      <h2 id="freezes">Freeze dates</h2>
      <p>No train starts by itself on a freeze date (a whole day in the line’s time zone).</p>
      <nav class="pager" aria-label="Months">
        <a href={`${here}?month=${prev}#freezes`}>{`← ${monthTitle(prev)}`}</a>
        <a href={`${here}?month=${next}#freezes`}>{`${monthTitle(next)} →`}</a>
      </nav>
      <table class="calendar" data-testid="calendar">
        <caption>{monthTitle(p.month)}</caption>
        <thead>
          <tr>
            {WEEKDAYS.map((d) => (
              <th scope="col" key={d}>
                <abbr title={dayName(d)}>{d}</abbr>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {monthWeeks(p.month).map((week, i) => (
            <tr key={i}>
              {week.map((date, j) =>
                date === null ? (
                  <td key={j} />
                ) : (
                  <td
                    key={date}
                    data-date={date}
                    class={[frozen.has(date) ? 'freeze' : '', date === p.today ? 'today' : ''].join(' ').trim() || undefined}
                    aria-current={date === p.today ? 'date' : undefined}
                  >
                    {String(Number(date.slice(8)))}
                    {frozen.has(date) && <span class="visually-hidden">, freeze date</span>}
                    {date === p.today && <span class="visually-hidden">, today</span>}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">Freeze dates are filled; today has a frame.</p>
      {p.admin && (
        <form method="post" action={here} class="freeze-add" data-testid="freeze-add">
          <Hidden csrf={p.csrf} nonce={p.nonce()} what="freeze-add" />
          <input type="hidden" name="month" value={p.month} />
          <label for="freeze-date">Add a freeze date</label>
          <input id="freeze-date" name="date" type="date" required min={p.today} />
          <button type="submit" class="primary">
            Add freeze date
          </button>
        </form>
      )}
      <h3>Upcoming</h3>
      <FreezeList dates={upcoming} empty="None ahead." testId="upcoming" {...p} />
      {past.length > 0 && (
        <details>
          <summary>{`Past freeze dates (${past.length})`}</summary>
          <FreezeList dates={past} empty="" testId="past" {...p} />
        </details>
      )}
    </section>
  );
}

function FreezeList(p: ScheduleProps & { dates: string[]; empty: string; testId: string }) {
  if (p.dates.length === 0) return <p class="muted">{p.empty}</p>;
  return (
    <ul class="freeze-list" data-testid={p.testId}>
      {p.dates.map((d) => (
        <li key={d}>
          <time dateTime={d}>{d}</time>
          {p.admin && (
            <form method="post" action={scheduleHref(p.line)}>
              <Hidden csrf={p.csrf} nonce={p.nonce()} what="freeze-remove" />
              <input type="hidden" name="date" value={d} />
              <input type="hidden" name="month" value={p.month} />
              <button type="submit">
                Remove<span class="visually-hidden">{` ${d}`}</span>
              </button>
            </form>
          )}
        </li>
      ))}
    </ul>
  );
}

/** On the line page: the way to the schedule page (admins change it there; everyone sees the calendar). */
export function ScheduleLink({ line }: { line: string }) {
  return (
    <p>
      <a href={scheduleHref(line)}>Freeze calendar and schedule editor</a>
    </p>
  );
}
