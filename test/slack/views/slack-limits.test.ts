import type { View } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { messageProblems, mrkdwnProblems, viewProblems } from './slack-limits.js';

/** The checker must catch what it claims to, or every "within limits" test would be vacuous. */
describe('the view tests’ Slack limits checker', () => {
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const button = (text: string, value = '{}') => ({ type: 'button', action_id: `a${text.length}${value.length}`, text: { type: 'plain_text', text }, value });

  it('accepts a valid message', () => {
    expect(messageProblems({ text: 'hi', blocks: [section('hi <@U1> <https://x.test|x> &amp; <!date^1^{date}|d>')] })).toEqual([]);
  });

  it('catches each limit', () => {
    expect(messageProblems({ text: 'x', blocks: Array.from({ length: 51 }, () => section('x')) })).toContain('51 blocks > 50');
    expect(messageProblems({ text: 'x', blocks: [section('x'.repeat(3001))] })).toEqual(['blocks[0](section): 3001 > 3000 characters']);
    expect(messageProblems({ text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] })).toEqual(['blocks[0](header): 151 > 150 characters']);
    expect(messageProblems({ text: 'x', blocks: [{ type: 'actions', elements: [button('b'.repeat(76))] }] })).toEqual(['blocks[0](actions)[0].text: 76 > 75 characters']);
    expect(messageProblems({ text: 'x', blocks: [{ type: 'actions', elements: [button('b', 'v'.repeat(2001))] }] })).toEqual(['blocks[0](actions)[0]: value over 2000']);
    expect(messageProblems({ text: 'x', blocks: [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button('b'.repeat(i + 1))) }] })).toEqual([
      'blocks[0]: actions needs 1..25 elements',
    ]);
    expect(messageProblems({ text: 'x', blocks: [{ type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) }] })).toEqual([
      'blocks[0]: context needs 1..10 elements',
    ]);
    expect(messageProblems({ blocks: [section('x')] })).toEqual(['top-level text missing']);
    const modal: View = { type: 'modal', title: { type: 'plain_text', text: 't'.repeat(25) }, blocks: [section('x') as never], private_metadata: 'm'.repeat(3001) };
    expect(viewProblems(modal)).toEqual(['private_metadata 3001 > 3000', 'title: 25 > 24 characters']);
    expect(viewProblems({ type: 'home', blocks: Array.from({ length: 101 }, () => section('x') as never) })).toEqual(['101 blocks > 100']);
  });

  it('catches unescaped user text', () => {
    expect(mrkdwnProblems('a <b> c', 't')).toHaveLength(2);
    expect(mrkdwnProblems('a & b', 't')).toHaveLength(1);
    expect(mrkdwnProblems('hey <!channel>', 't')).toEqual(['t: broadcast <!channel>']);
  });
});
