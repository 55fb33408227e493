import { describe, expect, it } from 'vitest';
import { secretValues } from '../../src/config/env.js';
import { LOG_FORMATS, type LogFormat, loadConfig } from '../../src/config/index.js';
import { createJenkinsRunner } from '../../src/integrations/jenkins/jenkins-runner.js';
import { createLogger, REDACTED } from '../../src/log.js';

const SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-SECRET-bot-0001',
  SLACK_SIGNING_SECRET: 'SECRET-signing-0002',
  GITHUB_TOKEN: 'ghp_SECRET0003',
  GITHUB_WEBHOOK_SECRET: 'SECRET-gh-hook-0004',
  JENKINS_API_TOKEN: 'SECRET-jenkins-0005',
  JENKINS_WEBHOOK_TOKEN: 'SECRET-jenkins-hook-0006',
  JIRA_API_TOKEN: 'SECRET-jira-0007',
  JIRA_WEBHOOK_SECRET: 'SECRET-jira-hook-0008',
  CONDUCTOR_API_TOKEN: 'SECRET-api-0009',
};

function capture(format: LogFormat = 'json') {
  const lines: string[] = [];
  const log = createLogger('debug', { write: (s: string) => void lines.push(s) }, format);
  return { log, text: () => lines.join('\n') };
}

describe.each(LOG_FORMATS)('secrets never reach the log (%s)', (format) => {
  it('censors every secret of the environment, however the config is logged', async () => {
    const config = await loadConfig({
      env: {
        ...SECRETS,
        DATABASE_URL: 'postgres://conductor:SECRET-db-0010@db.internal:5432/conductor',
        JENKINS_URL: 'https://ci.example.com',
        JENKINS_USER: 'conductor',
        JIRA_URL: 'https://acme.atlassian.net',
        JIRA_EMAIL: 'bot@acme.com',
        CONDUCTOR_DATA_DIR: '/tmp/conductor-redaction',
      },
      cwd: '/tmp',
    });
    const { log, text } = capture(format);
    log.info({ env: config.env }, 'env');
    log.info({ config }, 'config');
    log.info(config.env, 'env at top level');
    log.info({ slack: config.env.slack, jenkins: config.env.jenkins }, 'parts');
    const out = text();
    for (const value of [...Object.values(SECRETS), 'SECRET-db-0010']) expect(out, value).not.toContain(value);
    expect(out).toContain(REDACTED);
    expect(out).toContain('https://ci.example.com'); // what is not secret stays readable
    if (format === 'pretty') expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: env /m);
  });

  it('knows every secret value of the environment, to clean job output of them', async () => {
    const config = await loadConfig({
      env: {
        ...SECRETS,
        DATABASE_URL: 'postgres://conductor:SECRET-db-0010@db.internal:5432/conductor',
        JENKINS_URL: 'https://ci.example.com',
        JENKINS_USER: 'conductor',
        JIRA_URL: 'https://acme.atlassian.net',
        JIRA_EMAIL: 'bot@acme.com',
        CONDUCTOR_DATA_DIR: '/tmp/conductor-redaction',
      },
      cwd: '/tmp',
    });
    const values = secretValues(config.env);
    for (const value of Object.values(SECRETS)) expect(values, value).toContain(value);
    expect(values.some((v) => v.includes('SECRET-db-0010'))).toBe(true);
    expect(values).not.toContain('https://ci.example.com');
  });

  it('censors Authorization headers and token-like fields in request logs', () => {
    const { log, text } = capture(format);
    log.info({ req: { headers: { authorization: 'Bearer SECRET-api-0009', cookie: 'sid=SECRET-cookie' } } }, 'request');
    log.info({ headers: { authorization: 'Basic SECRET-basic' } }, 'outgoing');
    log.info({ token: 'SECRET-x', client: { token: 'SECRET-y', password: 'SECRET-z' } }, 'fields');
    const out = text();
    for (const s of ['SECRET-api-0009', 'SECRET-cookie', 'SECRET-basic', 'SECRET-x', 'SECRET-y', 'SECRET-z']) expect(out).not.toContain(s);
  });

  it('does not leak the Jenkins API token through errors of an unreachable Jenkins', async () => {
    const { log, text } = capture(format);
    const runner = createJenkinsRunner({
      url: 'http://127.0.0.1:9',
      user: 'conductor',
      apiToken: SECRETS.JENKINS_API_TOKEN,
      jobs: { build: 'b', deploy: 'd', rollback: 'd' },
      pollSeconds: 1,
      log,
      onResult: () => {},
    });
    const error = await runner
      .start({ jobId: 1, kind: 'build', line: 'web', train: 1, sha: 'a'.repeat(40), branch: 'main', engineer: null, conductorUrl: 'http://x', timeoutMinutes: 1, idempotencyKey: 'k' })
      .then(
        () => null,
        (err: unknown) => err,
      );
    await runner.close();
    expect(error).toBeInstanceOf(Error);
    log.error({ err: error }, 'start failed');
    expect(text()).toContain('Jenkins refused to start');
    expect(text()).not.toContain(SECRETS.JENKINS_API_TOKEN);
  });
});
