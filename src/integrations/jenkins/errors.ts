import { RetryableEffectError } from '../../engine/errors.js';

/** Jenkins could not do what was asked (unreachable, refused, closed runner): the outbox retries with backoff. */
export class RetryableJenkinsError extends RetryableEffectError {
  override readonly name = 'RetryableJenkinsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'jenkins_failed' });
  }
}
