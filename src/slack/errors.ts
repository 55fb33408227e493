import { ErrorCode, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';
import { PermanentEffectError, RetryableEffectError, RetryLaterError } from '../engine/errors.js';

/** Slack answers that retrying can never fix (the request itself is wrong). */
const PERMANENT = new Set([
  'channel_not_found',
  'is_archived',
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'user_not_found',
  'cannot_dm_bot',
  'not_in_channel',
  'invalid_auth',
  'account_inactive',
  'missing_scope',
]);

/**
 * Maps a Web API failure to the outbox's vocabulary: 429 → retry after
 * Retry-After; a permanent platform error → give up (logged); anything else
 * (5xx, network) → retry with backoff.
 */
export function toOutboxError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === ErrorCode.RateLimitedError) {
    const e = err as WebAPIRateLimitedError;
    return new RetryLaterError(`Slack rate limit: retry after ${e.retryAfter} s`, Math.max(1, e.retryAfter) * 1000, { code: 'slack_rate_limited', cause: err });
  }
  if (code === ErrorCode.PlatformError) {
    const e = err as WebAPIPlatformError;
    const slackError = String(e.data?.error ?? 'unknown');
    if (PERMANENT.has(slackError)) return new PermanentEffectError(`Slack refused: ${slackError}`, { code: 'slack_refused', cause: err });
    return new RetryableEffectError(`Slack answered ${slackError}`, { code: 'slack_failed', cause: err });
  }
  return err;
}

export async function slackCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toOutboxError(err);
  }
}

/** Slack answered the call with a refusal (HTTP error status, rate limit, ok:false): nothing was done. */
export function slackAnswered(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === ErrorCode.HTTPError || code === ErrorCode.RateLimitedError || code === ErrorCode.PlatformError;
}
