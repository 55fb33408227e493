import { PermanentEffectError, RetryableEffectError, RetryLaterError } from '../../engine/errors.js';

/**
 * Jira refused the request for good (400 invalid fields, 403 no permission,
 * 404 unknown issue …): retrying cannot help. It extends the outbox's
 * PermanentEffectError, so an outbox item that throws it is closed (and logged)
 * instead of retried forever.
 */
export class PermanentJiraError extends PermanentEffectError {
  override readonly name = 'PermanentJiraError';
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown; summary?: string },
  ) {
    super(message, { ...options, code: 'jira_refused' });
  }
}

/** A failure worth retrying (network, timeout, 5xx, 401 while a token is rotated, 408). */
export class RetryableJiraError extends RetryableEffectError {
  override readonly name = 'RetryableJiraError';
  constructor(
    readonly status: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, { ...options, code: 'jira_failed' });
  }
}

/** 4xx statuses that are worth retrying: 401 (expired/rotated token, fixed by an operator), 408, 409, 425. 429 is handled apart. */
const RETRYABLE_4XX = new Set([401, 408, 409, 425]);

interface JiraishError {
  status?: unknown;
  message?: unknown;
  response?: { data?: unknown; status?: unknown };
  cause?: { response?: { headers?: Record<string, unknown> } };
}

/** The HTTP status of a jira.js failure (HttpException carries `status`; a network error has none). */
export function statusOf(err: unknown): number | null {
  const e = err as JiraishError | null;
  if (!e || typeof e !== 'object') return null;
  // jira.js wraps a response in HttpException({ …, status, data }) with `.status`;
  // a bare axios network error has no response and is returned as-is (status undefined).
  const status = e.response && typeof e.response === 'object' && typeof e.response.status === 'number' ? e.response.status : null;
  return status;
}

/** Jira's own explanation: `errorMessages` and `errors` of the response body. */
export function detailOf(err: unknown): string {
  const e = err as JiraishError | null;
  const data = e?.response?.data as { errorMessages?: unknown; errors?: unknown } | undefined;
  const parts: string[] = [];
  if (data && typeof data === 'object') {
    if (Array.isArray(data.errorMessages)) parts.push(...data.errorMessages.map(String));
    if (data.errors && typeof data.errors === 'object') {
      for (const [k, v] of Object.entries(data.errors as Record<string, unknown>)) parts.push(`${k}: ${String(v)}`);
    }
  }
  if (!parts.length && e && typeof e.message === 'string') parts.push(e.message);
  return parts.join('; ') || 'unknown error';
}

/** The `errors` map of a 400 answer (field → message), for targeted fallbacks. */
export function fieldErrorsOf(err: unknown): Record<string, string> {
  const data = (err as JiraishError | null)?.response?.data as { errors?: unknown } | undefined;
  if (!data || typeof data !== 'object' || !data.errors || typeof data.errors !== 'object') return {};
  return Object.fromEntries(Object.entries(data.errors as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

/**
 * Maps a jira.js failure to the outbox's vocabulary: 429 → RetryLaterError
 * (Retry-After, default 30 s); other 4xx (except RETRYABLE_4XX) →
 * PermanentJiraError; anything else (5xx, network, timeout) → RetryableJiraError.
 */
export function toJiraError(what: string, err: unknown): Error {
  if (err instanceof PermanentJiraError || err instanceof RetryableJiraError || err instanceof RetryLaterError) return err;
  const status = statusOf(err);
  const detail = detailOf(err);
  if (status === 429) {
    const header = (err as JiraishError).cause?.response?.headers?.['retry-after'];
    const seconds = Number(header);
    const ms = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 3600) * 1000 : 30_000;
    return new RetryLaterError(`Jira rate limit on ${what}: retry in ${Math.round(ms / 1000)} s`, ms, { code: 'jira_rate_limited' });
  }
  if (status !== null && status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
    return new PermanentJiraError(status, `Jira refused ${what} (${status}): ${detail}`, { cause: err });
  }
  return new RetryableJiraError(status, `Jira ${what} failed${status ? ` (${status})` : ''}: ${detail}`, { cause: err });
}
