import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, type FileConfig, type Integrations, readConfigFile } from '../../src/config/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'conductor-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ALL: Integrations = { jenkins: true, jira: true };

async function load(yaml: string, integrations: Integrations = ALL): Promise<FileConfig> {
  const file = path.join(dir, 'conductor.yml');
  await writeFile(file, yaml);
  return readConfigFile({ path: file, displayName: 'conductor.yml', integrations });
}

async function problems(yaml: string, integrations: Integrations = ALL): Promise<string[]> {
  try {
    await load(yaml, integrations);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** A minimal valid line, to which a test adds the keys it is about. */
const line = (extra = '') => `
lines:
  - name: web
    repo: https://github.com/acme/web.git
    build: {command: make build}
    deploy: {command: make deploy}
${extra
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => `    ${l}`)
  .join('\n')}
`;

describe('conductor.yml: a full valid file', () => {
  it('is normalised into typed objects', async () => {
    const config = await load(`
timezone: europe/paris
admins: [Alice@Example.com, bob@example.com, alice@example.com]
robots: [renovate@example.com]
jenkins: {pollSeconds: 20}
jira: {pollSeconds: 120, doneStatus: Verified}
lines:
  - name: web
    repo: git@github.com:acme/web.git
    github: acme/web-app
    branch: release
    channel: C0123ABC
    mode: manual
    autoTime:
      - {days: mon-fri, start: "9:00", end: "17:30"}
      - {days: [sat, sun], start: "22:00", end: "02:00"}
      - {days: "mon,wed", start: "00:00", end: "24:00"}
    freeze: [2026-12-25, 2026-12-24, 2026-12-25]
    build: {jenkins: web/build, timeoutMinutes: 45}
    deploy: {jenkins: web/deploy}
    rollback: {command: ./rollback.sh, timeoutMinutes: 5}
    tickets: {jira: web}
    maxCommits: 20
    reminderMinutes: 15
    pollSeconds: 30
  - name: api.v2
    repo: ssh://git@example.com/acme/api.git
    timezone: America/New_York
    build: {command: make}
    deploy: {command: make deploy, timeoutMinutes: 0.5}
    tickets: builtin
`);
    expect(config).toEqual({
      timezone: 'Europe/Paris',
      admins: ['alice@example.com', 'bob@example.com'],
      robots: ['renovate@example.com'],
      jenkins: { pollSeconds: 20 },
      jira: { pollSeconds: 120, doneStatus: 'Verified' },
      lines: [
        {
          name: 'web',
          repo: 'git@github.com:acme/web.git',
          github: { owner: 'acme', name: 'web-app', fullName: 'acme/web-app' },
          branch: 'release',
          channel: 'C0123ABC',
          mode: 'manual',
          timezone: 'Europe/Paris',
          autoTime: [
            { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:30' },
            { days: ['sat', 'sun'], start: '22:00', end: '02:00' },
            { days: ['mon', 'wed'], start: '00:00', end: '24:00' },
          ],
          freeze: ['2026-12-24', '2026-12-25'],
          build: { kind: 'jenkins', job: 'web/build', timeoutMinutes: 45 },
          deploy: { kind: 'jenkins', job: 'web/deploy', timeoutMinutes: 60 },
          rollback: { kind: 'command', command: './rollback.sh', timeoutMinutes: 5 },
          tickets: { kind: 'jira', project: 'WEB' },
          maxCommits: 20,
          reminderMinutes: 15,
          pollSeconds: 30,
          healthCheck: null,
          bisect: true,
          bisectParallel: 2,
        },
        {
          name: 'api.v2',
          repo: 'ssh://git@example.com/acme/api.git',
          github: null,
          branch: 'main',
          channel: null,
          mode: 'schedule',
          timezone: 'America/New_York',
          autoTime: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' }],
          freeze: [],
          build: { kind: 'command', command: 'make', timeoutMinutes: 30 },
          deploy: { kind: 'command', command: 'make deploy', timeoutMinutes: 0.5 },
          rollback: { kind: 'command', command: 'make deploy', timeoutMinutes: 0.5 },
          tickets: { kind: 'builtin' },
          maxCommits: null,
          reminderMinutes: 30,
          pollSeconds: 60,
          healthCheck: null,
          bisect: true,
          bisectParallel: 2,
        },
      ],
    });
  });

  it('applies the defaults to a minimal file', async () => {
    const config = await load(line());
    expect(config).toEqual({
      timezone: 'UTC',
      admins: [],
      robots: [],
      jenkins: { pollSeconds: 15 },
      jira: { pollSeconds: 60, doneStatus: 'Done' },
      lines: [
        {
          name: 'web',
          repo: 'https://github.com/acme/web.git',
          github: { owner: 'acme', name: 'web', fullName: 'acme/web' },
          branch: 'main',
          channel: null,
          mode: 'schedule',
          timezone: 'UTC',
          autoTime: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' }],
          freeze: [],
          build: { kind: 'command', command: 'make build', timeoutMinutes: 30 },
          deploy: { kind: 'command', command: 'make deploy', timeoutMinutes: 60 },
          rollback: { kind: 'command', command: 'make deploy', timeoutMinutes: 60 },
          tickets: { kind: 'builtin' },
          maxCommits: null,
          reminderMinutes: 30,
          pollSeconds: 60,
          healthCheck: null,
          bisect: true,
          bisectParallel: 2,
        },
      ],
    });
  });

  it('keeps an explicit empty autoTime (trains never start by themselves)', async () => {
    expect((await load(line('autoTime: []'))).lines[0]!.autoTime).toEqual([]);
  });

  it('reads days as lists, ranges (wrapping past Sunday), comma lists and groups', async () => {
    const config = await load(
      line(`autoTime:
  - {days: fri-mon, start: "10:00", end: "11:00"}
  - {days: "tue, thu", start: "10:00", end: "11:00"}
  - {days: [weekends, Monday], start: "10:00", end: "11:00"}
  - {days: weekdays, start: "10:00", end: "11:00"}`),
    );
    expect(config.lines[0]!.autoTime.map((w) => w.days)).toEqual([
      ['mon', 'fri', 'sat', 'sun'],
      ['tue', 'thu'],
      ['mon', 'sat', 'sun'],
      ['mon', 'tue', 'wed', 'thu', 'fri'],
    ]);
  });

  it('resolves a relative repo path against the config file directory', async () => {
    const config = await load(`
lines:
  - name: a
    repo: ../repos/a.git
    build: {command: b}
    deploy: {command: d}
  - name: b
    repo: /abs/b.git
    build: {command: b}
    deploy: {command: d}
  - name: c
    repo: c.git
    build: {command: b}
    deploy: {command: d}
  - name: d
    repo: file:///srv/d.git
    build: {command: b}
    deploy: {command: d}
`);
    expect(config.lines.map((l) => l.repo)).toEqual([path.resolve(dir, '../repos/a.git'), '/abs/b.git', path.join(dir, 'c.git'), 'file:///srv/d.git']);
  });

  it('ignores top-level x- keys, which may hold YAML anchors merged into lines', async () => {
    const config = await load(`
x-jobs: &jobs
  build: {command: make build}
  deploy: {command: make deploy}
lines:
  - name: web
    repo: /r/web.git
    <<: *jobs
  - name: api
    repo: /r/api.git
    <<: *jobs
    deploy: {command: make deploy-api}
`);
    expect(config.lines.map((l) => [l.build, l.deploy])).toEqual([
      [
        { kind: 'command', command: 'make build', timeoutMinutes: 30 },
        { kind: 'command', command: 'make deploy', timeoutMinutes: 60 },
      ],
      [
        { kind: 'command', command: 'make build', timeoutMinutes: 30 },
        { kind: 'command', command: 'make deploy-api', timeoutMinutes: 60 },
      ],
    ]);
  });

  it('strips refs/heads/ from the branch', async () => {
    expect((await load(line('branch: refs/heads/release/2.x'))).lines[0]!.branch).toBe('release/2.x');
  });
});

describe('conductor.yml: errors name the key path', () => {
  it.each([
    [
      'autoTime:\n  - {days: mon, start: "09:00", end: "10:00"}\n  - {days: mon, start: "25:00", end: "26:00"}',
      [
        'conductor.yml: lines[0].autoTime[1].start: expected a 24-hour time HH:MM, got "25:00"',
        'conductor.yml: lines[0].autoTime[1].end: expected a 24-hour time HH:MM (or 24:00 for the end of the day), got "26:00"',
      ],
    ],
    [
      'autoTime:\n  - {days: mon, start: "24:00", end: "10:00"}',
      ['conductor.yml: lines[0].autoTime[0].start: 24:00 can only end a window (it is the end of the day); start at "00:00" instead'],
    ],
    [
      'autoTime:\n  - {days: mon, start: "10:00", end: "10:00"}',
      ['conductor.yml: lines[0].autoTime[0].end: the window 10:00-10:00 is empty: start and end must differ (use "00:00" to "24:00" for a whole day)'],
    ],
    [
      'autoTime:\n  - {days: [mon, funday], start: "10:00", end: "11:00"}',
      ['conductor.yml: lines[0].autoTime[0].days: unknown day "funday": use mon … sun, ranges like mon-fri or fri-mon, lists like mon,wed,fri or [mon, wed], or daily, weekdays, weekends'],
    ],
    [
      'autoTime:\n  - {days: [], start: "10:00", end: "11:00"}',
      ['conductor.yml: lines[0].autoTime[0].days: no days given: use mon … sun, ranges like mon-fri or fri-mon, lists like mon,wed,fri or [mon, wed], or daily, weekdays, weekends'],
    ],
    ['autoTime:\n  - {days: mon, start: "10:00"}', ['conductor.yml: lines[0].autoTime[0].end: missing: expected a 24-hour time HH:MM (or 24:00 for the end of the day)']],
    ['autoTime: mon-fri', ['conductor.yml: lines[0].autoTime: expected a list of auto-time windows {days, start, end}, got "mon-fri"']],
    [
      'freeze: [2026-12-24, 2026-02-30, 24/12/2026]',
      ['conductor.yml: lines[0].freeze[1]: expected a date YYYY-MM-DD, got "2026-02-30"', 'conductor.yml: lines[0].freeze[2]: expected a date YYYY-MM-DD, got "24/12/2026"'],
    ],
    ['mode: manul', ['conductor.yml: lines[0].mode: expected "schedule" or "manual", got "manul"']],
    [
      'channel: "#releases"',
      ['conductor.yml: lines[0].channel: expected a Slack channel ID such as C0123ABC, got the channel name "#releases" (in Slack, the channel\'s details show its ID)'],
    ],
    ['github: acme', ['conductor.yml: lines[0].github: expected a GitHub repository as owner/name, got "acme"']],
    ['branch: "feature..x"', ['conductor.yml: lines[0].branch: expected a git branch name, got "feature..x"']],
    ['maxCommits: 0', ['conductor.yml: lines[0].maxCommits: expected a whole number greater than 0, got 0']],
    ['reminderMinutes: "30"', ['conductor.yml: lines[0].reminderMinutes: expected a number of minutes greater than 0 and at most 10080, got "30"']],
    ['pollSeconds: 1.5', ['conductor.yml: lines[0].pollSeconds: expected a whole number of seconds from 1 to 86400, got 1.5']],
    ['tickets: jira', ['conductor.yml: lines[0].tickets: expected "builtin" or {jira: <PROJECT KEY>}, got "jira"']],
    ['tickets: {jira: "1abc"}', ['conductor.yml: lines[0].tickets.jira: expected a Jira project key such as WEB (letters, digits and _, starting with a letter), got "1abc"']],
    ['timezone: Mars/Olympus', ['conductor.yml: lines[0].timezone: expected an IANA time zone such as "Europe/Paris" or "UTC", got "Mars/Olympus"']],
    ['rollback: {}', ['conductor.yml: lines[0].rollback: missing: expected jenkins: <job> or command: <shell command>']],
    ['rollback: {jenkins: a, command: b}', ['conductor.yml: lines[0].rollback: set either jenkins or command, not both']],
    ['rollback: {command: b, timeoutMinutes: -1}', ['conductor.yml: lines[0].rollback.timeoutMinutes: expected a number of minutes greater than 0 and at most 10080, got -1']],
    ['channel:', ['conductor.yml: lines[0].channel: expected a Slack channel ID such as C0123ABC, got nothing']],
  ])('%s', async (extra, expected) => {
    expect(await problems(line(extra))).toEqual(expected);
  });

  it('rejects a bad top-level timezone', async () => {
    expect(await problems(`timezone: Europe/Atlantis\n${line()}`)).toEqual(['conductor.yml: timezone: expected an IANA time zone such as "Europe/Paris" or "UTC", got "Europe/Atlantis"']);
  });

  it('rejects bad admin and robot emails', async () => {
    expect(await problems(`admins: [alice@example.com, bob]\nrobots: bot@example.com\n${line()}`)).toEqual([
      'conductor.yml: admins[1]: expected an email address, got "bob"',
      'conductor.yml: robots: expected a list of email addresses, got "bot@example.com"',
    ]);
  });

  it('reports unknown keys at every level, with a hint for typos', async () => {
    expect(
      await problems(`
timezone: UTC
admin: [a@example.com]
jira: {pollSecond: 5}
lines:
  - name: web
    repo: /r/web.git
    build: {command: make, timeout: 5}
    deploy: {command: make deploy}
    buidl: x
    autoTime:
      - {day: mon, start: "09:00", end: "10:00"}
`),
    ).toEqual([
      'conductor.yml: jira.pollSecond: unknown key (did you mean "pollSeconds"?)',
      'conductor.yml: admin: unknown key (did you mean "admins"?)',
      'conductor.yml: lines[0].autoTime[0].days: missing: expected days such as mon-fri or [mon, wed]',
      'conductor.yml: lines[0].autoTime[0].day: unknown key (did you mean "days"?)',
      'conductor.yml: lines[0].build.timeout: unknown key (did you mean "timeoutMinutes"?)',
      'conductor.yml: lines[0].buidl: unknown key (did you mean "build"?)',
    ]);
  });

  it('lists the known keys when an unknown key looks like none of them', async () => {
    const [p] = await problems(line('colour: blue'));
    expect(p).toMatch(/^conductor\.yml: lines\[0\]\.colour: unknown key \(expected one of: name, repo, github, branch, channel, mode, /);
  });

  it('requires the line keys and at least one line', async () => {
    expect(await problems('lines:\n  - name: web\n')).toEqual([
      'conductor.yml: lines[0].repo: missing: expected a git URL or a path to a repository',
      'conductor.yml: lines[0].build: missing: expected {jenkins: <job>} or {command: <shell command>}',
      'conductor.yml: lines[0].deploy: missing: expected {jenkins: <job>} or {command: <shell command>}',
    ]);
    expect(await problems('lines: []\n')).toEqual(['conductor.yml: lines: expected at least one line']);
    expect(await problems('timezone: UTC\n')).toEqual(['conductor.yml: lines: missing: expected a list of lines']);
  });

  it('rejects bad and duplicate line names', async () => {
    expect(
      await problems(`
lines:
  - {name: web, repo: /r/a.git, build: {command: b}, deploy: {command: d}}
  - {name: web, repo: /r/b.git, build: {command: b}, deploy: {command: d}}
  - {name: Web_App, repo: /r/c.git, build: {command: b}, deploy: {command: d}}
`),
    ).toEqual([
      'conductor.yml: lines[1].name: duplicate line name "web" (lines[0] has it too)',
      'conductor.yml: lines[2].name: expected a line name of lower-case letters, digits, ".", "_" or "-", starting with a letter or digit, got "Web_App"',
    ]);
  });

  it('rejects two lines on the same branch of the same repository', async () => {
    expect(
      await problems(`
lines:
  - {name: a, repo: https://github.com/acme/web.git, build: {command: b}, deploy: {command: d}}
  - {name: b, repo: https://github.com/acme/web, build: {command: b}, deploy: {command: d}}
  - {name: c, repo: https://github.com/acme/web, branch: next, build: {command: b}, deploy: {command: d}}
`),
    ).toEqual(['conductor.yml: lines[1].branch: lines[0] already watches branch "main" of this repository: one line per branch']);
  });

  it('rejects Jenkins jobs when Jenkins is not configured, naming the line and key', async () => {
    expect(
      await problems(line('rollback: {jenkins: web-rollback}').replace('build: {command: make build}', 'build: {jenkins: web-build}'), {
        jenkins: false,
        jira: true,
      }),
    ).toEqual([
      'conductor.yml: lines[0].build.jenkins: line "web" uses the Jenkins job "web-build", but Jenkins is not configured: set JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN',
      'conductor.yml: lines[0].rollback.jenkins: line "web" uses the Jenkins job "web-rollback", but Jenkins is not configured: set JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN',
    ]);
  });

  it('rejects Jira tickets when Jira is not configured', async () => {
    expect(await problems(line('tickets: {jira: WEB}'), { jenkins: true, jira: false })).toEqual([
      'conductor.yml: lines[0].tickets.jira: line "web" uses the Jira project "WEB", but Jira is not configured: set JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN',
    ]);
  });

  it('reports several problems together, across the file', async () => {
    const found = await problems(
      `
timezone: Nowhere/City
lines:
  - name: web
    repo: /r/web.git
    build: {command: make}
    deploy: {jenkins: deploy-web}
    freeze: [2026-02-30]
    autoTime:
      - {days: mon-fri, start: "25:00", end: "17:00"}
  - name: api
    repo: /r/api.git
    build: {command: make}
    mode: auto
`,
      { jenkins: false, jira: false },
    );
    expect(found).toEqual([
      'conductor.yml: timezone: expected an IANA time zone such as "Europe/Paris" or "UTC", got "Nowhere/City"',
      'conductor.yml: lines[0].autoTime[0].start: expected a 24-hour time HH:MM, got "25:00"',
      'conductor.yml: lines[0].freeze[0]: expected a date YYYY-MM-DD, got "2026-02-30"',
      'conductor.yml: lines[0].deploy.jenkins: line "web" uses the Jenkins job "deploy-web", but Jenkins is not configured: set JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN',
      'conductor.yml: lines[1].mode: expected "schedule" or "manual", got "auto"',
      'conductor.yml: lines[1].deploy: missing: expected {jenkins: <job>} or {command: <shell command>}',
    ]);
  });

  it('names the file and line of a YAML syntax error', async () => {
    const found = await problems('timezone: UTC\nlines:\n  - name: web\n    repo: [unclosed\n');
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]).toMatch(/^conductor\.yml: line \d+, column \d+: YAML syntax error: /);
  });

  it('reports duplicate keys as YAML errors', async () => {
    const found = await problems('timezone: UTC\ntimezone: Europe/Paris\n' + line());
    expect(found).toEqual([expect.stringMatching(/^conductor\.yml: line 2, column 1: YAML syntax error: Map keys must be unique/)]);
  });

  it('rejects an empty file and a file that is not a mapping', async () => {
    expect(await problems('')).toEqual(['conductor.yml: the file is empty: expected a mapping with at least "lines"']);
    expect(await problems('- a\n- b\n')).toEqual(['conductor.yml: expected a mapping with timezone, admins, robots and lines, got a list']);
  });
});
