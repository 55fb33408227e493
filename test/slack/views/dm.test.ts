import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/slack/registrations.js';
import { dmMessage } from '../../../src/slack/views/dm.js';
import { LONG_REASON, mention, NASTY } from './fixtures.js';
import { buttonsOf, textsOf } from './helpers.js';
import { messageProblems } from './slack-limits.js';

describe('dmMessage', () => {
  it('asked to verify: the text, a primary Verify button with {line, train}, and the line named', () => {
    const msg = dmMessage('Train #3 arrived on staging: please verify your 2 changes.', { askVerify: true, line: 'web', train: 3 });
    expect(msg.text).toBe('Train #3 arrived on staging: please verify your 2 changes.');
    expect(msg.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'Train #3 arrived on staging: please verify your 2 changes.' } },
      {
        type: 'actions',
        block_id: 'dm-train-3',
        elements: [
          {
            type: 'button',
            action_id: ACTIONS.verify,
            text: { type: 'plain_text', text: ':white_check_mark: Verify', emoji: true },
            value: JSON.stringify({ line: 'web', train: 3 }),
            style: 'primary',
          },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Conductor · line *web* · train #3' }] },
    ]);
    expect(messageProblems(msg)).toEqual([]);
  });

  it('not asked to verify: no buttons', () => {
    const msg = dmMessage('Train #3 is deployed. Thank you!', { askVerify: false, line: 'web', train: 3 });
    expect(buttonsOf(msg.blocks)).toEqual([]);
    expect(textsOf(msg.blocks)).toEqual(['Train #3 is deployed. Thank you!', 'Conductor · line *web* · train #3']);
  });

  it('no train: no Verify even if asked, and the context names only the line', () => {
    const msg = dmMessage('An emergency reset removed your commit.', { askVerify: true, line: 'api', train: null });
    expect(buttonsOf(msg.blocks)).toEqual([]);
    expect(textsOf(msg.blocks).at(-1)).toBe('Conductor · line *api*');
  });

  it('escapes user text and stays within limits for very long texts', () => {
    const msg = dmMessage(`Train #3 was derailed: ${LONG_REASON.repeat(10)}`, { askVerify: true, line: 'web<&>', train: 3 });
    expect(JSON.stringify(msg)).not.toContain(NASTY);
    expect(messageProblems(msg)).toEqual([]);
    expect(textsOf(msg.blocks).at(-1)).toBe('Conductor · line *web&lt;&amp;&gt;* · train #3');
    expect(JSON.parse(buttonsOf(msg.blocks)[0]!.value!)).toEqual({ line: 'web<&>', train: 3 });
  });
});

describe('dmMessage: mentions', () => {
  it('emails in the sentence become mentions for Slack users, after escaping', () => {
    const msg = dmMessage('alice@acme.test reopened their verification on train #3: <broken> & bad.', { askVerify: false, line: 'web', train: 3, mention });
    expect(msg.text).toBe('<@UALICE> reopened their verification on train #3: &lt;broken&gt; &amp; bad.');
    expect(messageProblems(msg)).toEqual([]);
  });
});
