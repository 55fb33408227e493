/** Small pieces several pages use. */
import type { ComponentChildren } from 'preact';
import type { Train } from '../../domain/index.js';
import { WEEKDAYS } from '../../domain/time.js';

export function TrainState({ state }: { state: Train['state'] }) {
  return <span class={`state state-${state}`}>{state}</span>;
}

/** A time as people read it, in UTC, with the machine-readable value. */
export function Time({ at }: { at: Date | string }) {
  const iso = typeof at === 'string' ? at : at.toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 16).replace('T', ' ')} UTC`}</time>;
}

// ---- Added for the overview, search, history and /me pages --------------------

/** The first 8 characters of a SHA, monospace, the whole SHA on hover. */
export function ShortSha({ sha }: { sha: string }) {
  return (
    <code class="sha" title={sha}>
      {sha.slice(0, 8)}
    </code>
  );
}

export const lineHref = (line: string): string => `/lines/${encodeURIComponent(line)}`;
export const trainHref = (line: string, n: number): string => `${lineHref(line)}/trains/${n}`;

export function TrainLink({ line, n }: { line: string; n: number }) {
  return <a href={trainHref(line, n)}>{`train #${n}`}</a>;
}

/** A commit message's first line, at most `max` characters (the rest is on the train page). */
export function firstLine(message: string, max = 100): string {
  const line = message.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Engine sentences mark commands with backticks (Slack's code): shown here as `<code>`, still escaped text. */
export function Prose({ text }: { text: string }) {
  return <>{text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}</>;
}

/** Where a commit is, in words (search, /me). */
export interface CommitWhere {
  line: string;
  where: 'platform' | 'train' | 'deployed' | 'removed';
  train: number | null;
  trainState: string | null;
  deployedAt: string | null;
}

export function Where({ c }: { c: CommitWhere }) {
  switch (c.where) {
    case 'platform':
      return (
        <span>
          waiting on the <a href={lineHref(c.line)}>platform</a>
        </span>
      );
    case 'train':
      return c.train === null ? (
        <span>on a train</span>
      ) : (
        <span>
          on <TrainLink line={c.line} n={c.train} /> {c.trainState && <span class={`state state-${c.trainState}`}>{c.trainState}</span>}
        </span>
      );
    case 'deployed':
      return (
        <span>
          deployed with {c.train === null ? 'a train' : <TrainLink line={c.line} n={c.train} />}
          {c.deployedAt && (
            <>
              {' at '}
              <Time at={c.deployedAt} />
            </>
          )}
        </span>
      );
    case 'removed':
      return <span class="muted">removed by an emergency reset or a force push</span>;
  }
}

/** A duration as people say it: `45 s`, `3 min 20 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** The 404 of a page: in the layout, saying what was not found. */
export function NotFound({ what }: { what: string }) {
  return (
    <>
      <h1>Not found</h1>
      <p>{what}</p>
      <p>
        <a href="/">All lines</a>
      </p>
    </>
  );
}

/** The state of a job or ticket, styled like a train's. */
export function StateBadge({ state }: { state: string }) {
  return <span class={`state state-${state}`}>{state}</span>;
}

/** A link target from outside (Jenkins, Jira) only when it is http(s): never `javascript:`. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/**
 * A table that may scroll sideways on a narrow screen. A scrollable region
 * must be reachable with the keyboard (axe: scrollable-region-focusable), so
 * it takes focus and is a named region.
 */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to be scrolled with the keyboard (WCAG 2.1.1)
    // biome-ignore lint/a11y/useSemanticElements: a <section> would add a landmark per table; this is a scroll container
    <div class="table-wrap" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}

const hh = (h: number) => String(h).padStart(2, '0');
const CELL_TITLE = { in: 'auto-time', part: 'auto-time part of the hour', out: 'outside auto-time' } as const;

/** Auto-time as a week of hours (the line page and the schedule editor): 7 rows of 24 cells, from `autoTimeWeekGrid`. */
export function WeekGrid({ grid, caption }: { grid: readonly (readonly ('in' | 'part' | 'out')[])[]; caption: string }) {
  return (
    <TableWrap label="Auto-time by hour">
      <table class="week" data-testid="week-grid">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">
              <span class="visually-hidden">Day</span>
            </th>
            {Array.from({ length: 24 }, (_, h) => (
              <th scope="col" key={h}>
                {hh(h)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.map((hours, d) => (
            <tr key={d} data-day={WEEKDAYS[d]}>
              <th scope="row">{WEEKDAYS[d]}</th>
              {hours.map((cell, h) => (
                // The caption says it in words; a cell's title only where auto-time is (168 cells add up).
                <td key={h} class={`hour hour-${cell}`} data-hour={h} title={cell === 'out' ? undefined : `${WEEKDAYS[d]} ${hh(h)}:00 ${CELL_TITLE[cell]}`} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
