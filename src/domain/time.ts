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
