import type { Logger } from 'pino';

export interface GuardOptions {
  /** Stops Conductor cleanly (as on SIGTERM); called when uncaught exceptions keep coming. */
  stop: (reason: string) => void;
  /** More than this many uncaught exceptions within `windowMs` means something is broken for good. */
  maxUncaught?: number;
  windowMs?: number;
}

/**
 * Last line of defence for errors outside any request (a request's own errors
 * are answered 500 by the HTTP server with its request id):
 *
 * - `unhandledRejection`: logged, and Conductor keeps serving. A promise
 *   nobody awaited (a background fetch, a library's internal call) leaves no
 *   half-done state behind: every change of state is one database transaction,
 *   committed or rolled back as a whole.
 * - `uncaughtException`: logged, and Conductor keeps serving, for the same
 *   reason (an error event nobody listened to, a throw in a timer: one task
 *   failed, not the process). Node warns that the process may be in an
 *   undefined state after one; the state that matters lives in PostgreSQL, so
 *   we accept that for an isolated error, but a storm of them (more than
 *   `maxUncaught` in `windowMs`) means a part is broken for good: then
 *   Conductor stops cleanly through `stop` (connections closed, the embedded
 *   PostgreSQL stopped) rather than limping on or dying mid-write.
 *
 * Returns a function that removes the handlers (tests).
 */
export function installProcessGuards(log: Logger, opts: GuardOptions): () => void {
  const maxUncaught = opts.maxUncaught ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  let recent: number[] = [];
  let stopping = false;

  const onRejection = (reason: unknown) => {
    log.error({ err: reason }, 'unhandled promise rejection (ignored; Conductor keeps serving)');
  };
  const onException = (err: Error, origin: string) => {
    const now = Date.now();
    recent = [...recent.filter((t) => now - t < windowMs), now];
    if (recent.length > maxUncaught) {
      log.fatal({ err, origin, count: recent.length, windowMs }, 'uncaught exceptions keep coming: stopping cleanly');
      if (!stopping) {
        stopping = true;
        opts.stop('uncaughtException');
      }
      return;
    }
    log.error({ err, origin }, 'uncaught exception (Conductor keeps serving)');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
