import { describe, expect, it } from 'vitest';
import type { LineState } from '../../src/domain/model.js';
import { branchOfRef, isEmergency, lineForPush, normaliseRemote, type PushTarget, pushWarning } from '../../src/domain/push-warning.js';
import { setMode } from '../../src/domain/rules/settings.js';
import { emergency } from '../../src/domain/rules/train-commands.js';
import { ADMIN, aLine, ctxAt } from '../support/domain-builders.js';

describe('normaliseRemote: one spelling per remote', () => {
  it.each([
    ['git@github.com:acme/web.git', 'github.com/acme/web'],
    ['git@GitHub.com:acme/web', 'github.com/acme/web'],
    ['ssh://git@github.com/acme/web.git', 'github.com/acme/web'],
    ['ssh://git@github.com:22/acme/web.git/', 'github.com/acme/web'],
    ['https://github.com/acme/web.git', 'github.com/acme/web'],
    ['https://token@github.com/acme/web/', 'github.com/acme/web'],
    ['http://git.internal:8080/scm/acme/web.git', 'git.internal/scm/acme/web'],
    ['git://git.internal/acme/web', 'git.internal/acme/web'],
    ['/srv/git/web.git', '/srv/git/web'],
    ['/srv/git/web.git/', '/srv/git/web'],
    ['file:///srv/git/web.git', '/srv/git/web'],
    ['file://localhost/srv/git/web', '/srv/git/web'],
    ['/srv/git/web', '/srv/git/web'],
  ])('%s → %s', (url, want) => {
    expect(normaliseRemote(url)).toBe(want);
  });

  it('keeps the path case (only the host is case-insensitive)', () => {
    expect(normaliseRemote('https://git.internal/Acme/Web.git')).toBe('git.internal/Acme/Web');
  });
});

describe('lineForPush: which line a push goes to', () => {
  const lines: PushTarget[] = [
    { name: 'web', repo: 'git@github.com:acme/web.git', github: 'acme/web', branch: 'main' },
    { name: 'web-release', repo: 'git@github.com:acme/web.git', github: 'acme/web', branch: 'release' },
    { name: 'local', repo: '/srv/git/api.git', github: null, branch: 'main' },
    { name: 'mirror', repo: 'https://git.internal/mirrors/shop.git', github: 'acme/shop', branch: 'trunk' },
  ];

  it('matches the repo in any spelling, and the branch', () => {
    expect(lineForPush(lines, 'https://github.com/acme/web', 'refs/heads/main')).toBe('web');
    expect(lineForPush(lines, 'ssh://git@github.com/acme/web.git', 'main')).toBe('web');
    expect(lineForPush(lines, 'git@github.com:acme/web.git', 'refs/heads/release')).toBe('web-release');
    expect(lineForPush(lines, '/srv/git/api', 'refs/heads/main')).toBe('local');
    expect(lineForPush(lines, 'file:///srv/git/api.git', 'main')).toBe('local');
  });

  it('matches a line by its `github` repository too, case-insensitively', () => {
    expect(lineForPush(lines, 'git@github.com:Acme/Shop.git', 'trunk')).toBe('mirror');
  });

  it('answers null for an unwatched branch or another repository', () => {
    expect(lineForPush(lines, 'git@github.com:acme/web.git', 'refs/heads/feature-x')).toBeNull();
    expect(lineForPush(lines, 'git@github.com:acme/web-other.git', 'main')).toBeNull();
    expect(lineForPush(lines, 'git@gitlab.com:acme/web.git', 'main')).toBeNull();
    expect(lineForPush(lines, '/srv/git/api2', 'main')).toBeNull();
  });

  it('reads branch names from refs', () => {
    expect(branchOfRef('refs/heads/feature/x')).toBe('feature/x');
    expect(branchOfRef('main')).toBe('main');
  });
});

describe('pushWarning: what the hook prints', () => {
  const NOW = new Date('2026-01-07T12:00:00Z'); // a Wednesday
  const ctx = ctxAt(ADMIN, NOW);
  const stateOf = (d: ReturnType<typeof setMode>): LineState => {
    if (!d.ok) throw new Error(d.reply);
    return d.state;
  };

  it('says nothing when trains start by themselves', () => {
    expect(pushWarning(aLine(), NOW)).toEqual([]);
  });

  it('names manual mode, its reason and who set it', () => {
    const s = stateOf(setMode(aLine(), ctx, 'manual', 'release freeze'));
    expect(s.settings.manualSetBy).toBe('admin@acme.test');
    const text = pushWarning(s, NOW).join('\n');
    expect(text).toContain('manual mode (release freeze), set by admin@acme.test');
  });

  it('names nobody when nobody is known to have set manual mode (the config file did)', () => {
    expect(pushWarning(aLine({ settings: { mode: 'manual' } }), NOW)[0]).toBe('Line web (main) is in manual mode.');
  });

  it('names emergency mode', () => {
    const s = stateOf(emergency(aLine(), ctx, 'refs/conductor/backup', 'bad migration'));
    expect(isEmergency(s)).toBe(true);
    expect(s.settings.manualSetBy).toBe('admin@acme.test');
    expect(pushWarning(s, NOW).join('\n')).toContain('emergency mode: emergency reset by admin@acme.test: bad migration');
  });

  it('names a freeze today in the line time zone', () => {
    // 2026-01-07T23:30Z is already the 8th in Tokyo.
    const late = new Date('2026-01-07T23:30:00Z');
    expect(pushWarning(aLine({ settings: { freezes: ['2026-01-08'], timezone: 'Asia/Tokyo' } }), late).join('\n')).toContain('today (2026-01-08) is a freeze date');
    expect(pushWarning(aLine({ settings: { freezes: ['2026-01-08'], timezone: 'UTC' } }), late)).toEqual([]);
  });

  it('names outside auto-time with the next window', () => {
    const s = aLine({ settings: { autoTime: [{ days: ['mon'], start: '09:00', end: '10:00' }] } });
    expect(pushWarning(s, NOW).join('\n')).toMatch(/outside auto-time; the next window opens .*Mon.* 09:00/);
  });

  it('says when there are no auto-time windows at all', () => {
    expect(pushWarning(aLine({ settings: { autoTime: [] } }), NOW).join('\n')).toContain('has no auto-time windows');
  });

  it('switching back to schedule mode forgets who set manual mode', () => {
    const manual = stateOf(setMode(aLine(), ctx, 'manual', 'x'));
    const back = stateOf(setMode(manual, ctx, 'schedule'));
    expect(back.settings.manualSetBy).toBeNull();
  });
});
