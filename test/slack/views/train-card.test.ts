import type { SectionBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/slack/registrations.js';
import { trainCard } from '../../../src/slack/views/train-card.js';
import { ALICE, aCommit, aJob, aLine, aTrain, authorEmail, BIG_AUTHORS, BIG_COMMITS, mention, NASTY, SCENARIOS, type Size, scenario, smallestCommits, ticketFor } from './fixtures.js';
import { actionIds, allText, buttonsOf, textsOf } from './helpers.js';
import { messageProblems } from './slack-limits.js';

const STATUS_URL = 'http://conductor.test/api/lines/web/trains/3';
const card = (size: Size, sc: Parameters<typeof scenario>[1], statusUrl: string | null = STATUS_URL) => {
  const { line, train } = scenario(size, sc);
  return trainCard(line, train, statusUrl === null ? { mention } : { mention, statusUrl });
};

describe('trainCard: Slack limits', () => {
  for (const size of ['smallest', 'largest'] as const) {
    for (const sc of SCENARIOS) {
      it(`${size} train, ${sc}: within every limit`, () => {
        const msg = card(size, sc);
        expect(messageProblems(msg)).toEqual([]);
      });
    }
  }

  it('the largest train without a status URL is still within limits', () => {
    expect(messageProblems(card('largest', 'verifying, pending', null))).toEqual([]);
  });

  it('a line name long enough to overflow the header is cut to 150 characters', () => {
    const { train } = scenario('smallest', 'verifying, pending');
    const msg = trainCard(aLine({ trains: [train] }, { name: 'w'.repeat(400) }), train, { mention });
    expect(messageProblems(msg)).toEqual([]);
  });
});

describe('trainCard: content', () => {
  it('header names the train, the line and the state with its emoji', () => {
    const msg = card('smallest', 'verifying, pending');
    expect(msg.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: ':mag: Train #3 · web · verifying', emoji: true } });
    expect(card('smallest', 'deploying').blocks[0]).toMatchObject({ text: { text: ':rocket: Train #3 · web · deploying' } });
    expect(card('smallest', 'deployed').blocks[0]).toMatchObject({ text: { text: ':white_check_mark: Train #3 · web · deployed' } });
    expect(card('smallest', 'derailed').blocks[0]).toMatchObject({ text: { text: ':x: Train #3 · web · derailed' } });
    expect(card('smallest', 'delivering').blocks[0]).toMatchObject({ text: { text: ':building_construction: Train #3 · web · delivering' } });
  });

  it('top-level text is a one-line fallback', () => {
    const commits = [aCommit(1, ALICE, 'Alice', 'a'), aCommit(2, 'bob@acme.test', 'Bob', 'b'), aCommit(3, 'carol@acme.test', 'Carol', 'c')];
    const tickets = [
      ticketFor(ALICE, 'Alice', [commits[0]!], 'verified'),
      ticketFor('bob@acme.test', 'Bob', [commits[1]!], 'verified'),
      ticketFor('carol@acme.test', 'Carol', [commits[2]!], 'pending'),
    ];
    const train = aTrain(3, commits, { tickets, jobs: [aJob('build', 1, 'succeeded')] });
    const msg = trainCard(aLine({ trains: [train] }), train, { mention });
    expect(msg.text).toBe('Train #3 on web: verifying, 2/3 verified');
    expect(msg.text).not.toContain('\n');
    expect(card('smallest', 'verifying, all verified').text).toBe('Train #3 on web: verifying, 1/1 verified, ready to deploy');
    expect(card('smallest', 'delivering').text).toBe('Train #3 on web: delivering, 1 commit');
    expect(card('smallest', 'derailed').text).toBe('Train #3 on web: derailed, 1 commit, bad migration');
  });

  it('shows the short head SHA, the branch and the base', () => {
    const msg = card('smallest', 'verifying, pending');
    const fields = (msg.blocks.find((b) => b.type === 'section' && b.fields) as SectionBlock).fields!.map((f) => f.text);
    expect(fields[0]).toBe('*Head*\n`c1000000` on `main` (base `bbbbbbbb`)');
    expect(fields[2]).toBe('*Commits*\n1 commit by 1 author');
    expect(fields[3]).toBe('*Verified*\n0 of 1');
  });

  it('the engineer is mentioned; an unknown one is named by email; none says so', () => {
    expect(allText(card('smallest', 'verifying, pending').blocks)).toContain('*Engineer*\n<@UALICE>');
    const commits = smallestCommits();
    const stranger = aTrain(3, commits, { engineer: 'zed@acme.test' });
    expect(allText(trainCard(aLine({ trains: [stranger] }), stranger, { mention }).blocks)).toContain('*Engineer*\nzed@acme.test');
    const nobody = aTrain(3, commits, { engineer: null });
    expect(allText(trainCard(aLine({ trains: [nobody] }), nobody, { mention }).blocks)).toContain('*Engineer*\nno engineer');
  });

  it('ready to deploy says so and names the engineer', () => {
    const text = allText(card('smallest', 'verifying, all verified').blocks);
    expect(text).toContain(':large_green_circle: *Ready to deploy.* <@UALICE>, press *Deploy* to start the production deploy.');
  });

  it('not deployable: the why-not sentence, with mentions for the people it names', () => {
    const text = allText(card('smallest', 'verifying, pending').blocks);
    expect(text).toContain(':hourglass_flowing_sand: Waiting for a verification from <@UALICE>.');
    expect(allText(card('smallest', 'build failed').blocks)).toContain(':x: The build failed: retry it, or revert the bad commit and extend, or derail the train.');
    expect(allText(card('smallest', 'delivering').blocks)).toContain('The build and staging deploy are still running.');
  });

  it('an earlier train still deploying keeps the later one from deploying', () => {
    const { train } = scenario('smallest', 'verifying, all verified');
    const earlier = aTrain(2, [aCommit(9, 'bob@acme.test', 'Bob', 'x')], { state: 'deploying' });
    const msg = trainCard(aLine({ trains: [earlier, train] }), train, { mention });
    expect(allText(msg.blocks)).toContain('Train #2 is still deploying; this train can deploy when it has finished.');
    const deploy = buttonsOf(msg.blocks).find((b) => b.action_id === ACTIONS.deploy)!;
    expect(deploy.text.text).toBe('Deploy (not ready)');
    expect(deploy.style).toBeUndefined();
  });

  it('the blocked reason is prominent and escaped; not repeated as the why-not sentence', () => {
    const texts = textsOf(card('largest', 'verifying, blocked').blocks);
    const blocked = texts.filter((t) => t.includes('Blocked'));
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatch(/^:no_entry: \*Blocked:\* &lt;!channel&gt; &amp; &lt;@U999&gt;/);
    expect(texts.some((t) => t.includes('The train is blocked'))).toBe(false);
    expect(allText(card('smallest', 'verifying, blocked').blocks)).toContain(':no_entry: *Blocked:* waiting for QA');
  });

  it('a deployed train watched by its health check says so (behaviour.md §8)', () => {
    const { line, train } = scenario('smallest', 'deployed');
    const since = new Date('2026-11-23T10:00:00Z');
    const until = new Date('2026-11-23T10:15:00Z');
    const watched = { ...train, health: { state: 'watching' as const, failures: 2, since, until, last: 'failed' as const } };
    expect(allText(trainCard(line, watched, { mention }).blocks)).toContain(':stethoscope: *Health check:* watching (2 failures in a row)');
    const failed = { ...train, health: { state: 'failed' as const, failures: 3, since, until, last: 'failed' as const } };
    expect(allText(trainCard(line, failed, { mention }).blocks)).toContain(':stethoscope: *Health check:* failed: the line is blocked');
    expect(allText(trainCard(line, train, { mention }).blocks)).not.toContain('Health check');
  });

  it('jobs: latest first, at most 4, each with its link', () => {
    const jobsText = textsOf(card('largest', 'deploy failed').blocks).find((t) => t.startsWith('*Jobs*'))!;
    const lines = jobsText.split('\n').slice(1);
    expect(lines[0]).toBe(':x: Production deploy #1: failed · <https://ci.acme.test/job/deploy/1/|open>');
    expect(lines[1]).toMatch(/^:white_check_mark: Build \+ staging #7: succeeded · <https:\/\/ci\.acme\.test\/job\/web-build\/7\/\?a=1&amp;b=&lt;2&gt;%7Cx\/p/);
    expect(lines[2]).toMatch(/^:x: Build \+ staging #6: failed · </);
    expect(lines[3]).toMatch(/^:x: Build \+ staging #5: failed/);
    expect(lines[4]).toBe('…and 4 earlier jobs');
    expect(lines).toHaveLength(5);
  });

  it('commits grouped by author with the ticket state; pending authors first', () => {
    const commits = [
      aCommit(1, ALICE, 'Alice', 'first'),
      aCommit(2, 'bob@acme.test', 'Bob', 'second'),
      aCommit(3, ALICE, 'Alice', 'third'),
      aCommit(4, 'renovate@acme.test', 'Renovate', 'bump deps'),
    ];
    const tickets = [ticketFor(ALICE, 'Alice', [commits[0]!, commits[2]!], 'verified'), ticketFor('bob@acme.test', 'Bob', [commits[1]!], 'pending')];
    const train = aTrain(3, commits, { tickets, engineer: ALICE });
    const texts = textsOf(trainCard(aLine({ trains: [train] }), train, { mention }).blocks);
    const authors = texts.filter((t) => /^\*(Alice|Bob|Renovate)\*/.test(t));
    expect(authors).toEqual([
      '*Bob* bob@acme.test · 1 commit · :hourglass_flowing_sand: pending\n• `c2000000` second',
      '*Alice* <@UALICE> · 2 commits · :white_check_mark: verified\n• `c1000000` first\n• `c3000000` third',
      '*Renovate* renovate@acme.test · 1 commit · — not needed\n• `c4000000` bump deps',
    ]);
  });

  it('while delivering, authors without a ticket are "not asked yet"', () => {
    expect(allText(card('smallest', 'delivering').blocks)).toContain('*Alice* <@UALICE> · 1 commit · — not asked yet');
  });

  it('the largest train is summarised: 10 authors, 3 commits each, then a count and a link to everything', () => {
    const msg = card('largest', 'verifying, pending');
    const texts = textsOf(msg.blocks);
    const authorSections = texts.filter((t) => /^\*Dev &lt;\d+&gt;/.test(t));
    expect(authorSections).toHaveLength(10);
    for (const s of authorSections) {
      expect(s.split('\n').filter((l) => l.startsWith('• `'))).toHaveLength(3);
      expect(s).toMatch(/\n• …and 1[3-4] more commits$/);
    }
    // The 150 pending authors come first.
    expect(authorSections.every((s) => s.includes(':hourglass_flowing_sand: pending'))).toBe(true);
    const shownCommits = authorSections.reduce((n, s) => n + Number(/ · (\d+) commits · /.exec(s)![1]), 0);
    const more = texts.find((t) => t.startsWith('…and'))!;
    expect(more).toBe(
      `…and ${BIG_AUTHORS - 10} more authors (${(BIG_COMMITS - shownCommits).toLocaleString('en-US')} commits): see <${STATUS_URL}|the full list>. 140 of them still to verify.`,
    );
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
  });

  it('without a status URL the summary points at the command', () => {
    const more = textsOf(card('largest', 'verifying, all verified', null).blocks).find((t) => t.startsWith('…and'))!;
    expect(more).toMatch(/^…and 290 more authors \(4,8\d\d commits\): `\/conductor train 3` lists them\.$/);
  });

  it('user text is escaped: messages, names, reasons never become mentions or links', () => {
    for (const sc of ['verifying, blocked', 'derailed'] as const) {
      const msg = card('largest', sc);
      const json = JSON.stringify(msg);
      expect(json).not.toContain('<!channel>');
      expect(json).not.toContain('<@U999>');
      expect(json).not.toContain('<https://evil.test|click>');
      expect(json).toContain('&lt;!channel&gt; &amp; &lt;@U999&gt; &lt;https://evil.test|click&gt;');
      expect(messageProblems(msg)).toEqual([]);
    }
    const small = aTrain(3, [aCommit(1, ALICE, 'A <b> & c', NASTY)], { engineer: ALICE });
    const text = allText(trainCard(aLine({ trains: [small] }), small, { mention }).blocks);
    expect(text).toContain('*A &lt;b&gt; &amp; c* <@UALICE>');
    expect(text).toContain('• `c1000000` &lt;!channel&gt; &amp; &lt;@U999&gt; &lt;https://evil.test|click&gt; *bold* `code`');
  });

  it('a mention function that returns something other than a mention is escaped', () => {
    const { line, train } = scenario('smallest', 'verifying, pending');
    const msg = trainCard(line, train, { mention: () => '<!everyone>' });
    expect(JSON.stringify(msg)).not.toContain('<!everyone>');
    expect(messageProblems(msg)).toEqual([]);
  });

  it('manual mode is warned about on the card', () => {
    const { train } = scenario('smallest', 'verifying, pending');
    const msg = trainCard(aLine({ trains: [train] }, { mode: 'manual', manualReason: 'emergency reset by admin@acme.test: db down' }), train, { mention });
    expect(allText(msg.blocks)).toContain(':rotating_light: *web* is in manual mode (emergency reset by admin@acme.test: db down): trains start only when an admin runs `/conductor start`.');
    expect(msg.text).toContain('(line in manual mode)');
  });

  it('the derail reason is shown on a derailed train', () => {
    expect(allText(card('smallest', 'derailed').blocks)).toContain(':x: *Derailed*: bad migration');
  });
});

describe('trainCard: buttons per state', () => {
  const ids = (size: Size, sc: Parameters<typeof scenario>[1]) => actionIds(card(size, sc).blocks);

  for (const size of ['smallest', 'largest'] as const) {
    it(`${size}: delivering — deploy (not ready), claim, extend, derail; no verify, no retry`, () => {
      expect(ids(size, 'delivering')).toEqual([ACTIONS.deploy, ACTIONS.claim, ACTIONS.extend, ACTIONS.derail]);
    });
    it(`${size}: failed build — retry`, () => {
      expect(ids(size, 'build failed')).toEqual([ACTIONS.deploy, ACTIONS.retry, ACTIONS.claim, ACTIONS.extend, ACTIONS.derail]);
      expect(buttonsOf(card(size, 'build failed').blocks).find((b) => b.action_id === ACTIONS.retry)!.text.text).toBe(':repeat: Retry build');
    });
    it(`${size}: verifying with pending tickets — verify`, () => {
      // The largest train already has verified authors: they may take it back ("found a problem").
      const reopen = size === 'largest' ? [ACTIONS.reopen] : [];
      expect(ids(size, 'verifying, pending')).toEqual([ACTIONS.verify, ...reopen, ACTIONS.deploy, ACTIONS.claim, ACTIONS.extend, ACTIONS.derail]);
    });
    it(`${size}: verifying, all verified — deploy is on (primary)`, () => {
      const buttons = buttonsOf(card(size, 'verifying, all verified').blocks);
      expect(buttons.map((b) => b.action_id)).toEqual([ACTIONS.reopen, ACTIONS.deploy, ACTIONS.claim, ACTIONS.extend, ACTIONS.derail]);
      expect(buttons[0]).toMatchObject({ text: { text: ':warning: Found a problem' } });
      expect(buttons[1]).toMatchObject({ text: { text: ':rocket: Deploy' }, style: 'primary' });
    });
    it(`${size}: blocked — deploy is off`, () => {
      const deploy = buttonsOf(card(size, 'verifying, blocked').blocks).find((b) => b.action_id === ACTIONS.deploy)!;
      expect(deploy.text.text).toBe('Deploy (not ready)');
      expect(deploy.style).toBeUndefined();
    });
    it(`${size}: deploying — claim only`, () => {
      expect(ids(size, 'deploying')).toEqual([ACTIONS.claim]);
    });
    it(`${size}: failed deploy — retry deploy, claim, derail`, () => {
      expect(ids(size, 'deploy failed')).toEqual([ACTIONS.retry, ACTIONS.claim, ACTIONS.derail]);
      // behaviour.md §9: a deploy of unknown outcome is not derailed and is deployed again only after a confirmation.
      expect(ids(size, 'deploy unknown')).toEqual([ACTIONS.retry, ACTIONS.claim]);
      const again = buttonsOf(card(size, 'deploy unknown').blocks)[0]!;
      expect(again.text.text).toBe(':repeat: Deploy again');
      expect(again.confirm?.text.text).toContain('Check production first');
      expect(buttonsOf(card(size, 'deploy failed').blocks)[0]!.text.text).toBe(':repeat: Retry deploy');
    });
    it(`${size}: deployed and derailed — no buttons`, () => {
      for (const sc of ['deployed', 'derailed'] as const) {
        const msg = card(size, sc);
        expect(actionIds(msg.blocks)).toEqual([]);
        expect(msg.blocks.some((b) => b.type === 'actions')).toBe(false);
      }
    });
  }

  it('verify is primary while pending; deploy is then off', () => {
    const buttons = buttonsOf(card('smallest', 'verifying, pending').blocks);
    expect(buttons[0]).toMatchObject({ action_id: ACTIONS.verify, style: 'primary' });
    expect(buttons[1]).toMatchObject({ action_id: ACTIONS.deploy, text: { text: 'Deploy (not ready)' } });
    expect(buttons[1]!.style).toBeUndefined();
  });

  it('every button carries {line, train}', () => {
    for (const b of buttonsOf(card('largest', 'verifying, pending').blocks)) expect(JSON.parse(b.value!)).toEqual({ line: 'web', train: 3 });
  });

  it('extend and derail ask for confirmation, saying what will happen', () => {
    const { train } = scenario('smallest', 'verifying, pending');
    const platform = [aCommit(20, 'bob@acme.test', 'Bob', 'Revert "x"'), aCommit(21, 'bob@acme.test', 'Bob', 'y')];
    const msg = trainCard(aLine({ trains: [train], platform, nextTrainNumber: 4 }), train, { mention });
    const buttons = buttonsOf(msg.blocks);
    const extend = buttons.find((b) => b.action_id === ACTIONS.extend)!;
    const derail = buttons.find((b) => b.action_id === ACTIONS.derail)!;
    expect(extend.confirm).toEqual({
      title: { type: 'plain_text', text: 'Extend train #3?', emoji: true },
      text: {
        type: 'plain_text',
        text: 'Train #3 (1 commit) will be derailed and replaced by a new train: its commits plus every commit on the platform (push the revert first). Verified changes stay verified; the engineer stays.',
        emoji: true,
      },
      confirm: { type: 'plain_text', text: 'Extend', emoji: true },
      deny: { type: 'plain_text', text: 'Cancel', emoji: true },
      style: 'primary',
    });
    expect(derail.style).toBe('danger');
    expect(derail.confirm).toMatchObject({
      title: { text: 'Derail train #3?' },
      text: {
        text: 'Train #3 (1 commit) will be derailed: its jobs stop and its commits go back to the front of the platform. Verifications carry over. In schedule mode inside auto-time a new train takes them at once: to hold them, switch to manual mode first.',
      },
      confirm: { text: 'Derail' },
      style: 'danger',
    });
    // Other buttons act at once.
    for (const b of buttons.filter((x) => x.action_id !== ACTIONS.extend && x.action_id !== ACTIONS.derail)) expect(b.confirm).toBeUndefined();
  });

  it('the extend confirmation does not count the platform (the card is not redrawn when only the platform changes)', () => {
    const extend = buttonsOf(card('smallest', 'verifying, pending').blocks).find((b) => b.action_id === ACTIONS.extend)!;
    expect(extend.confirm!.text.text).toContain('plus every commit on the platform (push the revert first)');
  });

  it('a train with no human author has no engineer and shows claim', () => {
    const train = aTrain(3, [aCommit(1, 'renovate@acme.test', 'Renovate', 'bump')], { engineer: null, jobs: [aJob('build', 1, 'succeeded')] });
    const msg = trainCard(aLine({ trains: [train] }), train, { mention });
    expect(actionIds(msg.blocks)).toContain(ACTIONS.claim);
    expect(allText(msg.blocks)).toContain('An admin (or whoever claims the engineer role) may press *Deploy*');
  });

  it('big train authors: 300 distinct, counted in the fields', () => {
    const fields = (card('largest', 'verifying, pending').blocks.find((b) => b.type === 'section' && b.fields) as SectionBlock).fields!.map((f) => f.text);
    expect(fields[2]).toBe('*Commits*\n5,000 commits by 300 authors');
    expect(fields[3]).toBe('*Verified*\n150 of 300');
    expect(fields[1]).toBe(`*Engineer*\n<@UDEV7>`);
    expect(authorEmail(7)).toBe('dev7@acme.test');
  });

  it('behaviour.md §9: a deploy whose outcome is unknown says so, and every card says what production runs', () => {
    const text = allText(card('smallest', 'deploy unknown').blocks);
    expect(text).toContain('*Outcome unknown: check production.*');
    expect(text).toContain('Production deploy #1: outcome unknown: check production');
    expect(text).toContain('`/conductor job succeeded 3`');
    expect(text).not.toContain('Production runs'); // the small line has deployed nothing yet
    const big = allText(card('largest', 'deploying').blocks);
    expect(big).toContain('Production runs train #2 `d2000000` (rolled back from #5) since 2026-01-05 12:00 UTC, by ');
    expect(big).not.toContain('<!channel>');
  });
});

describe('trainCard: a failed job says why', () => {
  it('shows the last lines of the failed build, escaped, in a code block', () => {
    const msg = card('smallest', 'build failed');
    expect(textsOf(msg.blocks)).toContain('*Last lines of the failed build #1:*\n```\nnpm test\nError: boom\n```');
  });

  it('shows the failed deploy, not the builds before it', () => {
    const msg = card('smallest', 'deploy failed');
    expect(textsOf(msg.blocks)).toContain('*Last lines of the failed deploy #1:*\n```\nnpm test\nError: boom\n```');
  });

  it('a long, hostile output keeps the code block whole within the section limit', () => {
    const msg = card('largest', 'build failed');
    const tail = textsOf(msg.blocks).find((t) => t.startsWith('*Last lines of the failed build #7:*'))!;
    expect(tail.length).toBeLessThanOrEqual(3000);
    expect(tail.endsWith('\n```')).toBe(true);
    expect(tail).not.toContain('<!channel>');
  });

  it('says nothing of output once the train is over', () => {
    expect(allText(card('smallest', 'derailed').blocks)).not.toContain('Last lines');
  });
});
