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
