/**
 * The one error shape of effects (bolt-js's coded errors): every adapter's
 * errors extend one of these, so the outbox worker knows what to do with them
 * without knowing the adapter.
 * - `PermanentEffectError`: retrying can never help; the item is closed ("gave up: …").
 * - `RetryableEffectError`: try again, after `retryAfterMs` when the service said when
 *   (Slack's or Jira's Retry-After), else with the worker's backoff.
 * Anything else thrown by a handler is retried with backoff too.
 */
export class ConductorError extends Error {
  constructor(
    readonly code: string,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class PermanentEffectError extends ConductorError {
  /** A short reason people can read in the channel (e.g. `no transition to "Done" from "In Review"`); the message has the details. */
  readonly summary?: string;
  constructor(message?: string, options?: { cause?: unknown; summary?: string; code?: string }) {
    super(options?.code ?? 'effect_permanent', message, options);
    if (options?.summary) this.summary = options.summary;
  }
}

export class RetryableEffectError extends ConductorError {
  constructor(message?: string, options?: { cause?: unknown; code?: string; retryAfterMs?: number }) {
    super(options?.code ?? 'effect_retryable', message, options);
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
  /** When the service said when to come back; absent: the worker's backoff. */
  readonly retryAfterMs?: number;
}

/** A retryable error with a known delay (Slack 429 Retry-After, a card being posted by another worker). */
export class RetryLaterError extends RetryableEffectError {
  constructor(
    message: string,
    readonly afterMs: number,
    options?: { cause?: unknown; code?: string },
  ) {
    super(message, { ...options, code: options?.code ?? 'effect_retry_later', retryAfterMs: afterMs });
  }
}
