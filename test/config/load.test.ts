import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AppConfig, ConfigError, demoConfig, loadConfig } from '../../src/config/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'conductor-load-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problems(run: () => Promise<AppConfig>): Promise<string[]> {
  try {
    await run();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const VALID = `
lines:
  - name: web
    repo: ./web.git
    build: {command: make build}
    deploy: {command: make deploy}
`;

describe('loadConfig', () => {
  it('falls back to the demo line when there is no file at the default path', async () => {
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.source).toBe('demo');
    expect(config.configPath).toBe(path.join(dir, 'conductor.yml'));
    expect(config.env.dataDir).toBe(path.join(dir, '.conductor'));
    expect(config.file).toEqual(demoConfig(path.join(dir, '.conductor')));
  });

  it('builds the demo line described in the spec', () => {
    const demo = demoConfig('/data');
    expect(demo.timezone).toBe('UTC');
    expect(demo.admins).toEqual(['admin@example.com']);
    expect(demo.robots).toEqual(['bot@example.com']);
    expect(demo.lines).toEqual([
      {
        name: 'demo',
        repo: '/data/demo.git',
        github: null,
        branch: 'main',
        channel: null,
        mode: 'schedule',
        timezone: 'UTC',
        autoTime: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' }],
        freeze: [],
        build: { kind: 'command', command: 'echo "building $SHA"; sleep 3; echo built', timeoutMinutes: 10 },
        deploy: { kind: 'command', command: 'echo "deploying $SHA"; sleep 3; echo deployed', timeoutMinutes: 10 },
        rollback: { kind: 'command', command: 'echo "deploying $SHA"; sleep 3; echo deployed', timeoutMinutes: 10 },
        tickets: { kind: 'builtin' },
        maxCommits: null,
        reminderMinutes: 30,
        pollSeconds: 5,
        healthCheck: null,
        bisect: true,
        bisectParallel: 2,
      },
    ]);
  });

  it('uses the demo repository under CONDUCTOR_DATA_DIR', async () => {
    const config = await loadConfig({ env: { CONDUCTOR_DATA_DIR: 'state' }, cwd: dir });
    expect(config.file.lines[0]!.repo).toBe(path.join(dir, 'state', 'demo.git'));
  });

  it('is an error when CONDUCTOR_CONFIG names a file that does not exist', async () => {
    const missing = path.join(dir, 'nope.yml');
    expect(await problems(() => loadConfig({ env: { CONDUCTOR_CONFIG: 'nope.yml' }, cwd: dir }))).toEqual([
      `CONDUCTOR_CONFIG: the file ${missing} does not exist (unset CONDUCTOR_CONFIG to run the demo line without a config file)`,
    ]);
  });

  it('reads the default conductor.yml and resolves a relative repo against its directory', async () => {
    await writeFile(path.join(dir, 'conductor.yml'), VALID);
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.source).toBe('file');
    expect(config.configPath).toBe(path.join(dir, 'conductor.yml'));
    expect(config.file.lines[0]!.repo).toBe(path.join(dir, 'web.git'));
  });

  it('resolves repo paths against the directory of CONDUCTOR_CONFIG, not the working directory', async () => {
    await mkdir(path.join(dir, 'etc'));
    await writeFile(path.join(dir, 'etc', 'release.yml'), VALID);
    const config = await loadConfig({ env: { CONDUCTOR_CONFIG: 'etc/release.yml' }, cwd: dir });
    expect(config.configPath).toBe(path.join(dir, 'etc', 'release.yml'));
    expect(config.env.configPathExplicit).toBe(true);
    expect(config.file.lines[0]!.repo).toBe(path.join(dir, 'etc', 'web.git'));
  });

  it('names the file as given in problems', async () => {
    await mkdir(path.join(dir, 'etc'));
    await writeFile(path.join(dir, 'etc', 'release.yml'), VALID.replace('make deploy}', 'make deploy, timeoutMinutes: 0}'));
    expect(await problems(() => loadConfig({ env: { CONDUCTOR_CONFIG: 'etc/release.yml' }, cwd: dir }))).toEqual([
      `${path.join('etc', 'release.yml')}: lines[0].deploy.timeoutMinutes: expected a number of minutes greater than 0 and at most 10080, got 0`,
    ]);
  });

  it('reports environment and file problems together', async () => {
    await writeFile(
      path.join(dir, 'conductor.yml'),
      `
timezone: Mars/Base
lines:
  - name: web
    repo: /r/web.git
    build: {jenkins: web-build}
    deploy: {command: make deploy}
    tickets: {jira: WEB}
`,
    );
    expect(await problems(() => loadConfig({ env: { PORT: 'abc', SLACK_SIGNING_SECRET: 's' }, cwd: dir }))).toEqual([
      'PORT: expected an integer from 1 to 65535, got "abc"',
      'SLACK_BOT_TOKEN: is not set, but SLACK_SIGNING_SECRET is: Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or neither, to run without Slack)',
      'conductor.yml: timezone: expected an IANA time zone such as "Europe/Paris" or "UTC", got "Mars/Base"',
      'conductor.yml: lines[0].build.jenkins: line "web" uses the Jenkins job "web-build", but Jenkins is not configured: set JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN',
      'conductor.yml: lines[0].tickets.jira: line "web" uses the Jira project "WEB", but Jira is not configured: set JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN',
    ]);
  });

  it('accepts Jenkins jobs and Jira tickets when their environment is set', async () => {
    await writeFile(
      path.join(dir, 'conductor.yml'),
      `
lines:
  - name: web
    repo: /r/web.git
    build: {jenkins: web-build}
    deploy: {jenkins: web-deploy}
    tickets: {jira: WEB}
`,
    );
    const config = await loadConfig({
      env: {
        JENKINS_URL: 'https://ci.example.com',
        JENKINS_USER: 'bot',
        JENKINS_API_TOKEN: 't',
        JIRA_URL: 'https://acme.atlassian.net',
        JIRA_EMAIL: 'bot@acme.com',
        JIRA_API_TOKEN: 't',
      },
      cwd: dir,
    });
    expect(config.file.lines[0]!.build).toEqual({ kind: 'jenkins', job: 'web-build', timeoutMinutes: 30 });
    expect(config.file.lines[0]!.tickets).toEqual({ kind: 'jira', project: 'WEB' });
    expect(config.env.jenkins?.url).toBe('https://ci.example.com');
  });

  it('does not blame the file for Jenkins when JENKINS_URL is set but its credentials are missing', async () => {
    await writeFile(path.join(dir, 'conductor.yml'), VALID.replace('build: {command: make build}', 'build: {jenkins: web-build}'));
    expect(await problems(() => loadConfig({ env: { JENKINS_URL: 'https://ci.example.com', JENKINS_USER: 'bot' }, cwd: dir }))).toEqual([
      'JENKINS_API_TOKEN: is not set, but JENKINS_URL is: Jenkins needs JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN',
    ]);
  });

  it('is an error when the config path is a directory', async () => {
    await mkdir(path.join(dir, 'conductor.yml'));
    expect(await problems(() => loadConfig({ env: {}, cwd: dir }))).toEqual(['conductor.yml: is a directory, expected a YAML file']);
  });
});
