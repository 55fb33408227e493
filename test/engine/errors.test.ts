// One error shape (src/engine/errors.ts): every adapter's effect errors are the outbox's, with a code.
import { describe, expect, it } from 'vitest';
import { ConductorError, PermanentEffectError, RetryableEffectError, RetryLaterError } from '../../src/engine/errors.js';
import { PermanentGithubError, RetryableGithubError } from '../../src/integrations/github/statuses.js';
import { RetryableJenkinsError } from '../../src/integrations/jenkins/errors.js';
import { PermanentJiraError, RetryableJiraError } from '../../src/integrations/jira/errors.js';

describe('effect errors', () => {
  it.each([
    [new PermanentGithubError(422, 'refused'), PermanentEffectError, 'github_refused'],
    [new RetryableGithubError(502, 'bad gateway'), RetryableEffectError, 'github_failed'],
    [new PermanentJiraError(400, 'invalid'), PermanentEffectError, 'jira_refused'],
    [new RetryableJiraError(null, 'timeout'), RetryableEffectError, 'jira_failed'],
    [new RetryableJenkinsError('unreachable'), RetryableEffectError, 'jenkins_failed'],
    [new RetryLaterError('slack 429', 3_000), RetryableEffectError, 'effect_retry_later'],
  ])('%s is a %s with code %s', (err, base, code) => {
    expect(err).toBeInstanceOf(base);
    expect(err).toBeInstanceOf(ConductorError);
    expect(err.code).toBe(code);
  });

  it('a retry-later error says when to come back', () => {
    const err = new RetryLaterError('slack 429', 3_000);
    expect(err.retryAfterMs).toBe(3_000);
    expect(err.afterMs).toBe(3_000);
    expect(new RetryableEffectError('later').retryAfterMs).toBeUndefined();
  });
});
