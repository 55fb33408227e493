import { describe, expect, it } from 'vitest';
import type { CommitRef, LineState } from '../../../src/domain/model.js';
import type { ConfirmMetadata } from '../../../src/slack/registrations.js';
import { VIEWS } from '../../../src/slack/registrations.js';
import { confirmMetadata, confirmModal, describeConfirmation } from '../../../src/slack/views/confirm.js';
import { ALICE, aCommit, aJob, aLine, aTrain, BASE, LONG_REASON, largestCommits, NASTY, ticketFor } from './fixtures.js';
import { textsOf } from './helpers.js';
import { viewProblems } from './slack-limits.js';

const BOB = 'bob@acme.test';
const CAROL = 'carol@acme.test';
const BASE4 = 'a4'.padEnd(40, '0');
const HEAD3 = 'd3'.padEnd(40, '0');

const trainCommits = (): CommitRef[] => Array.from({ length: 12 }, (_, i) => aCommit(100 + i, [ALICE, BOB, CAROL][i % 3]!, ['Alice', 'Bob', 'Carol'][i % 3]!, `change ${i}`));
const platformCommits = (n: number): CommitRef[] => Array.from({ length: n }, (_, i) => aCommit(200 + i, BOB, 'Bob', i === 0 ? 'Revert "change 4"' : `later ${i}`));

/** Train #4 going (12 commits by 3 authors, 2 verified); `platform` waiting; #3 deployed and optionally still deploying. */
function line(opts: { platform?: number; deploying3?: 'running' | 'failed' | false; going?: boolean; mode?: 'schedule' | 'manual' } = {}): LineState {
  const commits = trainCommits();
  const tickets = [
    ticketFor(
      ALICE,
      'Alice',
      commits.filter((c) => c.authorEmail === ALICE),
      'verified',
    ),
    ticketFor(
      BOB,
      'Bob',
      commits.filter((c) => c.authorEmail === BOB),
      'verified',
    ),
    ticketFor(
      CAROL,
      'Carol',
      commits.filter((c) => c.authorEmail === CAROL),
      'pending',
    ),
  ];
  const going = aTrain(4, commits, { baseSha: BASE4, engineer: ALICE, tickets, jobs: [aJob('build', 1, 'succeeded')] });
  const three = aTrain(3, [aCommit(50, CAROL, 'Carol', 'older')], { state: 'deploying', headSha: HEAD3, jobs: [aJob('deploy', 1, opts.deploying3 === 'failed' ? 'failed' : 'running')] });
  return aLine(
    {
      trains: [...(opts.deploying3 ? [three] : []), ...(opts.going === false ? [] : [going])],
      platform: platformCommits(opts.platform ?? 0),
      nextTrainNumber: 5,
      lastDeployed: { number: 2, headSha: 'e2'.padEnd(40, '0') },
    },
    { mode: opts.mode ?? 'schedule' },
  );
}

describe('describeConfirmation: derail', () => {
  it('says which train is derailed and how many commits go back', () => {
    expect(describeConfirmation(line({ platform: 3 }), 'derail', { reason: 'flaky <db> & co' })).toEqual({
      title: 'Derail train #4',
      danger: true,
      lines: [
        'Train #4 (12 commits) will be derailed; its running jobs are stopped.',
        '12 commits go back to the front of the platform, ahead of the 3 commits already waiting; verifications carry over.',
        'Reason: flaky <db> & co',
        'In schedule mode, inside auto-time, a new train starts at once with the platform. To hold them on the platform, cancel and switch to manual mode first (`/conductor mode manual`).',
      ],
    });
  });

  it('knowing the time, it names the train rule 3 starts at once and how to hold the commits, or says they wait', () => {
    const always = line({ platform: 3 });
    always.settings.autoTime = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' }];
    const inside = describeConfirmation(always, 'derail', { now: new Date('2026-01-05T12:00:00Z') });
    expect(inside.lines.at(-1)).toBe(
      'The line is in schedule mode inside auto-time: train #5 starts at once with these 15 commits. To hold them on the platform, cancel and switch to manual mode first (`/conductor mode manual`).',
    );
    const office = line({ platform: 3 });
    office.settings.autoTime = [{ days: ['mon'], start: '09:00', end: '10:00' }];
    expect(describeConfirmation(office, 'derail', { now: new Date('2026-01-05T12:00:00Z') }).lines.at(-1)).toBe(
      'The line is in schedule mode, outside auto-time: the commits wait on the platform until auto-time or `/conductor start`.',
    );
  });

  it('a train whose deploy failed is derailed with the going one, as the domain does', () => {
    const d = describeConfirmation(line({ deploying3: 'failed', mode: 'manual' }), 'derail', {});
    expect(d.title).toBe('Derail train #3 and #4');
    expect(d.lines).toEqual([
      'Train #3 (1 commit) will be derailed (its production deploy failed); its running jobs are stopped.',
      'Train #4 (12 commits) will be derailed; its running jobs are stopped.',
      '13 commits go back to the front of the platform; verifications carry over.',
      'No reason given.',
      'The line is in manual mode: no new train starts until an admin runs `/conductor start`.',
    ]);
  });

  it('nothing going, or a stale button: nothing to derail', () => {
    expect(describeConfirmation(line({ going: false }), 'derail', {})).toEqual({ title: 'Derail', lines: ['No train is going: there is nothing to derail.'], danger: false });
    expect(describeConfirmation(line(), 'derail', { train: 2 })).toEqual({
      title: 'Derail train #2',
      lines: ['Train #2 is no longer going: there is nothing to derail.'],
      danger: false,
    });
  });
});

describe('describeConfirmation: extend', () => {
  it('names the train replaced, the new train and the platform commits that join it', () => {
    expect(describeConfirmation(line({ platform: 2 }), 'extend', { train: 4 })).toEqual({
      title: 'Extend train #4',
      danger: false,
      lines: [
        'Train #4 (12 commits) will be derailed and replaced by train #5 with 14 commits: its own 12 commits plus the 2 commits on the platform.',
        'Joining from the platform:',
        '`cc800000` bob@acme.test: Revert "change 4"',
        '`cc900000` bob@acme.test: later 1',
        'Verifications carry over: 2 of 3 authors have verified, and stay verified while the new train builds.',
        'The engineer stays: alice@acme.test.',
      ],
    });
  });

  it('lists at most 15 platform commits', () => {
    const d = describeConfirmation(line({ platform: 40 }), 'extend', {});
    expect(d.lines.filter((l) => l.startsWith('`'))).toHaveLength(15);
    expect(d.lines).toContain('…and 25 more commits from the platform.');
  });

  it('an empty platform: push the revert first', () => {
    expect(describeConfirmation(line(), 'extend', {}).lines).toEqual([
      'The platform is empty: push the revert first (it lands on the platform), then extend. To rebuild the same commits, use `retry`.',
    ]);
    expect(describeConfirmation(line({ going: false }), 'extend', {}).lines).toEqual(['No train is going: there is nothing to extend.']);
  });
});

describe('describeConfirmation: emergency', () => {
  it('going train: derailed, branch back to its base, its commits and the platform leave the branch', () => {
    const d = describeConfirmation(line({ platform: 20 }), 'emergency', { reason: 'prod is down', backupRefPreview: 'refs/conductor/backup/web/20260105T120000Z' });
    expect(d.title).toBe('Emergency reset');
    expect(d.danger).toBe(true);
    expect(d.lines.slice(0, 5)).toEqual([
      'Reason: prod is down',
      'Train #4 (12 commits) will be derailed.',
      'The branch main will be force-pushed back to `a4000000` (the commit just before train #4).',
      'The old head is kept at refs/conductor/backup/web/20260105T120000Z: nothing is lost.',
      'These 32 commits leave the branch (train #4 and the platform):',
    ]);
    const listed = d.lines.filter((l) => l.startsWith('`'));
    expect(listed).toHaveLength(15);
    expect(listed[0]).toBe('`c6400000` alice@acme.test: change 0');
    expect(d.lines.slice(-3)).toEqual([
      '…and 17 more commits kept in the backup ref.',
      'Each of their 3 authors gets a DM naming their removed commits.',
      'The line goes to manual mode: no train starts until an admin runs `/conductor start`. Push the emergency commits, then start a train by hand.',
    ]);
  });

  it('no going train, one deploying: back to the deploying train head; only the platform leaves', () => {
    const d = describeConfirmation(line({ going: false, deploying3: 'running', platform: 2 }), 'emergency', {});
    expect(d.lines).toEqual([
      'No train is going: none is derailed.',
      'The branch main will be force-pushed back to `d3000000` (the head of train #3, still deploying).',
      'The old head is kept under refs/conductor/backup/: nothing is lost.',
      'These 2 commits leave the branch (the platform):',
      '`cc800000` bob@acme.test: Revert "change 4"',
      '`cc900000` bob@acme.test: later 1',
      'Their author gets a DM naming the removed commits.',
      'The line goes to manual mode: no train starts until an admin runs `/conductor start`. Push the emergency commits, then start a train by hand.',
    ]);
  });

  it('nothing live: back to the last deployed commit, nothing removed', () => {
    const s = line({ going: false });
    s.lastDeployed = { number: 2, headSha: BASE };
    const d = describeConfirmation(s, 'emergency', {});
    expect(d.lines).toContain(`The branch main will be force-pushed back to \`${BASE.slice(0, 8)}\` (the head of train #2, the last deployed).`);
    expect(d.lines).toContain('No commits leave the branch.');
    // Before any train deployed (the line's starting head), or after a reset: just "the last deployed commit".
    s.lastDeployed = null;
    expect(describeConfirmation(s, 'emergency', {}).lines).toContain('The branch main will be force-pushed back to `bbbbbbbb` (the last deployed commit).');
  });

  it('a failed deploy is not in production: the reset goes back before it', () => {
    const s = line({ deploying3: 'failed' });
    s.trains[0]!.baseSha = 'f0'.padEnd(40, '0');
    const d = describeConfirmation(s, 'emergency', {});
    expect(d.lines[0]).toBe('Train #3 (1 commit) will be derailed (its production deploy failed). Train #4 (12 commits) will be derailed.');
    expect(d.lines[1]).toBe('The branch main will be force-pushed back to `f0000000` (the commit just before train #3).');
    expect(d.lines[3]).toBe('These 13 commits leave the branch (train #3 and train #4):');
  });
});

describe('describeConfirmation: rollback', () => {
  const withDeployed = (s: LineState): LineState => ({
    ...s,
    trains: [aTrain(1, [aCommit(10, ALICE, 'Alice', 'old')], { state: 'deployed', headSha: 'e1'.padEnd(40, '0') }), ...s.trains],
  });

  it('names the target head and the going train that is blocked', () => {
    expect(describeConfirmation(withDeployed(line()), 'rollback', { train: 1 })).toEqual({
      title: 'Roll back to train #1',
      danger: true,
      lines: [
        'Production will be rolled back to train #1: the deploy job runs for its head `e1000000`.',
        'Train #4 (12 commits) will be blocked with reason "rollback": it does everything except deploy until it is unblocked.',
        'Next: revert the bad commit (`/conductor revert <sha>`), extend the train (`/conductor extend`), then unblock it.',
      ],
    });
    expect(describeConfirmation(withDeployed(line({ going: false })), 'rollback', { train: 1 }).lines[1]).toBe('No train is going: nothing is blocked.');
  });

  it('refusals: never deployed, or what production runs now', () => {
    expect(describeConfirmation(line(), 'rollback', { train: 4 })).toEqual({
      title: 'Roll back to train #4',
      lines: ['Train #4 was never deployed: only a deployed train can be rolled back to.'],
      danger: false,
    });
    const s = withDeployed(line());
    s.lastDeployed = { number: 1, headSha: 'e1'.padEnd(40, '0') };
    expect(describeConfirmation(s, 'rollback', { train: 1 }).lines).toEqual(['Train #1 is what production runs now: roll back to an earlier train.']);
  });
});

describe('confirmModal', () => {
  it('a modal with the confirm callback, the command in private_metadata, Confirm / Cancel', () => {
    const d = describeConfirmation(line({ platform: 3 }), 'derail', { reason: 'flaky <db> & co' });
    const view = confirmModal({ ...d, command: 'derail flaky <db> & co', line: 'web', channel: 'C123' });
    expect(viewProblems(view)).toEqual([]);
    expect(view.callback_id).toBe(VIEWS.confirm);
    expect(JSON.parse(view.private_metadata!)).toEqual({ line: 'web', text: 'derail flaky <db> & co', channel: 'C123' } satisfies ConfirmMetadata);
    expect(view.title).toEqual({ type: 'plain_text', text: 'Derail train #4', emoji: true });
    expect(view.submit!.text).toBe('Confirm');
    expect(view.close!.text).toBe('Cancel');
    const texts = textsOf(view.blocks as never);
    expect(texts[0]).toBe(':warning: *Run `/conductor derail flaky &lt;db&gt; &amp; co` on web?*');
    expect(texts[1]).toBe(
      [
        '• Train #4 (12 commits) will be derailed; its running jobs are stopped.',
        '• 12 commits go back to the front of the platform, ahead of the 3 commits already waiting; verifications carry over.',
        '• Reason: flaky &lt;db&gt; &amp; co',
        '• In schedule mode, inside auto-time, a new train starts at once with the platform. To hold them on the platform, cancel and switch to manual mode first (`/conductor mode manual`).',
      ].join('\n'),
    );
  });

  it('a title longer than 24 characters is cut', () => {
    const view = confirmModal({ title: 'Derail trains #1234 and #1235', command: 'derail', line: 'web', channel: null, lines: ['x'], danger: true });
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    expect(JSON.parse(view.private_metadata!)).toEqual({ line: 'web', text: 'derail', channel: null });
  });

  it('the largest emergency (5,000 commits, long reason) stays within the limits', () => {
    const s = line();
    s.trains[0]!.commits = largestCommits();
    s.platform = largestCommits().slice(0, 500);
    const d = describeConfirmation(s, 'emergency', { reason: LONG_REASON, backupRefPreview: 'refs/conductor/backup/web/x' });
    expect(d.lines).toContain('These 5,500 commits leave the branch (train #4 and the platform):');
    expect(d.lines).toContain('…and 5,485 more commits kept in the backup ref.');
    expect(d.lines).toContain('Each of their 300 authors gets a DM naming their removed commits.');
    const view = confirmModal({ ...d, command: `emergency ${LONG_REASON}`, line: 'web', channel: 'C1' });
    expect(viewProblems(view)).toEqual([]);
    expect(JSON.stringify(view.blocks)).not.toContain(NASTY);
    const meta = JSON.parse(view.private_metadata!) as ConfirmMetadata;
    expect(view.private_metadata!.length).toBeLessThanOrEqual(3000);
    expect(meta.line).toBe('web');
    expect(meta.channel).toBe('C1');
    expect(`emergency ${LONG_REASON}`.startsWith(meta.text)).toBe(true);
    expect(meta.text.length).toBeGreaterThan(2000);
  });

  it('many long lines are packed into sections and counted beyond the cap', () => {
    const lines = Array.from({ length: 500 }, (_, i) => `${i} ${'<&> '.repeat(300)}`);
    const view = confirmModal({ title: 'Emergency reset', command: 'emergency', line: 'web', channel: null, lines, danger: true });
    expect(viewProblems(view)).toEqual([]);
  });

  it('confirmMetadata keeps JSON whose escapes would overflow valid', () => {
    const json = confirmMetadata('web', `derail ${'"\\\n'.repeat(2000)}`, 'C1');
    expect(json.length).toBeLessThanOrEqual(3000);
    expect(JSON.parse(json).line).toBe('web');
  });
});
