import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, escapeWithMentions, link, sections, threadReply, truncate } from '../../../src/slack/views/text.js';
import { mention, NASTY } from './fixtures.js';
import { textsOf } from './helpers.js';
import { messageProblems, mrkdwnProblems } from './slack-limits.js';

describe('escapeMrkdwn', () => {
  it('escapes &, < and > (and only those)', () => {
    expect(escapeMrkdwn('a & b <c> *d* `e`')).toBe('a &amp; b &lt;c&gt; *d* `e`');
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
    expect(mrkdwnProblems(escapeMrkdwn(NASTY), 't')).toEqual([]);
  });
});

describe('truncate', () => {
  it('keeps short text, cuts long text with an ellipsis at the limit', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcdef', 4)).toHaveLength(4);
  });
  it('never leaves half an entity or half a surrogate pair', () => {
    expect(truncate('ab &amp; cd', 6)).toBe('ab …');
    expect(truncate('ab😀cd', 4)).toBe('ab…');
  });
});

describe('link and mentions', () => {
  it('a link cannot break out of its brackets', () => {
    expect(link('https://ci.test/a?x=1&y=<2>|z', 'open|me')).toBe('<https://ci.test/a?x=1&amp;y=&lt;2&gt;%7Cz|open¦me>');
  });
  it('emails become mentions when known, after escaping', () => {
    expect(escapeWithMentions('alice@acme.test & zed@acme.test <x>', mention)).toBe('<@UALICE> &amp; zed@acme.test &lt;x&gt;');
  });
});

describe('sections', () => {
  it('splits long text at line ends into sections of at most 3000 characters', () => {
    const text = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n');
    const blocks = sections(text, 10);
    expect(blocks.length).toBe(5);
    for (const b of blocks) expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    expect(blocks.map((b) => b.text!.text).join('\n')).toBe(text);
  });
  it('beyond the block budget the text is cut with a note', () => {
    const blocks = sections('y'.repeat(2900) + '\n' + 'z'.repeat(2900) + '\n' + 'w'.repeat(2900), 2);
    expect(blocks).toHaveLength(2);
    expect(blocks[1]!.text!.text).toMatch(/_\(cut: too long for Slack\)_$/);
    expect(blocks[1]!.text!.text.length).toBeLessThanOrEqual(3000);
  });
});

describe('threadReply', () => {
  it('escapes the engine sentence and mentions the people it names', () => {
    const reply = threadReply('Train #3 was derailed by alice@acme.test: <!channel> & friends.', { mention });
    expect(reply.text).toBe('Train #3 was derailed by <@UALICE>: &lt;!channel&gt; &amp; friends.');
    expect(textsOf(reply.blocks)).toEqual([reply.text]);
    expect(messageProblems(reply)).toEqual([]);
  });
  it('a very long announcement (an emergency reset listing commits) stays within limits', () => {
    const text = [':rotating_light: Emergency reset by admin@acme.test: <db> down.', ...Array.from({ length: 2000 }, (_, i) => `c${i}0000 dev${i}@acme.test: ${NASTY}`)].join('\n');
    const reply = threadReply(text, { mention });
    expect(messageProblems(reply)).toEqual([]);
    expect(reply.blocks).toHaveLength(10);
  });
  it('works without a mention function', () => {
    expect(threadReply('alice@acme.test verified their changes on train #3.').text).toBe('alice@acme.test verified their changes on train #3.');
  });
});
