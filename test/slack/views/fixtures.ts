/**
 * Trains for the view tests: the smallest (1 commit, 1 author) and the largest
 * we support (5,000 commits by 300 authors, long messages full of `<>&`, long
 * reasons), in every state the card shows.
 */
import type { CommitRef, Job, LineState, Ticket, Train, TrainStatus } from '../../../src/domain/model.js';

export const T0 = new Date('2026-01-05T12:00:00Z');
export const BASE = 'b'.repeat(40);
export const NASTY = '<!channel> & <@U999> <https://evil.test|click> *bold* `code`';

export const sha = (i: number, prefix = 'c'): string => `${prefix}${i.toString(16)}`.padEnd(40, '0');

export function aCommit(i: number, email: string, name: string, message: string): CommitRef {
  return { sha: sha(i), authorEmail: email, authorName: name, message, verifiedBy: null, verifiedAt: null };
}

export function aLine(overrides: Partial<LineState> = {}, settings: Partial<LineState['settings']> = {}): LineState {
  return {
    settings: {
      name: 'web',
      branch: 'main',
      mode: 'schedule',
      manualReason: null,
      manualSetBy: null,
      autoTime: [],
      freezes: [],
      timezone: 'UTC',
      maxCommits: null,
      reminderMinutes: 30,
      timeouts: { build: 30, deploy: 60, rollback: 60 },
      health: null,
      ...settings,
    },
    deployedSha: BASE,
    knownHeadSha: BASE,
    nextTrainNumber: 4,
    platform: [],
    trains: [],
    lastDeployed: null,
    production: null,
    healthBlock: null,
    ...overrides,
  };
}

export function aJob(kind: Job['kind'], attempt: number, state: Job['state'], url: string | null = `https://ci.acme.test/job/${kind}/${attempt}/`): Job {
  return {
    kind,
    state,
    attempt,
    sha: sha(1),
    requestedBy: 'conductor',
    externalId: `${kind}-${attempt}`,
    url,
    output: null,
    createdAt: new Date(T0.getTime() + attempt * 60_000 + (kind === 'build' ? 0 : 3_600_000)),
    startedAt: null,
    finishedAt: null,
    timeoutAt: null,
  };
}

export function ticketFor(email: string, name: string, commits: CommitRef[], state: Ticket['state']): Ticket {
  return {
    authorEmail: email.toLowerCase(),
    authorName: name,
    state,
    commitShas: commits.map((c) => c.sha),
    verifiedBy: state === 'verified' ? email : null,
    verifiedAt: state === 'verified' ? T0 : null,
    requestedAt: T0,
    remindedAt: null,
    externalKey: null,
    externalUrl: null,
    createdAt: T0,
  };
}

export function aTrain(number: number, commits: CommitRef[], overrides: Partial<Train> = {}): Train {
  return {
    number,
    state: 'verifying',
    headSha: commits[commits.length - 1]?.sha ?? BASE,
    baseSha: BASE,
    engineer: null,
    blocked: null,
    derailReason: null,
    replaces: null,
    createdBy: 'conductor',
    createdAt: T0,
    deliveredAt: null,
    verifiedAt: null,
    deployStartedAt: null,
    deployedAt: null,
    derailedAt: null,
    commits,
    tickets: [],
    jobs: [],
    health: null,
    bisect: null,
    ...overrides,
  };
}

export const ALICE = 'alice@acme.test';

/** 1 commit by Alice. */
export function smallestCommits(): CommitRef[] {
  return [aCommit(1, ALICE, 'Alice', 'Fix the login button')];
}

export const BIG_AUTHORS = 300;
export const BIG_COMMITS = 5000;
export const authorEmail = (a: number): string => `dev${a}@acme.test`;

/** 5,000 commits by 300 authors, interleaved, with long messages full of Slack control characters. */
export function largestCommits(): CommitRef[] {
  const out: CommitRef[] = [];
  for (let i = 0; i < BIG_COMMITS; i++) {
    const a = i % BIG_AUTHORS;
    const message = `${NASTY} fix <Widget${i}> & "quotes" ${'long words & <tags> '.repeat(40)}\n\nBody with ${'<more> & '.repeat(100)}`;
    out.push(aCommit(i + 1, authorEmail(a), `Dev <${a}> & ${'Co'.repeat(60)}`, message));
  }
  return out;
}

export const LONG_REASON = `${NASTY} ${'the payment provider is down & <everything> is on fire '.repeat(100)}`;

export type Size = 'smallest' | 'largest';
export type Scenario =
  | 'delivering'
  | 'build failed'
  | 'verifying, pending'
  | 'verifying, all verified'
  | 'verifying, blocked'
  | 'deploying'
  | 'deploy failed'
  | 'deploy unknown'
  | 'deployed'
  | 'derailed';

export const SCENARIOS: Scenario[] = [
  'delivering',
  'build failed',
  'verifying, pending',
  'verifying, all verified',
  'verifying, blocked',
  'deploying',
  'deploy failed',
  'deploy unknown',
  'deployed',
  'derailed',
];

/** A line with one train of `size` in `scenario`. Big trains get many job attempts, long reasons and a long manual-mode reason. */
export function scenario(size: Size, sc: Scenario): { line: LineState; train: Train } {
  const commits = size === 'smallest' ? smallestCommits() : largestCommits();
  const byAuthor = new Map<string, CommitRef[]>();
  for (const c of commits) byAuthor.set(c.authorEmail, [...(byAuthor.get(c.authorEmail) ?? []), c]);
  const tickets = (allVerified: boolean): Ticket[] =>
    [...byAuthor.entries()].map(([email, cs], i) => ticketFor(email, cs[0]!.authorName, cs, allVerified || i % 2 === 1 ? 'verified' : 'pending'));
  const attempts = size === 'smallest' ? 1 : 7;
  const builds = (last: Job['state']): Job[] =>
    Array.from({ length: attempts }, (_, i) =>
      aJob('build', i + 1, i + 1 === attempts ? last : 'failed', size === 'largest' ? `https://ci.acme.test/job/web-build/${i + 1}/?a=1&b=<2>|x${'/p'.repeat(200)}` : undefined),
    );
  const deploys = (last: Job['state']): Job[] => [aJob('deploy', 1, last)];
  // A failed job's output is shown on the card: big trains get the worst (long lines that escaping lengthens).
  const withOutput = (jobs: Job[]): Job[] =>
    jobs.map((j) =>
      j.state === 'failed' ? { ...j, output: size === 'largest' ? Array.from({ length: 60 }, () => `${NASTY} ${'&<>'.repeat(300)}`).join('\n') : 'npm test\nError: boom' } : j,
    );
  const engineer = size === 'smallest' ? ALICE : authorEmail(7);
  const blocked = size === 'largest' ? LONG_REASON : 'waiting for QA';
  const base: Partial<Train> = { engineer, createdBy: size === 'largest' ? `${NASTY}@acme.test` : 'conductor' };
  let train: Train;
  switch (sc) {
    case 'delivering':
      train = aTrain(3, commits, { ...base, state: 'delivering', jobs: [aJob('build', 1, 'running')] });
      break;
    case 'build failed':
      train = aTrain(3, commits, { ...base, state: 'delivering', jobs: withOutput(builds('failed')) });
      break;
    case 'verifying, pending':
      train = aTrain(3, commits, { ...base, tickets: tickets(false), jobs: builds('succeeded') });
      break;
    case 'verifying, all verified':
      train = aTrain(3, commits, { ...base, tickets: tickets(true), jobs: builds('succeeded') });
      break;
    case 'verifying, blocked':
      train = aTrain(3, commits, { ...base, tickets: tickets(true), jobs: builds('succeeded'), blocked });
      break;
    case 'deploying':
      train = aTrain(3, commits, { ...base, state: 'deploying', tickets: tickets(true), jobs: [...builds('succeeded'), ...deploys('running')] });
      break;
    case 'deploy failed':
      train = aTrain(3, commits, { ...base, state: 'deploying', tickets: tickets(true), jobs: withOutput([...builds('succeeded'), ...deploys('failed')]) });
      break;
    case 'deploy unknown':
      train = aTrain(3, commits, { ...base, state: 'deploying', tickets: tickets(true), jobs: [...builds('succeeded'), ...deploys('unknown')] });
      break;
    case 'deployed':
      train = aTrain(3, commits, { ...base, state: 'deployed', tickets: tickets(true), jobs: [...builds('succeeded'), ...deploys('succeeded')] });
      break;
    case 'derailed':
      train = aTrain(3, commits, { ...base, state: 'derailed', derailReason: size === 'largest' ? LONG_REASON : 'bad migration', jobs: builds('failed') });
      break;
  }
  // What production runs (behaviour.md §9): the big line after a rollback, by someone with a hostile name.
  const production = size === 'largest' ? { number: 2, headSha: sha(2, 'd'), since: T0, by: `${NASTY}@acme.test`, rolledBackFrom: 5 } : null;
  const line = aLine(
    { trains: [train], production, lastDeployed: production && { number: production.number, headSha: production.headSha } },
    size === 'largest' ? { name: 'web', mode: 'manual', manualReason: `emergency reset by admin@acme.test: ${LONG_REASON}` } : {},
  );
  return { line, train };
}

export const STATES: TrainStatus[] = ['delivering', 'verifying', 'deploying', 'deployed', 'derailed'];

/** `<@U…>` for the people Slack knows, else the email (as the real lookup does). */
export const mention = (email: string): string => {
  const known: Record<string, string> = { [ALICE]: '<@UALICE>', [authorEmail(7)]: '<@UDEV7>' };
  return known[email.toLowerCase()] ?? email;
};
