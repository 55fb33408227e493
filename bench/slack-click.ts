// Button click → train card updated: with a train of five authors waiting for
// verification (pushed, built by a `sleep 2` job standing in for Jenkins,
// delivered), each author presses Verify on the card (a signed block_actions
// POSTed to Conductor's /slack/events); the time runs from the request until
// the fake Slack receives the chat.update of that train's card showing one
// more verification ("k/5 verified"). The ack (HTTP response) is timed too.
// Between clicks the outbox is left to drain, so each click is timed alone.
//
// Then the same while the fake Slack answers every chat.postMessage 2 s late
// (failNext delayMs, armed just before each click), to show the ack never
// waits on Slack, and what a slow Slack does to the card.
import { ACTIONS } from '../src/slack/registrations.js';
import type { FakeSlack } from '../test/support/fake-slack.js';
import { blockAction } from '../test/support/slack-requests.js';
import { waitFor } from './support/app.js';
import { SlackPoster } from './support/slack-http.js';
import { ADMIN, BENCH_CHANNEL, type BenchUser, BOT_TOKEN, benchUsers, type SlackConductor, startSlackConductor } from './support/slack-setup.js';
import { ms, type Summary, summarise, table } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const AUTHORS = 5;
/** Trains per phase (each gives AUTHORS clicks); the first train of the first phase only warms up. */
const PHASES = [
  { name: 'Slack answers at once', delayMs: 0, warmupTrains: 1, trains: 4 },
  { name: 'chat.postMessage answers 2 s late', delayMs: 2_000, warmupTrains: 0, trains: 2 },
] as const;
/** Delayed postMessage answers armed before each click (a verify posts 1 thread reply; the last one also a DM and a "ready" reply). */
const DELAYS_PER_CLICK = 3;

interface Round {
  train: number;
  /** 1-based: the k-th verification of the train. */
  k: number;
  ackMs: number;
  cardMs: number;
  /** chat.postMessage calls between the click and the card update. */
  postsBefore: number;
}

interface PhaseResult {
  name: string;
  delayMs: number;
  rounds: Round[];
  ack: Summary;
  card: Summary;
  /** Card latency of the clicks that complete a train's verification (they also trigger the "ready to deploy" DM and reply). */
  cardLast: Summary;
  cardOthers: Summary;
  delayedPosts: number;
  errors: string[];
}

export const slackClick: Benchmark = {
  name: 'slack-click',
  title: 'Slack button click (Verify) → train card updated (chat.update seen by the fake Slack)',
  budgetSeconds: 120,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const authors = benchUsers('dev', AUTHORS);
    ctx.progress('starting the fake Slack and Conductor (Slack on; build and deploy: sleep 2)');
    const c = await startSlackConductor(ctx, { label: 'slack_click', users: authors, build: 'sleep 2', deploy: 'sleep 2' });
    const poster = new SlackPoster(c.app.url);
    try {
      const delays = new DelayArming(c.fake);
      let train = 0;
      const phases: PhaseResult[] = [];
      for (const phase of PHASES) {
        const rounds: Round[] = [];
        const errors: string[] = [];
        const postsAtStart = delays.delayedSoFar();
        const total = phase.warmupTrains + phase.trains;
        for (let i = 0; i < total; i++) {
          if (Date.now() > ctx.deadline - 25_000) {
            errors.push(`stopped early (budget): ${i - phase.warmupTrains} of ${phase.trains} trains`);
            break;
          }
          train++;
          const warm = i < phase.warmupTrains;
          ctx.progress(`${phase.name}: train #${train}${warm ? ' (warm-up)' : ''}, ${AUTHORS} authors press Verify`);
          const card = await trainVerifying(c, train, authors);
          for (let k = 1; k <= AUTHORS; k++) {
            if (phase.delayMs > 0) delays.arm(phase.delayMs, DELAYS_PER_CLICK);
            const r = await click(c, poster, card, train, authors[k - 1]!, k, errors);
            if (!warm) rounds.push(r);
            await c.outboxIdle(30_000);
          }
          await delays.drain(); // no delayed answer left for the deploy and the next train's setup
          const d = await c.api(ADMIN.email, 'deploy');
          if (!d.ok) throw new Error(`deploy of train #${train}: ${d.text}`);
          await waitFor(`train #${train} to be deployed (sleep 2)`, async () => (await c.trainState(train)) === 'deployed', 30_000, 20);
          await c.outboxIdle(30_000);
        }
        const isLast = (r: Round) => r.k === AUTHORS;
        phases.push({
          name: phase.name,
          delayMs: phase.delayMs,
          rounds,
          ack: summarise(rounds.map((r) => r.ackMs)),
          card: summarise(rounds.map((r) => r.cardMs)),
          cardLast: summarise(rounds.filter(isLast).map((r) => r.cardMs)),
          cardOthers: summarise(rounds.filter((r) => !isLast(r)).map((r) => r.cardMs)),
          delayedPosts: delays.delayedSoFar() - postsAtStart,
          errors,
        });
      }
      c.fake.expectNoUnexpectedCalls();
      return report(phases);
    } finally {
      poster.close();
      await c.stop();
    }
  },
};

/** Pushes one commit per author, fetches, and waits until the train is verifying, its card says 0/N verified and the outbox is idle. */
async function trainVerifying(c: SlackConductor, n: number, authors: BenchUser[]): Promise<{ ts: string }> {
  for (const a of authors) await c.repo.push(a, [`Change for train #${n} by ${a.name}`]);
  await c.app.scheduler.fetchNow(c.line);
  await waitFor(`train #${n} to reach verification (after the 2 s build)`, async () => (await c.trainState(n)) === 'verifying', 30_000, 20);
  const card = () => c.fake.messages().find((m) => m.channel === BENCH_CHANNEL && !m.thread_ts && m.text.startsWith(`Train #${n} `));
  await c.fake.waitFor(() => (card()?.text ?? '').includes(`0/${authors.length} verified`), 30_000);
  await c.outboxIdle(30_000);
  return { ts: card()!.ts };
}

async function click(c: SlackConductor, poster: SlackPoster, card: { ts: string }, train: number, author: BenchUser, k: number, errors: string[]): Promise<Round> {
  const from = c.fake.calls.length;
  const responseUrl = c.fake.responseUrl();
  const req = blockAction({
    actionId: ACTIONS.verify,
    value: JSON.stringify({ line: c.line, train }),
    userId: author.id,
    channelId: BENCH_CHANNEL,
    messageTs: card.ts,
    responseUrl,
    buttonText: ':white_check_mark: Verify my changes',
  });
  const t0 = Date.now();
  const r = await poster.post(req);
  if (r.status !== 200) errors.push(`click: HTTP ${r.status}`);
  const want = `${k}/${AUTHORS} verified`;
  let updateAt = 0;
  let postsBefore = 0;
  await waitFor(
    `the card of train #${train} to show ${want}`,
    async () => {
      for (let i = from; i < c.fake.calls.length; i++) {
        const call = c.fake.calls[i]!;
        if (call.method === 'chat.update' && call.args.ts === card.ts && String(call.args.text).includes(want)) {
          updateAt = call.at;
          postsBefore = c.fake.calls.slice(from, i).filter((x) => x.method === 'chat.postMessage').length;
          return true;
        }
      }
      return false;
    },
    30_000,
    1,
  );
  // The person's ephemeral answer, posted to response_url after the ack.
  await c.fake.waitFor(() => c.fake.responses.some((x) => x.url === responseUrl), 30_000).catch(() => errors.push('click: no answer on response_url'));
  const answer = c.fake.responses.find((x) => x.url === responseUrl);
  if (answer && !String(answer.body?.text ?? '').startsWith('Verified')) errors.push(`click: unexpected answer ${String(answer.body?.text).slice(0, 120)}`);
  // `at` is the fake's Date.now() on receipt: millisecond resolution.
  return { train, k, ackMs: r.ms, cardMs: updateAt - t0, postsBefore };
}

/**
 * Keeps `perClick` delayed chat.postMessage answers armed on the fake (its
 * failNext queue has no "clear"), and spends the ones left over with
 * parallel posts to a scratch channel, so they delay nothing else.
 */
class DelayArming {
  private armed = 0;
  private delayMs = 0;

  constructor(private readonly fake: FakeSlack) {}

  delayedSoFar(): number {
    return this.fake.callsTo('chat.postMessage').filter((x) => x.injected?.startsWith('delay') && x.args.channel !== 'C0DRAIN').length;
  }

  private used(): number {
    return this.fake.callsTo('chat.postMessage').filter((x) => x.injected?.startsWith('delay')).length;
  }

  arm(delayMs: number, perClick: number): void {
    this.delayMs = delayMs;
    const left = this.armed - this.used();
    if (left < perClick) {
      this.fake.failNext('chat.postMessage', { delayMs }, perClick - left);
      this.armed += perClick - left;
    }
  }

  async drain(): Promise<void> {
    const left = this.armed - this.used();
    if (left <= 0) return;
    await Promise.all(
      Array.from({ length: left }, () =>
        fetch(`${this.fake.url}chat.postMessage`, {
          method: 'POST',
          headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify({ channel: 'C0DRAIN', text: `spends a delayed answer (${this.delayMs} ms)` }),
        }).then((r) => r.text()),
      ),
    );
  }
}

function report(phases: PhaseResult[]): BenchResult {
  const rows: (string | number)[][] = [['Slack', 'clicks', 'ack p50 ms', 'ack p99 ms', 'ack max ms', 'card p50 ms', 'card p99 ms', 'card max ms']];
  for (const p of phases) rows.push([p.name, p.rounds.length, ms(p.ack.p50), ms(p.ack.p99), ms(p.ack.max), ms(p.card.p50), ms(p.card.p99), ms(p.card.max)]);
  const split: (string | number)[][] = [
    ['Slack', 'card p50: verifications 1-4 of 5', 'card p50: the 5th (train ready)', 'postMessage calls before the card (5th)', 'postMessage answers delayed'],
  ];
  for (const p of phases) {
    const last = p.rounds.filter((r) => r.k === AUTHORS);
    split.push([p.name, ms(p.cardOthers.p50), ms(p.cardLast.p50), last.length ? Math.max(...last.map((r) => r.postsBefore)) : 0, p.delayedPosts]);
  }
  const errors = phases.flatMap((p) => p.errors.map((e) => `${p.name}: ${e}`));
  const text = [
    table(rows),
    '',
    table(split),
    '',
    '  card = click request sent → the fake Slack receives the chat.update of the train card showing the new verification',
    '  (ms resolution). Build and deploy are `sleep 2` shell commands (no Jenkins or Jira adapter exists yet).',
    ...(errors.length ? ['', `  Problems (${errors.length}):`, ...errors.slice(0, 10).map((e) => `    ${e}`)] : []),
  ].join('\n');
  const j = (s: Summary) => ({ n: s.n, p50Ms: ms(s.p50), p99Ms: ms(s.p99), maxMs: ms(s.max) });
  const key = (p: PhaseResult) => (p.delayMs ? `postMessageDelay${p.delayMs}ms` : 'normal');
  return {
    text,
    json: Object.fromEntries(
      phases.map((p) => [
        key(p),
        { clicks: p.rounds.length, ack: j(p.ack), card: j(p.card), cardFirst4: j(p.cardOthers), cardLast: j(p.cardLast), delayedPosts: p.delayedPosts, errors: p.errors.length },
      ]),
    ),
    headline: phases.flatMap((p): [string, number, string][] => {
      const tag = p.delayMs ? ` (postMessage +${p.delayMs / 1000} s)` : '';
      return [
        [`click→card p50${tag}`, ms(p.card.p50), 'ms'],
        [`click→card p99${tag}`, ms(p.card.p99), 'ms'],
        [`click ack p99${tag}`, ms(p.ack.p99), 'ms'],
      ];
    }),
  };
}
