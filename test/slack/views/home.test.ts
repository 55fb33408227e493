import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/slack/registrations.js';
import { type HomeLine, homeView } from '../../../src/slack/views/home.js';
import { ALICE, aCommit, NASTY, T0 } from './fixtures.js';
import { buttonsOf, textsOf } from './helpers.js';
import { viewProblems } from './slack-limits.js';

describe('homeView', () => {
  it('a user with nothing: an empty state', () => {
    const view = homeView({ userEmail: ALICE, lines: [{ line: 'web', platform: [], trains: [] }], now: T0 });
    expect(view.type).toBe('home');
    expect(viewProblems(view)).toEqual([]);
    expect(textsOf(view.blocks as never)).toEqual([
      'Your changes',
      'alice@acme.test · updated <!date^1767614400^{date_short_pretty} {time}|2026-01-05T12:00:00.000Z>',
      ':sparkles: *Nothing of yours is waiting.* No commits on a platform or a train, and no verification owed.',
      'Push to a watched branch and your commits show up here until they are deployed.',
    ]);
    expect(buttonsOf(view.blocks as never)).toEqual([]);
  });

  it('one line: pending verification with a Verify button, the train and the platform', () => {
    const onTrain = [aCommit(1, ALICE, 'Alice', 'Fix login'), aCommit(2, ALICE, 'Alice', 'Fix logout')];
    const waiting = [aCommit(3, ALICE, 'Alice', `Add <Widget> & ${NASTY}`)];
    const view = homeView({
      userEmail: ALICE,
      lines: [{ line: 'web', platform: waiting, trains: [{ number: 3, state: 'verifying', commits: onTrain, ticket: { state: 'pending' } }] }],
      now: T0,
    });
    expect(viewProblems(view)).toEqual([]);
    const texts = textsOf(view.blocks as never);
    expect(texts).toContain(':hourglass_flowing_sand: *Waiting for your verification* (1)');
    expect(texts).toContain('*web* · train #3 (verifying): 2 commits of yours on staging');
    expect(texts).toContain('*Train #3* · verifying · :hourglass_flowing_sand: verification pending\n• `c1000000` Fix login\n• `c2000000` Fix logout');
    expect(texts).toContain(
      '*On the platform* (waiting for a train)\n• `c3000000` Add &lt;Widget&gt; &amp; &lt;!channel&gt; &amp; &lt;@U999&gt; &lt;https://evil.test|click&gt; *bold* `code`',
    );
    const buttons = buttonsOf(view.blocks as never);
    expect(buttons).toHaveLength(1);
    expect(buttons[0]).toMatchObject({ action_id: ACTIONS.verify, style: 'primary' });
    expect(JSON.parse(buttons[0]!.value!)).toEqual({ line: 'web', train: 3 });
  });

  it('a verified train shows no button', () => {
    const view = homeView({
      userEmail: ALICE,
      lines: [{ line: 'web', platform: [], trains: [{ number: 3, state: 'verifying', commits: [aCommit(1, ALICE, 'Alice', 'x')], ticket: { state: 'verified' } }] }],
      now: T0,
    });
    expect(buttonsOf(view.blocks as never)).toEqual([]);
    expect(textsOf(view.blocks as never)).toContain('*Train #3* · verifying · :white_check_mark: verified\n• `c1000000` x');
  });

  it('many commits across many lines: within 100 blocks, summarised', () => {
    const lines: HomeLine[] = Array.from({ length: 40 }, (_, l) => ({
      line: `line-${l}-<&>`,
      platform: Array.from({ length: 200 }, (_, i) => aCommit(l * 1000 + i, ALICE, 'Alice', `${NASTY} ${'long '.repeat(100)}`)),
      trains: Array.from({ length: 8 }, (_, t) => ({
        number: t + 1,
        state: t === 7 ? 'verifying' : 'deploying',
        commits: Array.from({ length: 50 }, (_, i) => aCommit(l * 1000 + 200 + t * 50 + i, ALICE, 'Alice', NASTY)),
        ticket: t === 7 ? { state: 'pending' as const } : null,
      })),
    }));
    const view = homeView({ userEmail: ALICE, lines, now: T0 });
    expect(viewProblems(view)).toEqual([]);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const texts = textsOf(view.blocks as never);
    expect(texts).toContain(':hourglass_flowing_sand: *Waiting for your verification* (40)');
    expect(texts).toContain("…and 20 more pending verifications: `/conductor verify &lt;train&gt;` in each line's channel.");
    expect(buttonsOf(view.blocks as never)).toHaveLength(20);
    const more = texts.find((t) => /^…and \d+ more lines with/.test(t));
    expect(more).toMatch(/^…and (\d+) more lines with [\d,]+ commits of yours: `\/conductor status` in each line's channel\.$/);
    const shownLines = texts.filter((t) => t.startsWith(':round_pushpin:')).length;
    expect(shownLines + Number(/^…and (\d+)/.exec(more!)![1])).toBe(40);
    expect(texts).toContain('…and 3 more trains with 150 commits of yours.');
    expect(texts.some((t) => t.includes('• …and 195 more commits'))).toBe(true);
  });
});
