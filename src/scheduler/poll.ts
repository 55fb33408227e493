import type { Logger } from 'pino';

export interface Poll {
  /** Ends the interval, asks the running round to stop (its signal aborts) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Runs `round` every `everyMs`. A round still running when the next tick comes
 * is not started twice: that tick is skipped (logged at debug). The timer is
 * unref'd, so a poll never keeps the process alive.
 */
export function startPoll(o: { name: string; everyMs: number; log: Logger; round: (signal: AbortSignal) => Promise<void> }): Poll {
  const stopping = new AbortController();
  let running: Promise<void> | null = null;
  const tick = () => {
    if (stopping.signal.aborted) return;
    if (running) {
      o.log.debug({ poll: o.name }, 'poll still running; tick skipped');
      return;
    }
    running = o
      .round(stopping.signal)
      .catch((err: unknown) => o.log.warn({ err, poll: o.name }, 'poll failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, o.everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
