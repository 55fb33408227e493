import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_KEYS, parseEnv, redactEnv, SECRET_ENV_KEYS, secretEnvPaths, validateEnv } from '../../src/config/index.js';

const cwd = '/srv/conductor';

function problemsOf(raw: Record<string, string | undefined>): string[] {
  const result = validateEnv(raw, { cwd });
  return result.problems;
}

describe('environment', () => {
  it('applies the defaults when nothing is set', () => {
    const env = parseEnv({}, { cwd });
    expect(env).toEqual({
      port: 3000,
      dataDir: path.join(cwd, '.conductor'),
      configPath: path.join(cwd, 'conductor.yml'),
      configPathExplicit: false,
      publicUrl: 'http://localhost:3000',
      logLevel: 'info',
    });
    expect(env.slack).toBeUndefined();
    expect(env.github).toBeUndefined();
    expect(env.jenkins).toBeUndefined();
    expect(env.jira).toBeUndefined();
  });

  it('reads every variable into its group', () => {
    const env = parseEnv(
      {
        PORT: '8080',
        DATABASE_URL: 'postgresql://conductor:pw@db:5432/conductor',
        CONDUCTOR_DATA_DIR: 'data',
        CONDUCTOR_CONFIG: '/etc/conductor/conductor.yml',
        CONDUCTOR_PUBLIC_URL: 'https://conductor.example.com/',
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_SIGNING_SECRET: 'sign',
        SLACK_APP_TOKEN: 'xapp-1',
        SLACK_API_URL: 'http://127.0.0.1:9000/api',
        GITHUB_TOKEN: 'ghp',
        GITHUB_WEBHOOK_SECRET: 'ghs',
        GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
        JENKINS_URL: 'https://jenkins.example.com/',
        JENKINS_USER: 'bot',
        JENKINS_API_TOKEN: 'jt',
        JENKINS_WEBHOOK_TOKEN: 'jw',
        JIRA_URL: 'https://acme.atlassian.net',
        JIRA_EMAIL: 'Bot@Acme.com',
        JIRA_API_TOKEN: 'jat',
        JIRA_WEBHOOK_SECRET: 'jws',
        CONDUCTOR_API_TOKEN: 'api',
        LOG_LEVEL: 'DEBUG',
      },
      { cwd },
    );
    expect(env).toEqual({
      port: 8080,
      databaseUrl: 'postgresql://conductor:pw@db:5432/conductor',
      dataDir: path.join(cwd, 'data'),
      configPath: '/etc/conductor/conductor.yml',
      configPathExplicit: true,
      publicUrl: 'https://conductor.example.com',
      logLevel: 'debug',
      apiToken: 'api',
      slack: { botToken: 'xoxb-1', signingSecret: 'sign', appToken: 'xapp-1', apiUrl: 'http://127.0.0.1:9000/api/' },
      github: { token: 'ghp', webhookSecret: 'ghs', apiUrl: 'https://ghe.example.com/api/v3' },
      jenkins: { url: 'https://jenkins.example.com', user: 'bot', apiToken: 'jt', webhookToken: 'jw' },
      jira: { url: 'https://acme.atlassian.net', email: 'bot@acme.com', apiToken: 'jat', webhookSecret: 'jws' },
    });
  });

  it('defaults the public URL to the port and the Slack API URL to Slack', () => {
    const env = parseEnv({ PORT: '4000', SLACK_BOT_TOKEN: 'b', SLACK_SIGNING_SECRET: 's' }, { cwd });
    expect(env.publicUrl).toBe('http://localhost:4000');
    expect(env.slack).toEqual({ botToken: 'b', signingSecret: 's', apiUrl: 'https://slack.com/api/' });
  });

  it('treats empty and blank values as unset and trims values', () => {
    const env = parseEnv({ PORT: '', SLACK_BOT_TOKEN: '  ', SLACK_SIGNING_SECRET: '', LOG_LEVEL: ' warn ' }, { cwd });
    expect(env.port).toBe(3000);
    expect(env.slack).toBeUndefined();
    expect(env.logLevel).toBe('warn');
    expect(env.logFormat).toBeUndefined(); // unset: the logger looks at the terminal
    expect(parseEnv({ LOG_FORMAT: ' JSON ' }, { cwd }).logFormat).toBe('json');
  });

  it('makes github present when only the webhook secret is set', () => {
    expect(parseEnv({ GITHUB_WEBHOOK_SECRET: 's' }, { cwd }).github).toEqual({ webhookSecret: 's', apiUrl: 'https://api.github.com' });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT: expected an integer from 1 to 65535, got "abc"'],
    [{ PORT: '0' }, 'PORT: expected an integer from 1 to 65535, got "0"'],
    [{ PORT: '65536' }, 'PORT: expected an integer from 1 to 65535, got "65536"'],
    [{ PORT: '80.5' }, 'PORT: expected an integer from 1 to 65535, got "80.5"'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    [{ LOG_FORMAT: 'fancy' }, 'LOG_FORMAT: expected one of pretty, json, got "fancy"'],
    [{ CONDUCTOR_PUBLIC_URL: 'conductor.example.com' }, 'CONDUCTOR_PUBLIC_URL: expected an http:// or https:// URL, got "conductor.example.com"'],
    [{ CONDUCTOR_PUBLIC_URL: 'ftp://x.example.com' }, 'CONDUCTOR_PUBLIC_URL: expected an http:// or https:// URL, got "ftp://x.example.com"'],
    [{ GITHUB_API_URL: 'not a url' }, 'GITHUB_API_URL: expected an http:// or https:// URL, got "not a url"'],
    [{ SLACK_BOT_TOKEN: 'b', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'slack' }, 'SLACK_API_URL: expected an http:// or https:// URL, got "slack"'],
  ])('rejects %j', (raw, message) => {
    expect(problemsOf(raw)).toEqual([message]);
  });

  it('rejects a DATABASE_URL that is not postgres without echoing it', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://root:hunter2@db/app' });
    expect(problems).toEqual(['DATABASE_URL: expected a postgres:// or postgresql:// URL, got a mysql:// URL']);
    expect(problemsOf({ DATABASE_URL: 'hunter2' })).toEqual(['DATABASE_URL: expected a postgres:// or postgresql:// URL, got a value that is not a URL']);
  });

  it('accepts postgres:// and postgresql:// URLs, including socket URLs', () => {
    expect(parseEnv({ DATABASE_URL: 'postgres://u:p@h/d' }, { cwd }).databaseUrl).toBe('postgres://u:p@h/d');
    expect(parseEnv({ DATABASE_URL: 'postgresql:///d?host=/run/postgresql' }, { cwd }).databaseUrl).toBe('postgresql:///d?host=/run/postgresql');
  });

  it('names the missing Slack variable when only one of the pair is set', () => {
    expect(problemsOf({ SLACK_BOT_TOKEN: 'xoxb' })).toEqual([
      'SLACK_SIGNING_SECRET: is not set, but SLACK_BOT_TOKEN is: Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or neither, to run without Slack)',
    ]);
    expect(problemsOf({ SLACK_SIGNING_SECRET: 's' })).toEqual([
      'SLACK_BOT_TOKEN: is not set, but SLACK_SIGNING_SECRET is: Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or neither, to run without Slack)',
    ]);
  });

  it('requires the bot token for Socket Mode', () => {
    expect(problemsOf({ SLACK_APP_TOKEN: 'xapp' })).toEqual(['SLACK_APP_TOKEN: is set, but SLACK_BOT_TOKEN is not: Socket Mode needs the bot token and the signing secret too']);
  });

  it('requires the Jenkins user and API token with JENKINS_URL', () => {
    expect(problemsOf({ JENKINS_URL: 'https://ci.example.com' })).toEqual([
      'JENKINS_USER: is not set, but JENKINS_URL is: Jenkins needs JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN',
      'JENKINS_API_TOKEN: is not set, but JENKINS_URL is: Jenkins needs JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN',
    ]);
  });

  it('requires the Jira email and API token with JIRA_URL', () => {
    expect(problemsOf({ JIRA_URL: 'https://acme.atlassian.net', JIRA_EMAIL: 'bot@acme.com' })).toEqual([
      'JIRA_API_TOKEN: is not set, but JIRA_URL is: Jira needs JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN',
    ]);
    expect(problemsOf({ JIRA_URL: 'https://acme.atlassian.net', JIRA_EMAIL: 'nobody', JIRA_API_TOKEN: 't' })).toEqual(['JIRA_EMAIL: expected an email address, got "nobody"']);
  });

  it('rejects Jenkins and Jira credentials without their URL', () => {
    expect(problemsOf({ JENKINS_API_TOKEN: 't', JIRA_WEBHOOK_SECRET: 's' })).toEqual([
      'JENKINS_API_TOKEN: is set, but JENKINS_URL is not: set JENKINS_URL to use Jenkins, or unset JENKINS_API_TOKEN',
      'JIRA_WEBHOOK_SECRET: is set, but JIRA_URL is not: set JIRA_URL to use Jira, or unset JIRA_WEBHOOK_SECRET',
    ]);
  });

  it('reports every problem together in one ConfigError', () => {
    let error: unknown;
    try {
      parseEnv({ PORT: 'abc', LOG_LEVEL: 'loud', SLACK_BOT_TOKEN: 'x', JENKINS_URL: 'jenkins' }, { cwd });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      'PORT: expected an integer from 1 to 65535, got "abc"',
      'JENKINS_URL: expected an http:// or https:// URL, got "jenkins"',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'SLACK_SIGNING_SECRET: is not set, but SLACK_BOT_TOKEN is: Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or neither, to run without Slack)',
      'JENKINS_USER: is not set, but JENKINS_URL is: Jenkins needs JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN',
      'JENKINS_API_TOKEN: is not set, but JENKINS_URL is: Jenkins needs JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN',
    ]);
    expect((error as ConfigError).message).toContain('6 problems');
  });

  it('lists the secret variables and redacts them', () => {
    expect(SECRET_ENV_KEYS).toEqual(
      expect.arrayContaining(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'GITHUB_WEBHOOK_SECRET', 'JENKINS_API_TOKEN', 'JIRA_API_TOKEN', 'CONDUCTOR_API_TOKEN', 'DATABASE_URL']),
    );
    for (const key of SECRET_ENV_KEYS) expect(ENV_KEYS).toContain(key);
    expect(SECRET_ENV_KEYS).not.toContain('PORT');

    const env = parseEnv(
      {
        DATABASE_URL: 'postgres://u:hunter2@db/c',
        SLACK_BOT_TOKEN: 'xoxb-secret',
        SLACK_SIGNING_SECRET: 'sig',
        JIRA_URL: 'https://j.example.com',
        JIRA_EMAIL: 'a@b.c',
        JIRA_API_TOKEN: 'jat',
      },
      { cwd },
    );
    const shown = JSON.stringify(redactEnv(env));
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('xoxb-secret');
    expect(shown).not.toContain('jat');
    expect(redactEnv(env).databaseUrl).toBe('postgres://u:[redacted]@db/c');
    expect(env.slack?.botToken).toBe('xoxb-secret'); // the original is untouched
    expect(secretEnvPaths('env')).toContain('env.slack.botToken');
  });

  describe('sign-in issuer', () => {
    const secret = { CONDUCTOR_SESSION_SECRET: 'x'.repeat(32) };
    it('reads Sign in with Slack, its issuer the origin of SLACK_API_URL', () => {
      expect(parseEnv({ SLACK_CLIENT_ID: '1.2', SLACK_CLIENT_SECRET: 'cs', ...secret }, { cwd }).signIn).toEqual({
        kind: 'slack',
        issuerUrl: 'https://slack.com',
        clientId: '1.2',
        clientSecret: 'cs',
      });
      const env = parseEnv({ SLACK_CLIENT_ID: '1.2', SLACK_CLIENT_SECRET: 'cs', SLACK_API_URL: 'http://127.0.0.1:9000/api/', ...secret }, { cwd });
      expect(env.signIn?.issuerUrl).toBe('http://127.0.0.1:9000');
      expect(env.slack).toBeUndefined(); // the bot is separate
    });

    it('reads an OpenID Connect issuer as given', () => {
      const env = parseEnv({ OIDC_ISSUER_URL: 'https://kc.example.com/realms/x', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's', ...secret }, { cwd });
      expect(env.signIn).toEqual({ kind: 'oidc', issuerUrl: 'https://kc.example.com/realms/x', clientId: 'c', clientSecret: 's' });
      expect(JSON.stringify(redactEnv(env))).not.toContain('"s"');
      expect(secretEnvPaths()).toContain('signIn.clientSecret');
      expect(SECRET_ENV_KEYS).toEqual(expect.arrayContaining(['SLACK_CLIENT_SECRET', 'OIDC_CLIENT_SECRET']));
    });

    it('needs all of a group, one group only, a session secret, and https off this machine', () => {
      expect(problemsOf({ SLACK_CLIENT_ID: 'a', ...secret })).toEqual([
        'SLACK_CLIENT_SECRET: is not set, but SLACK_CLIENT_ID is: Sign in with Slack needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET (or none of them)',
      ]);
      expect(problemsOf({ OIDC_ISSUER_URL: 'https://i.example.com', OIDC_CLIENT_SECRET: 's', ...secret })).toEqual([
        'OIDC_CLIENT_ID: is not set, but OIDC_ISSUER_URL and OIDC_CLIENT_SECRET are: OpenID Connect sign-in needs OIDC_ISSUER_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET (or none of them)',
      ]);
      const both = problemsOf({ SLACK_CLIENT_ID: 'a', SLACK_CLIENT_SECRET: 'b', OIDC_ISSUER_URL: 'https://i.example.com', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 'd', ...secret });
      expect(both).toHaveLength(1);
      expect(both[0]).toMatch(/^SLACK_CLIENT_ID: .*OIDC_ISSUER_URL.*choose one sign-in/);
      const noSecret = problemsOf({ OIDC_ISSUER_URL: 'https://i.example.com', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 'd' });
      expect(noSecret).toHaveLength(1);
      expect(noSecret[0]).toMatch(/^CONDUCTOR_SESSION_SECRET: is not set, but OIDC_ISSUER_URL is: .*at least 32 characters, the same in every Conductor process/);
      expect(problemsOf({ SLACK_CLIENT_ID: 'a', SLACK_CLIENT_SECRET: 'b' })[0]).toMatch(/^CONDUCTOR_SESSION_SECRET: is not set, but SLACK_CLIENT_ID is/);
      expect(problemsOf({ OIDC_ISSUER_URL: 'http://idp.example.com', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 'd', ...secret })).toEqual([
        'OIDC_ISSUER_URL: is an http:// URL on "idp.example.com": a sign-in issuer must use https:// (http:// only on this machine: localhost, 127.x.x.x, [::1])',
      ]);
      expect(problemsOf({ SLACK_CLIENT_ID: 'a', SLACK_CLIENT_SECRET: 'b', SLACK_API_URL: 'http://slack.internal/api/', ...secret })[0]).toMatch(/^SLACK_API_URL: is an http:\/\/ URL/);
      for (const host of ['127.0.0.1:4000', 'localhost', '[::1]:8080']) {
        expect(problemsOf({ OIDC_ISSUER_URL: `http://${host}`, OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 'd', ...secret })).toEqual([]);
      }
      // A secret is never echoed.
      expect(problemsOf({ SLACK_CLIENT_SECRET: 'hunter2-secret', ...secret }).join('\n')).not.toContain('hunter2');
    });
  });
});
