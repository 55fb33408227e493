import type { Logger } from 'pino';

/**
 * One Ctrl-C may arrive more than once: the terminal sends SIGINT to the whole
 * foreground group, and `npm start` forwards the one it received to its child
 * as well. Repeats this soon after the first are that same press.
 */
const SAME_PRESS_MS = 1_000;

/**
 * SIGINT/SIGTERM: `stop` once (it exits the process). A signal repeated
 * within a second is ignored (see above); a later one while still stopping is
 * a person insisting: exit at once with one line (the embedded PostgreSQL
 * still gets its fast shutdown from its exit hook). Returns the signal that
 * started the stop, if any, for start-up to check once it is done.
 */
export function handleStopSignals(log: Logger, stop: (signal: string) => void): { stopping: () => string | null } {
  let stopping: { signal: string; at: number } | null = null;
  const onSignal = (signal: string) => {
    if (stopping) {
      if (Date.now() - stopping.at < SAME_PRESS_MS) {
        log.debug({ signal }, 'already stopping');
        return;
      }
      log.warn({ signal }, 'second signal while stopping: exiting at once');
      process.exit(1);
    }
    stopping = { signal, at: Date.now() };
    log.info({ signal }, 'stopping');
    stop(signal);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // The terminal was closed: stop as cleanly as on Ctrl-C (PostgreSQL runs detached and would be left behind).
  process.on('SIGHUP', () => onSignal('SIGHUP'));
  return { stopping: () => stopping?.signal ?? null };
}
