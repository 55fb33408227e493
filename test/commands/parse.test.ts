import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, type Command } from '../../src/commands/command.js';
import { MAX_REASON_LENGTH, type ParseResult, parseCommand } from '../../src/commands/parse.js';
import { USAGE, usageFor, usageText } from '../../src/commands/usage.js';
import type { Weekday } from '../../src/domain/time.js';

function errorOf(result: ParseResult): string {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.error;
}

type OkCase = [text: string, command: Command];
type ErrCase = [text: string, ...fragments: string[]];

function okTable(cases: OkCase[]): void {
  it.each(cases)('%j parses', (text, command) => {
    expect(parseCommand(text)).toEqual({ ok: true, command });
  });
}

function errTable(usageName: string, cases: ErrCase[]): void {
  it.each(cases)('%j is refused', (text, ...fragments) => {
    const error = errorOf(parseCommand(text));
    for (const f of fragments) expect(error).toContain(f);
    // Every argument error ends with the subcommand's usage.
    expect(error).toContain(usageFor(usageName));
    expect(error).toContain('Usage:');
  });
}

describe('help and unknown input', () => {
  okTable([
    ['', { name: 'help' }],
    ['   ', { name: 'help' }],
    ['help', { name: 'help' }],
    ['HELP', { name: 'help' }],
    ['help start', { name: 'help', topic: 'start' }],
    ['help AutoTime', { name: 'help', topic: 'autotime' }],
    ['help autotime set', { name: 'help', topic: 'autotime' }],
  ]);

  it('treats text that is only --line as help for that line', () => {
    expect(parseCommand('--line web')).toEqual({ ok: true, command: { name: 'help' }, line: 'web' });
  });

  it.each(['foo', 'starts', 'Deploy-now', '--force', '42'])('unknown command %j gets the full usage', (text) => {
    const error = errorOf(parseCommand(text));
    expect(error).toBe(`Unknown command \`${text}\`.\n${usageText()}`);
  });

  it('unknown help topic is an unknown command', () => {
    expect(errorOf(parseCommand('help frobnicate'))).toBe(`Unknown command \`frobnicate\`.\n${usageText()}`);
  });
});

describe('commands without arguments', () => {
  okTable([
    ['status', { name: 'status' }],
    ['queue', { name: 'queue' }],
    ['extend', { name: 'extend' }],
    ['unblock', { name: 'unblock' }],
    ['deploy', { name: 'deploy' }],
    ['retry', { name: 'retry' }],
    ['  STATUS  ', { name: 'status' }],
    ['Deploy', { name: 'deploy' }],
  ]);

  it.each(['status', 'queue', 'extend', 'unblock', 'deploy', 'retry'])('%s refuses extra arguments', (name) => {
    const error = errorOf(parseCommand(`${name} now please`));
    expect(error).toContain(`\`${name}\` takes no arguments (got \`now please\`)`);
    expect(error).toContain(usageFor(name));
  });
});

describe('start', () => {
  okTable([
    ['start', { name: 'start' }],
    ['start abc1234', { name: 'start', sha: 'abc1234' }],
    ['start ABC1234', { name: 'start', sha: 'abc1234' }],
    ['START DeadBeef', { name: 'start', sha: 'deadbeef' }],
    ['start abcd', { name: 'start', sha: 'abcd' }],
    ['start 1234', { name: 'start', sha: '1234' }],
    ['start `abc1234`', { name: 'start', sha: 'abc1234' }],
    [`start ${'A'.repeat(40)}`, { name: 'start', sha: 'a'.repeat(40) }],
  ]);
  errTable('start', [
    ['start abc', '`abc` is not a commit SHA', '4 to 40'],
    [`start ${'a'.repeat(41)}`, 'is not a commit SHA'],
    ['start xyz1234', '`xyz1234` is not a commit SHA'],
    ['start abc1234 def5678', 'Unexpected `def5678`'],
  ]);
});

describe('revert', () => {
  okTable([
    ['revert abc1234', { name: 'revert', sha: 'abc1234' }],
    ['revert 0123456789ABCDEF0123456789abcdef01234567', { name: 'revert', sha: '0123456789abcdef0123456789abcdef01234567' }],
    // behaviour.md §8: revert it and extend.
    ['revert abc1234 and extend', { name: 'revert', sha: 'abc1234', extend: true }],
    ['revert abc1234 AND Extend', { name: 'revert', sha: 'abc1234', extend: true }],
    ['revert abc1234 extend', { name: 'revert', sha: 'abc1234', extend: true }],
  ]);
  errTable('revert', [
    ['revert', '`revert` needs the SHA'],
    ['revert main', '`main` is not a commit SHA'],
    ['revert abc1234 because', 'Unexpected `because`'],
    ['revert abc1234 and', 'add nothing, or `and extend`'],
    ['revert abc1234 and extend now', 'Unexpected `and extend now`'],
    ['revert and extend', '`and` is not a commit SHA'],
  ]);
});

describe('derail, emergency, block', () => {
  okTable([
    ['derail', { name: 'derail' }],
    ['derail login is broken', { name: 'derail', reason: 'login is broken' }],
    ['derail   Login   IS broken  ', { name: 'derail', reason: 'Login IS broken' }],
    ['emergency', { name: 'emergency' }],
    ['emergency prod is down', { name: 'emergency', reason: 'prod is down' }],
    ['block waiting for the DB migration', { name: 'block', reason: 'waiting for the DB migration' }],
    ['block <@U123> says wait', { name: 'block', reason: '<@U123> says wait' }],
  ]);
  errTable('block', [
    ['block', '`block` needs a reason'],
    ['block   ', '`block` needs a reason'],
    ['block --line web', '`block` needs a reason'],
    [`block ${'x'.repeat(MAX_REASON_LENGTH + 1)}`, 'The reason is too long'],
  ]);
  it('accepts a reason of the maximum length', () => {
    const reason = 'x'.repeat(MAX_REASON_LENGTH);
    expect(parseCommand(`derail ${reason}`)).toEqual({ ok: true, command: { name: 'derail', reason } });
  });
});

describe('verify and reopen', () => {
  okTable([
    ['verify', { name: 'verify' }],
    ['verify 12', { name: 'verify', train: 12 }],
    ['verify #12', { name: 'verify', train: 12 }],
    ['verify 007', { name: 'verify', train: 7 }],
    ['reopen', { name: 'reopen' }],
    ['reopen #12', { name: 'reopen', train: 12 }],
    ['reopen 12', { name: 'reopen', train: 12 }],
    ['reopen #12 broken login', { name: 'reopen', train: 12, reason: 'broken login' }],
    ['reopen broken login', { name: 'reopen', reason: 'broken login' }],
    ['reopen login 500s', { name: 'reopen', reason: 'login 500s' }],
  ]);
  errTable('verify', [
    ['verify 0', '`0` is not a valid train number', 'positive'],
    ['verify #0', 'positive'],
    ['verify -3', '`-3` is not a train number'],
    ['verify 1.5', '`1.5` is not a train number'],
    ['verify twelve', '`twelve` is not a train number'],
    ['verify #', '`#` is not a train number'],
    ['verify 99999999999', 'too large'],
    ['verify 12 13', 'Unexpected `13`'],
  ]);
  errTable('reopen', [
    ['reopen #abc oops', '`#abc` is not a train number'],
    ['reopen 0 oops', 'positive'],
  ]);
});

describe('engineer', () => {
  okTable([
    ['engineer me', { name: 'engineer', target: { kind: 'me' } }],
    ['engineer ME', { name: 'engineer', target: { kind: 'me' } }],
    ['engineer <@U123ABC>', { name: 'engineer', target: { kind: 'slack', userId: 'U123ABC' } }],
    ['engineer <@U123ABC|alice>', { name: 'engineer', target: { kind: 'slack', userId: 'U123ABC' } }],
    ['engineer <@W0ENTERPRISE|bob.smith>', { name: 'engineer', target: { kind: 'slack', userId: 'W0ENTERPRISE' } }],
    ['engineer alice@example.com', { name: 'engineer', target: { kind: 'email', email: 'alice@example.com' } }],
    ['engineer @Alice@Example.com', { name: 'engineer', target: { kind: 'email', email: 'alice@example.com' } }],
    ['engineer <mailto:alice@example.com|alice@example.com>', { name: 'engineer', target: { kind: 'email', email: 'alice@example.com' } }],
  ]);
  errTable('engineer', [
    ['engineer', '`engineer` needs `me`, a Slack mention or an email'],
    ['engineer @alice', '`@alice` is not a Slack mention Conductor can resolve', 'email'],
    ['engineer alice', '`alice` is not `me`, a Slack mention or an email'],
    ['engineer me you', '`me you` is not `me`'],
    ['engineer <@U1> <@U2>', 'is not `me`'],
    ['engineer alice@localhost', 'is not `me`'],
  ]);
  it('shows both engineer forms in its usage', () => {
    const error = errorOf(parseCommand('engineer'));
    expect(error).toContain('`/conductor engineer me`');
    expect(error).toContain('`/conductor engineer <@user|email>`');
  });
});

describe('mode', () => {
  okTable([
    ['mode manual', { name: 'mode', mode: 'manual' }],
    ['mode schedule', { name: 'mode', mode: 'schedule' }],
    ['MODE Schedule', { name: 'mode', mode: 'schedule' }],
    ['mode manual release freeze: audit week', { name: 'mode', mode: 'manual', reason: 'release freeze: audit week' }],
    ['mode schedule now', { name: 'mode', mode: 'schedule', reason: 'now' }],
  ]);
  errTable('mode', [
    ['mode', '`mode` needs `manual` or `schedule`'],
    ['mode auto', 'Unknown mode `auto`'],
    ['mode manual ' + 'x'.repeat(1000), 'The reason is too long'],
  ]);
});

describe('autotime', () => {
  const weekdays: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
  okTable([
    ['autotime', { name: 'autotime', action: 'show' }],
    ['autotime show', { name: 'autotime', action: 'show' }],
    ['autotime SHOW', { name: 'autotime', action: 'show' }],
    ['autotime clear', { name: 'autotime', action: 'clear' }],
    ['autotime set mon-fri 09:00-17:00', { name: 'autotime', action: 'set', windows: [{ days: weekdays, start: '09:00', end: '17:00' }] }],
    [
      'autotime set mon-fri 09:00-17:00 Europe/Paris',
      {
        name: 'autotime',
        action: 'set',
        windows: [{ days: weekdays, start: '09:00', end: '17:00' }],
        timezone: 'Europe/Paris',
      },
    ],
    [
      'autotime set mon-fri 09:00-17:00; sun 22:00-24:00 Europe/Paris',
      {
        name: 'autotime',
        action: 'set',
        windows: [
          { days: weekdays, start: '09:00', end: '17:00' },
          { days: ['sun'], start: '22:00', end: '24:00' },
        ],
        timezone: 'Europe/Paris',
      },
    ],
    [
      'AUTOTIME SET Mon-Fri 9:00-17:30;sat 10:00-12:00;',
      {
        name: 'autotime',
        action: 'set',
        windows: [
          { days: weekdays, start: '09:00', end: '17:30' },
          { days: ['sat'], start: '10:00', end: '12:00' },
        ],
      },
    ],
    ['autotime set weekdays 22:00-02:00', { name: 'autotime', action: 'set', windows: [{ days: weekdays, start: '22:00', end: '02:00' }] }],
    [
      'autotime set daily 00:00-24:00 UTC',
      {
        name: 'autotime',
        action: 'set',
        windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' }],
        timezone: 'UTC',
      },
    ],
    [
      'autotime set mon-fri 09:00 - 17:00; europe/paris',
      {
        name: 'autotime',
        action: 'set',
        windows: [{ days: weekdays, start: '09:00', end: '17:00' }],
        timezone: 'Europe/Paris',
      },
    ],
  ]);

  describe('days', () => {
    const cases: [string, Weekday[]][] = [
      ['mon-fri', ['mon', 'tue', 'wed', 'thu', 'fri']],
      ['mon,wed,fri', ['mon', 'wed', 'fri']],
      ['fri,wed,mon', ['mon', 'wed', 'fri']],
      ['mon, wed, fri', ['mon', 'wed', 'fri']],
      ['mon wed', ['mon', 'wed']],
      ['sat-sun', ['sat', 'sun']],
      ['fri-mon', ['mon', 'fri', 'sat', 'sun']],
      ['sun-tue', ['mon', 'tue', 'sun']],
      ['sat-fri', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']],
      ['wed-wed', ['wed']],
      ['mon-wed,fri', ['mon', 'tue', 'wed', 'fri']],
      ['mon,mon-tue', ['mon', 'tue']],
      ['daily', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']],
      ['everyday', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']],
      ['weekdays', ['mon', 'tue', 'wed', 'thu', 'fri']],
      ['weekends', ['sat', 'sun']],
      ['weekend,mon', ['mon', 'sat', 'sun']],
      ['Monday-Wednesday', ['mon', 'tue', 'wed']],
      ['tues,thurs', ['tue', 'thu']],
      ['SUN', ['sun']],
    ];
    it.each(cases)('%j', (days, expected) => {
      expect(parseCommand(`autotime set ${days} 09:00-17:00`)).toEqual({
        ok: true,
        command: { name: 'autotime', action: 'set', windows: [{ days: expected, start: '09:00', end: '17:00' }] },
      });
    });
  });

  errTable('autotime', [
    ['autotime set', '`autotime set` needs days and a time range'],
    ['autotime set ;', '`autotime set` needs days and a time range'],
    ['autotime set mon-fri', '`mon-fri` has no time range', 'HH:MM-HH:MM'],
    ['autotime set mon-fri 9-17', '`mon-fri 9-17` has no time range'],
    ['autotime set 09:00-17:00', '`09:00-17:00` has no days'],
    ['autotime set funday 09:00-17:00', 'Unknown days `funday`', 'weekdays'],
    ['autotime set mon-xyz 09:00-17:00', 'Unknown days `mon-xyz`'],
    ['autotime set mon-tue-wed 09:00-17:00', 'Unknown days `mon-tue-wed`'],
    ['autotime set mon,,fri 09:00-17:00 x', 'Unknown time zone `x`'],
    ['autotime set mon 24:30-25:00', '`24:30` is not a time'],
    ['autotime set mon 09:60-10:00', '`09:60` is not a time'],
    ['autotime set mon 009:00-10:00', '`009:00` is not a time'],
    ['autotime set mon 9:5-10:00', '`9:5` is not a time'],
    ['autotime set mon 24:00-08:00', '`24:00` can only end a window'],
    ['autotime set mon 09:00-09:00', 'starts and ends at the same time'],
    ['autotime set mon 9:00-09:00', 'starts and ends at the same time'],
    ['autotime set mon 09:00-17:00 Mars/Olympus', 'Unknown time zone `Mars/Olympus`', 'Europe/Paris'],
    ['autotime set mon 09:00-17:00 Europe/Paris; tue 09:00-17:00', 'a time zone may only come at the very end'],
    ['autotime set mon 09:00-17:00 Europe/Paris extra', 'only one time zone'],
    ['autotime set mon 09:00-17:00; Europe/Paris UTC', '`Europe/Paris UTC` has no time range'],
    ['autotime set Europe/Paris', '`Europe/Paris` has no time range'],
    ['autotime show now', '`autotime show` takes no arguments'],
    ['autotime clear all', '`autotime clear` takes no arguments'],
    ['autotime reset', 'Unknown `autotime` action `reset`'],
  ]);

  it('shows every autotime form in its usage', () => {
    const error = errorOf(parseCommand('autotime reset'));
    expect(error).toContain('`/conductor autotime [show]`');
    expect(error).toContain('`/conductor autotime set <days> <HH:MM-HH:MM>');
    expect(error).toContain('`/conductor autotime clear`');
  });
});

describe('freeze', () => {
  okTable([
    ['freeze', { name: 'freeze', action: 'list' }],
    ['freeze list', { name: 'freeze', action: 'list' }],
    ['freeze add 2025-12-24', { name: 'freeze', action: 'add', date: '2025-12-24' }],
    ['FREEZE REMOVE 2025-12-24', { name: 'freeze', action: 'remove', date: '2025-12-24' }],
    ['freeze add 2024-02-29', { name: 'freeze', action: 'add', date: '2024-02-29' }],
    ['freeze add 2000-02-29', { name: 'freeze', action: 'add', date: '2000-02-29' }],
    ['freeze add 2025-12-31', { name: 'freeze', action: 'add', date: '2025-12-31' }],
  ]);
  errTable('freeze', [
    ['freeze add', '`freeze add` needs a date as `YYYY-MM-DD`'],
    ['freeze remove', '`freeze remove` needs a date'],
    ['freeze add 24/12/2025', '`24/12/2025` is not a date', 'YYYY-MM-DD'],
    ['freeze add 2025-1-5', '`2025-1-5` is not a date'],
    ['freeze add 2025-02-29', '`2025-02-29` is not a calendar date'],
    ['freeze add 1900-02-29', '`1900-02-29` is not a calendar date'],
    ['freeze add 2025-04-31', 'is not a calendar date'],
    ['freeze add 2025-13-01', 'is not a calendar date'],
    ['freeze add 2025-00-10', 'is not a calendar date'],
    ['freeze add 2025-01-00', 'is not a calendar date'],
    ['freeze add 2025-12-24 2025-12-25', 'Unexpected `2025-12-25`', 'one date at a time'],
    ['freeze list all', '`freeze list` takes no arguments'],
    ['freeze delete 2025-12-24', 'Unknown `freeze` action `delete`'],
  ]);
});

describe('history, train, rollback', () => {
  okTable([
    ['history', { name: 'history', limit: 20 }],
    ['history 5', { name: 'history', limit: 5 }],
    ['history 1', { name: 'history', limit: 1 }],
    ['history 200', { name: 'history', limit: 200 }],
    ['train 12', { name: 'train', number: 12 }],
    ['train #12', { name: 'train', number: 12 }],
    ['rollback 11', { name: 'rollback', train: 11 }],
    ['rollback #11', { name: 'rollback', train: 11 }],
  ]);
  errTable('history', [
    ['history 0', '`0` is out of range', '1 to 200'],
    ['history 201', '`201` is out of range'],
    ['history -1', '`-1` is not a number of entries'],
    ['history ten', '`ten` is not a number of entries'],
    ['history #5', '`#5` is not a number of entries'],
    ['history 5 6', 'Unexpected `6`'],
  ]);
  errTable('train', [
    ['train', '`train` needs a train number'],
    ['train 0', 'positive'],
    ['train abc', '`abc` is not a train number'],
    ['train 1 2', 'Unexpected `2`'],
  ]);
  errTable('rollback', [
    ['rollback', '`rollback` needs the number of the deployed train'],
    ['rollback #x', '`#x` is not a train number'],
    ['rollback 3 now', 'Unexpected `now`'],
  ]);
});

describe('--line', () => {
  const cases: [string, Command, string][] = [
    ['start abc1234 --line web', { name: 'start', sha: 'abc1234' }, 'web'],
    ['--line web start abc1234', { name: 'start', sha: 'abc1234' }, 'web'],
    ['start --line web abc1234', { name: 'start', sha: 'abc1234' }, 'web'],
    ['start --line=web', { name: 'start' }, 'web'],
    ['status --LINE api', { name: 'status' }, 'api'],
    ['status —line api', { name: 'status' }, 'api'],
    ['block flaky --line web tests', { name: 'block', reason: 'flaky tests' }, 'web'],
    ['status --line web --line web', { name: 'status' }, 'web'],
    [
      'autotime set mon-fri 09:00-17:00 --line ios Europe/Paris',
      {
        name: 'autotime',
        action: 'set',
        windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }],
        timezone: 'Europe/Paris',
      },
      'ios',
    ],
  ];
  it.each(cases)('%j', (text, command, line) => {
    expect(parseCommand(text)).toEqual({ ok: true, command, line });
  });

  it('has no line key when --line is absent', () => {
    const result = parseCommand('status');
    expect(result).toEqual({ ok: true, command: { name: 'status' } });
    expect('line' in result).toBe(false);
  });

  it.each([
    ['status --line', '`--line` needs a line name'],
    ['status --line=', '`--line` needs a line name'],
    ['status --line --line web', '`--line` needs a line name'],
    ['status --line web --line api', '`--line` is given twice (`web` and `api`)'],
  ])('%j is refused', (text, fragment) => {
    const error = errorOf(parseCommand(text));
    expect(error).toContain(fragment);
    expect(error).toContain(usageFor('status'));
  });

  it('a bad --line with an unknown command gets the full usage', () => {
    expect(errorOf(parseCommand('--line'))).toContain(usageText());
  });

  it('the command is still validated when --line is valid', () => {
    expect(errorOf(parseCommand('start zzz --line web'))).toContain('`zzz` is not a commit SHA');
  });
});

describe('usage texts', () => {
  it('has a usage line for every subcommand and one line per form', () => {
    const text = usageText();
    for (const name of COMMAND_NAMES) {
      expect(USAGE.some((e) => e.name === name)).toBe(true);
      expect(text).toContain(usageFor(name));
    }
    const lines = text.split('\n');
    expect(lines).toHaveLength(USAGE.length + 2);
    for (const entry of USAGE) expect(entry.usage.startsWith(entry.name)).toBe(true);
  });

  it('says who may use each command, matching behaviour.md §3', () => {
    const who = (usage: string) => USAGE.find((e) => e.usage.startsWith(usage))?.who;
    for (const admin of ['start', 'emergency', 'mode', 'autotime set', 'autotime clear', 'freeze add', 'freeze remove']) {
      expect(who(admin)).toBe('admins');
    }
    for (const eng of ['deploy', 'extend', 'derail', 'block', 'unblock', 'retry', 'rollback']) {
      expect(who(eng)).toBe('engineer or admin');
    }
    for (const view of ['help', 'status', 'queue', 'history', 'train', 'autotime [show]', 'freeze [list]', 'engineer me']) {
      expect(who(view)).toBe('anyone');
    }
    expect(who('engineer <')).toBe('admins');
    expect(who('verify')).toContain('authors');
    expect(who('reopen')).toContain('authors');
    expect(who('revert')).toContain('author');
    expect(who('revert')).toContain('admins');
  });

  it('usageFor is case-insensitive and falls back to the full help', () => {
    expect(usageFor('START')).toBe(usageFor('start'));
    expect(usageFor('start')).toBe('`/conductor start [sha]` — Start a train by hand with the platform, up to and including <sha> if given. (admins)');
    expect(usageFor('nope')).toBe(usageText());
  });

  it('a single-form error puts the usage on the same line as "Usage:"', () => {
    expect(errorOf(parseCommand('revert'))).toBe('`revert` needs the SHA of the commit to revert.\nUsage: ' + usageFor('revert'));
  });
});
