/** Small pieces several pages use. */
import type { Train } from '../../domain/index.js';

export function TrainState({ state }: { state: Train['state'] }) {
  return <span class={`state state-${state}`}>{state}</span>;
}

/** A time as people read it, in UTC, with the machine-readable value. */
export function Time({ at }: { at: Date | string }) {
  const iso = typeof at === 'string' ? at : at.toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 16).replace('T', ' ')} UTC`}</time>;
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
