// The pages' components rendered alone (no server): what they say, and that
// everything a user wrote stays escaped text.
import { h, type VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import type { LineSummaryJson } from '../../src/engine/read/lines.js';
import { parseSearch, type SearchResultJson } from '../../src/engine/read/search.js';
import { History } from '../../src/web/pages/history.js';
import { Me } from '../../src/web/pages/me.js';
import { Overview } from '../../src/web/pages/overview.js';
import { exactMatch, Search } from '../../src/web/pages/search.js';

const X = '<img src=x onerror=alert(1)>';
const SHA = 'a'.repeat(40);
const render = (v: VNode<any>) => renderToString(v);
const noRawHostile = (html: string) => {
  expect(html).not.toContain('<img');
  // No tag carries an event handler (attribute values, escaped, are set aside first).
  expect(html.replace(/"[^"]*"/g, '""')).not.toMatch(/<[a-z]+[^>]*\sonerror=/i);
};

const line = (over: Partial<LineSummaryJson> & { line: string }): LineSummaryJson => ({
  mode: 'schedule',
  manualReason: null,
  manualSetBy: null,
  inAutoTime: true,
  whyIdle: null,
  train: null,
  platformSize: 0,
  production: null,
  ...over,
});
const train = (over: Partial<NonNullable<LineSummaryJson['train']>> = {}): NonNullable<LineSummaryJson['train']> => ({
  number: 3,
  state: 'verifying',
  engineer: X,
  verified: { done: 1, total: 2 },
  deployable: false,
  notDeployableReason: `waiting for ${X}`,
  headSha: SHA,
  commitCount: 2,
  blocked: null,
  jobProblem: null,
  ...over,
});

describe('Overview', () => {
  it('names who put a line in manual mode, escaped', () => {
    const html = render(h(Overview, { lines: [line({ line: 'held', mode: 'manual', manualReason: 'release freeze', manualSetBy: X, whyIdle: null })] }));
    noRawHostile(html);
    expect(html).toContain('Manual mode: release freeze (set by &lt;img src=x onerror=alert(1)>)');
  });

  it('escapes every user string and lists the most urgent first: unknown outcome, failed job, deployable, blocked', () => {
    const html = render(
      h(Overview, {
        lines: [
          line({ line: 'blocked', train: train({ blocked: X }) }),
          line({ line: 'ready', train: train({ deployable: true, notDeployableReason: null, engineer: null }) }),
          line({ line: 'unknown', train: train({ state: 'deploying', jobProblem: { kind: 'deploy', state: 'unknown', attempt: 1 } }) }),
          line({ line: 'failed', train: train({ state: 'delivering', jobProblem: { kind: 'build', state: 'failed', attempt: 2 } }) }),
          line({
            line: 'manual',
            mode: 'manual',
            manualReason: X,
            whyIdle: `The line is in manual mode (${X}): trains start only when an admin runs \`/conductor start\`.`,
            production: { number: 2, headSha: SHA, since: '2026-12-01T10:00:00.000Z', by: X, rolledBackFrom: 4 },
            platformSize: 1,
          }),
        ],
      }),
    );
    noRawHostile(html);
    const attention = html.slice(html.indexOf('Needs attention'), html.indexOf('</section>'));
    const order = ['unknown', 'failed', 'ready', 'blocked'].map((l) => attention.indexOf(`<strong>${l}</strong>`));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(attention).toContain('The outcome of the production deploy is unknown: check production.');
    expect(attention).toContain('The build failed');
    expect(attention).toContain('Ready to deploy: an admin may start it (no engineer).');
    expect(attention).toContain('Blocked: &lt;img src=x onerror=alert(1)>');
    // Said once, inside "why nothing is moving".
    expect(html).not.toContain('Manual mode: ');
    expect(html).toContain('The line is in manual mode (&lt;img src=x onerror=alert(1)>)');
    expect(html).toContain('<strong>rolled back from #4</strong>');
    expect(html).toContain('since <time datetime="2026-12-01T10:00:00.000Z">2026-12-01 10:00 UTC</time>');
    expect(html).toContain('<code>/conductor start</code>');
    expect(html).toContain('1 commit waiting');
  });

  it('says when no line is configured, and shows no attention list when nothing needs a person', () => {
    expect(render(h(Overview, { lines: [] }))).toContain('No line is configured.');
    expect(render(h(Overview, { lines: [line({ line: 'calm', train: train() })] }))).not.toContain('Needs attention');
  });
});

const result = (over: Partial<SearchResultJson>): SearchResultJson => ({
  sha: SHA,
  authorEmail: `${X}@example.com`,
  message: `${X}\nsecond line`,
  line: 'web',
  where: 'platform',
  train: null,
  trainState: null,
  deployedAt: null,
  ...over,
});

describe('Search', () => {
  it('lists results with where they are, in words, escaped', () => {
    const html = render(
      h(Search, {
        q: X,
        results: [
          result({}),
          result({ where: 'train', train: 4, trainState: 'verifying' }),
          result({ where: 'deployed', train: 3, trainState: 'deployed', deployedAt: '2026-12-02T09:30:00.000Z' }),
          result({ where: 'removed' }),
        ],
      }),
    );
    noRawHostile(html);
    expect(html).toContain('<div class="table-wrap" tabindex="0" role="region" aria-label="Search results">');
    expect(html).toContain('waiting on the <a href="/lines/web">platform</a>');
    expect(html).toContain('on <a href="/lines/web/trains/4">train #4</a> <span class="state state-verifying">verifying</span>');
    expect(html).toContain('deployed with <a href="/lines/web/trains/3">train #3</a> at <time datetime="2026-12-02T09:30:00.000Z">');
    expect(html).toContain('removed by an emergency reset or a force push');
    expect(html).not.toContain('second line');
    expect(html).toContain('value="&lt;img src=x onerror=alert(1)>"');
  });

  it('jumps only for one SHA match: a full SHA or a prefix of 7+, never for a removed commit or a word', () => {
    const onTrain = result({ where: 'train', train: 4, trainState: 'verifying' });
    expect(exactMatch(parseSearch(SHA) as never, [onTrain])).toBe(onTrain);
    expect(exactMatch(parseSearch('aaaaaaa') as never, [onTrain])).toBe(onTrain);
    expect(exactMatch(parseSearch('aaaa') as never, [onTrain])).toBeNull();
    expect(exactMatch(parseSearch('aaaaaaa') as never, [onTrain, result({ sha: `${'a'.repeat(39)}b` })])).toBeNull();
    expect(exactMatch(parseSearch(SHA) as never, [result({ where: 'removed' })])).toBeNull();
    expect(exactMatch(parseSearch('dark mode') as never, [onTrain])).toBeNull();
  });
});

describe('History', () => {
  it('escapes the entry text, the actor and the filter values typed back', () => {
    const html = render(
      h(History, {
        lines: ['web'],
        form: { line: 'web', actor: X, action: 'train.blocked', limit: '' },
        filters: { line: 'web', actor: null, action: 'train.blocked', before: null, limit: 50 },
        page: { entries: [{ at: '2026-12-03T08:00:00.000Z', line: 'web', actor: X, action: 'train.blocked', train: 2, text: `${X} blocked train #2: ${X}` }], next: '17' },
      }),
    );
    noRawHostile(html);
    expect(html).toContain('href="/history?line=web&amp;action=train.blocked&amp;before=17" rel="next">Older</a>');
    expect(html).toContain('<option value="train.blocked" selected>train.blocked</option>');
    expect(html).toContain('href="/lines/web/trains/2">train #2</a>');
  });

  it('shows the reason of a bad filter with the form', () => {
    const html = render(h(History, { lines: ['web'], form: { line: '', actor: '', action: X, limit: '' }, error: 'action: must be an action code' }));
    noRawHostile(html);
    expect(html).toContain('role="alert">action: must be an action code</p>');
  });
});

describe('Me', () => {
  it('escapes my commits and tickets, and links each pending verification to its train', () => {
    const html = render(
      h(Me, {
        data: {
          email: X,
          commits: [{ sha: SHA, message: X, line: 'web', where: 'train', train: 2, trainState: 'verifying', deployedAt: null }],
          verifications: [{ line: 'web', train: 2, trainState: 'verifying', ticket: X, ticketUrl: 'javascript:alert(1)', shas: [SHA], requestedAt: null }],
          engineerOf: [{ line: 'web', number: 2, state: 'verifying', headSha: SHA, blocked: X, createdAt: '2026-12-03T08:00:00.000Z' }],
        },
      }),
    );
    noRawHostile(html);
    expect(html).not.toContain('javascript:');
    expect(html).toContain('<a class="button" href="/lines/web/trains/2">Verify on the train page</a>');
    expect(html).toContain('blocked: &lt;img src=x onerror=alert(1)>');
  });
});
