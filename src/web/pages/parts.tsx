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
