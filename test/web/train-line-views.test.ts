/**
 * The line and train pages rendered to strings: what people wrote stays text,
 * big trains are grouped by author and paginated, and the page says what the
 * model holds (timeline, jobs, tickets, why not deployable).
 */
import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { describe, expect, test } from 'vitest';
import { type CommitRef, type Job, type LineState, liveOutputText, type Ticket, type Train } from '../../src/domain/index.js';
import { shapeLinePage } from '../../src/engine/read/line-page.js';
import { AUTHORS_PER_PAGE, authorsOf, COMMITS_SHOWN, shapeTrainPage, type TrainExtras } from '../../src/engine/read/train-page.js';
import { LineView } from '../../src/web/pages/line.js';
import { TrainView } from '../../src/web/pages/train.js';
import { aLine, MONDAY_NOON, sha } from '../support/domain-builders.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const at = (min: number) => new Date(MONDAY_NOON.getTime() + min * 60_000);

function commit(i: number, author: string, message = `change ${i}`): CommitRef {
  return { sha: sha(`c${i.toString(16)}`), authorName: author.split('@')[0]!, authorEmail: author, message, verifiedBy: null, verifiedAt: null };
}

function ticket(author: string, shas: string[], verified: boolean): Ticket {
  return {
    authorEmail: author,
    authorName: author.split('@')[0]!,
    state: verified ? 'verified' : 'pending',
    commitShas: shas,
    verifiedBy: verified ? author : null,
    verifiedAt: verified ? at(5) : null,
    requestedAt: at(2),
    remindedAt: null,
    externalKey: verified ? 'WEB-7' : null,
    externalUrl: verified ? 'javascript:alert(1)' : null,
    createdAt: at(0),
  };
}

function job(over: Partial<Job>): Job {
  return {
    kind: 'build',
    state: 'succeeded',
    attempt: 1,
    sha: sha('c1'),
    requestedBy: 'conductor',
    externalId: 'local-1',
    url: null,
    output: null,
    createdAt: at(0),
    startedAt: at(0),
    finishedAt: at(2),
    timeoutAt: null,
    ...over,
  };
}

function train(commits: CommitRef[], over: Partial<Train> = {}): Train {
  const authors = [...new Set(commits.map((c) => c.authorEmail))];
  return {
    number: 3,
    state: 'verifying',
    headSha: commits[commits.length - 1]!.sha,
    baseSha: sha('b'),
    engineer: 'alice@acme.test',
    blocked: null,
    derailReason: null,
    replaces: null,
    createdBy: 'conductor',
    createdAt: at(0),
    deliveredAt: at(2),
    verifiedAt: null,
    deployStartedAt: null,
    deployedAt: null,
    derailedAt: null,
    commits,
    tickets: authors.map((a, i) =>
      ticket(
        a,
        commits.filter((c) => c.authorEmail === a).map((c) => c.sha),
        i % 2 === 0,
      ),
    ),
    jobs: [job({})],
    health: null,
    bisect: null,
    ...over,
  };
}

type Extras = Omit<TrainExtras, 'authors' | 'pageCommits'>;
const extras = (over: Partial<Extras> = {}): Extras => ({ previous: 2, next: null, replaces: null, replacedBy: null, audit: [], jobIds: new Map([['3:build:1', 41]]), ...over });

// The loaded train carries no commits: like readTrainPage, the page gets them counted by author.
const render = (s: LineState, t: Train, x: Extras = extras(), page = 1, live = new Map<number, string>()) =>
  renderToString(h(TrainView, { p: shapeTrainPage({ ...s, trains: [t] }, { ...t, commits: [] }, { ...x, ...authorsOf(t.commits) }, page), live }));

describe('the train page', () => {
  test('hostile commit messages, emails, reasons and output stay text', () => {
    const evil = `evil${HOSTILE}@acme.test`;
    const t = train([commit(1, evil, HOSTILE), commit(2, 'bob@acme.test')], {
      blocked: HOSTILE,
      derailReason: HOSTILE,
      engineer: evil,
      jobs: [job({ state: 'failed', output: `step 1\n${HOSTILE}\n` }), job({ kind: 'deploy', state: 'running', externalId: 'local-42', finishedAt: null })],
    });
    const x = extras({
      audit: [{ createdAt: at(1), actor: evil, action: 'train.blocked', details: { reason: HOSTILE } }],
      jobIds: new Map([
        ['3:build:1', 41],
        ['3:deploy:1', 42],
      ]),
    });
    const html = render(aLine(), t, x, 1, new Map([[42, `live ${HOSTILE}`]]));
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)>');
    // The tail of the failed build and the live output of the running deploy, both as text.
    expect(html).toMatch(/<pre class="output">[^<]*step 1\n&lt;img/);
    expect(html).toContain('data-follow="/lines/web/trains/3/jobs/42/output"');
    expect(html).toContain('live &lt;img');
    // A ticket link that is not http(s) is not a link.
    expect(html).not.toContain('javascript:');
    expect(html).toContain('WEB-7');
  });

  test('timeline steps say who did what, with how long each step took', () => {
    const t = train([commit(1, 'alice@acme.test')]);
    const x = extras({
      audit: [
        { createdAt: at(0), actor: 'conductor', action: 'train.created', details: { commits: 1, headSha: t.headSha, engineer: 'alice@acme.test' } },
        { createdAt: at(3), actor: 'conductor', action: 'job.succeeded', details: { kind: 'build', attempt: 1 } },
        { createdAt: at(65), actor: 'alice@acme.test', action: 'ticket.verified', details: { author: 'alice@acme.test' } },
      ],
    });
    const html = render(aLine(), t, x);
    expect(html).toContain('Conductor started train #3 with 1 commit');
    expect(html).toContain('+3 min');
    expect(html).toContain('+1 h 2 min');
    expect(html).toContain('alice@acme.test verified their changes on train #3.');
    expect(html).toContain('rel="prev"');
    expect(html).not.toContain('rel="next"');
  });

  test('a 5,000-commit, 300-author train renders grouped by author, a page of authors at a time', () => {
    const authors = Array.from({ length: 300 }, (_, i) => `dev${String(i).padStart(3, '0')}@example.com`);
    const commits = Array.from({ length: 5000 }, (_, i) => commit(i + 1, authors[(i * 7919) % 300]!));
    const t = train(commits);
    const started = performance.now();
    const html = render(aLine(), t);
    const took = performance.now() - started;
    expect(html).toContain('Commits (5000) by author (300)');
    expect(html).toContain('authors page 1 of 6');
    expect(html.match(/class="author"/g)).toHaveLength(AUTHORS_PER_PAGE);
    // Pending authors come first; each shows COMMITS_SHOWN commits and the rest behind <details>.
    const first = /<li class="author" data-author="([^"]+)">/.exec(html)![1]!;
    expect(authors.indexOf(first) % 2).toBe(1);
    expect(html).toContain(`${17 - COMMITS_SHOWN} more</summary>`);
    expect(html.length).toBeLessThan(400_000);
    const page6 = render(aLine(), t, extras(), 6);
    expect(page6.match(/class="author"/g)).toHaveLength(300 - 5 * AUTHORS_PER_PAGE);
    expect(page6).toContain('?authors=5#commits');
    // A page past the end shows the last one.
    expect(render(aLine(), t, extras(), 99)).toContain('authors page 6 of 6');
    console.log(`train view: 5,000 commits / 300 authors rendered in ${took.toFixed(1)} ms, ${(html.length / 1024).toFixed(0)} KiB`);
  });

  test('a Jenkins build: its console link, and the tail of its failed console shown open; extend links both ways', () => {
    const t = train([commit(1, 'alice@acme.test')], {
      state: 'delivering',
      jobs: [job({ state: 'failed', externalId: 'web-build#12', url: 'https://jenkins.test/job/web-build/12/', output: 'compiling\nerror: token=abcdef123456 leaked\nFAILED' })],
    });
    const html = render(aLine(), t, extras({ replaces: 2, replacedBy: 4 }));
    expect(html).toContain('<a href="https://jenkins.test/job/web-build/12/" rel="noreferrer">console</a>');
    expect(html).toMatch(/<details open><summary>Last lines of the output<\/summary><pre class="output">compiling\nerror: token=\[redacted\] leaked\nFAILED<\/pre>/);
    expect(html).not.toContain('data-follow'); // not a local job
    expect(html).toContain('The build failed: retry it');
    expect(html).toContain('<a href="/lines/web/trains/2">train #2</a> (extend)');
    expect(html).toContain('<a href="/lines/web/trains/4">train #4</a> (extend)');
  });

  test('live output is redacted and loses terminal control codes', () => {
    expect(liveOutputText('\x1b[32mok\x1b[0m password=hunter22 \x07done\r\n')).toBe('ok password=[redacted] done\n');
  });
});

describe('the line page', () => {
  test('hostile reasons and messages stay text; auto-time shows as a week grid; production is named', () => {
    const evil = `x${HOSTILE}@acme.test`;
    const s = aLine({
      settings: { mode: 'manual', manualReason: HOSTILE, autoTime: [{ days: ['mon'], start: '09:30', end: '11:00' }], freezes: ['2026-01-06', '2025-12-24'] },
      platform: [commit(9, evil, HOSTILE)],
      trains: [train([commit(1, 'alice@acme.test')], { blocked: HOSTILE })],
      production: { number: 2, headSha: sha('d2'), since: at(-60), by: evil, rolledBackFrom: 4 },
    });
    const row = { number: 3, state: 'verifying' as const, headSha: sha('c1'), engineer: 'alice@acme.test', commits: 1, authors: 1, createdAt: at(0), endedAt: null };
    const p = shapeLinePage(s, { trains: [row], hasOlder: true, paged: false, firstSeen: new Map([[sha('c9'), at(-90)]]), sizes: new Map() }, MONDAY_NOON);
    const html = renderToString(h(LineView, { p, now: MONDAY_NOON }));
    expect(html).not.toContain('<img');
    expect(html).toContain('manual mode: &lt;img');
    expect(html).toContain('Blocked: &lt;img');
    expect(html).toContain('rolled back from #4');
    expect(html).toContain('the oldest waiting for 1 h 30 min');
    // Monday 09:00 is half inside, 10:00 wholly; past freeze dates are not listed.
    expect(html).toContain('class="hour hour-part" data-hour="9" title="mon 09:00');
    expect(html).toContain('class="hour hour-in" data-hour="10" title="mon 10:00');
    expect(html).toMatch(/<th scope="row">tue<\/th>(<td class="hour hour-out" data-hour="\d+"><\/td>){24}<\/tr>/);
    expect(html).toContain('Auto-time: ');
    expect(html).toContain('<li>2026-01-06</li>');
    expect(html).not.toContain('2025-12-24');
    expect(html).toContain('href="/lines/web?before=3#trains"');
    expect(html.length).toBeLessThan(20_000);
  });
});
