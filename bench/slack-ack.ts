// Slash-command ack latency: signed `/conductor status` and `/conductor
// verify` (a refusal: the sender owes no verification) POSTed to Conductor's
// /slack/events, side by side in the same process with a bare Bolt app whose
// handler only acks (same signing secret, its own HTTPReceiver: it still
// verifies signatures and parses). Time = request written → HTTP response read,
// i.e. the ack Slack waits for (3 s at most).
//
// The line: a train of two authors waiting for verification and three commits
// on the platform. Build and deploy are `sleep 2` shell commands standing in for
// a slow Jenkins (no Jenkins or Jira adapter exists yet); the ack paths measured
// make no Jenkins, Jira or Slack Web API call. Senders are known users (their
// email is already in the slack_user cache), so Conductor answers inside the ack.
//
// Each level runs bare, Conductor, Conductor, bare (half the requests each), so
// a drift of the machine over the level weighs on both apps alike.
import { SLASH_COMMAND } from '../src/slack/registrations.js';
import { resign, slashCommand } from '../test/support/slack-requests.js';
import { waitFor } from './support/app.js';
import { closedLoop, type Outcome, SlackPoster } from './support/slack-http.js';
import { processProbe, type SessionUse, sessionProbe } from './support/slack-probe.js';
import { type BareBolt, BENCH_CHANNEL, benchUsers, type SlackConductor, startBareBolt, startSlackConductor } from './support/slack-setup.js';
import { ms, type Summary, summarise, table } from './support/stats.js';
import type { BenchContext, Benchmark, BenchResult } from './support/types.js';

const LEVELS = [
  { clients: 1, requests: 300 },
  { clients: 20, requests: 800 },
  { clients: 100, requests: 1_500 },
];
/** Per app and level: stop early after this long. */
const LEVEL_SECONDS = 20;
const WARMUP = 300;
const SLACK_LIMIT_MS = 3_000;
const TARGET_RATIO = 1.5;
const SENDERS = 20;

type Kind = 'status' | 'verify (refused)';
type Target = 'bare' | 'conductor';

interface AppLevel {
  requests: number;
  errors: number;
  seconds: number;
  all: Summary;
  byKind: Record<Kind, Summary>;
  /** This process's event loop busy share, and its CPU per request (client + server, both in this process). */
  elu: number;
  cpuMsPerRequest: number;
  /** Conductor only: its PostgreSQL sessions while it ran. */
  sessions?: SessionUse;
}

interface LevelResult {
  clients: number;
  bare: AppLevel;
  conductor: AppLevel;
  ratio: number;
}

export const slackAck: Benchmark = {
  name: 'slack-ack',
  title: 'Slack slash-command ack latency: Conductor vs a bare Bolt app that only acks',
  budgetSeconds: 90,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const alice = { id: 'U0ALICE', email: 'alice@example.com', name: 'Alice' };
    const bob = { id: 'U0BOB', email: 'bob@example.com', name: 'Bob' };
    const senders = benchUsers('ack', SENDERS);
    ctx.progress('starting the fake Slack, Conductor (Slack on) and a bare Bolt app');
    const c = await startSlackConductor(ctx, { label: 'slack_ack', users: [alice, bob, ...senders], build: 'sleep 2', deploy: 'sleep 2' });
    let bare: BareBolt | undefined;
    const posters: SlackPoster[] = [];
    const pgProbe = await sessionProbe(c.db.url);
    try {
      bare = await startBareBolt(c.fake.url);
      await scene(c, alice, bob);
      const to: Record<Target, SlackPoster> = { bare: new SlackPoster(bare.url), conductor: new SlackPoster(c.app.url) };
      posters.push(to.bare, to.conductor);

      // Every sender's email in Conductor's cache: the first command of an unknown user acks
      // empty and asks Slack (users.info) after the ack.
      ctx.progress(`${SENDERS} users: one command each, so Conductor knows them`);
      await Promise.all(senders.map((u) => to.conductor.post(slashCommand({ text: 'status', userId: u.id, channelId: BENCH_CHANNEL, responseUrl: c.fake.responseUrl() }))));
      const directory = c.app.slack!.directory;
      await waitFor('the bench users to be cached', async () => (await Promise.all(senders.map((u) => directory.cachedEmail(u.id)))).every(Boolean), 15_000, 20);

      const call =
        (target: Target) =>
        async (i: number): Promise<Outcome<Kind>> => {
          const kind: Kind = i % 2 === 0 ? 'status' : 'verify (refused)';
          const user = senders[Math.floor(i / 2) % senders.length]!;
          const req = slashCommand({ text: kind === 'status' ? 'status' : 'verify', userId: user.id, channelId: BENCH_CHANNEL, responseUrl: c.fake.responseUrl(), command: SLASH_COMMAND });
          const r = await to[target].post(req);
          return { kind, ms: r.ms, error: check(target, kind, r.status, r.body) };
        };

      // Both check signatures: a wrongly signed request is refused (401) by each.
      ctx.progress('one wrongly signed request to each app (Conductor logs a "signature mismatch" warning: expected)');
      for (const t of ['bare', 'conductor'] as const) {
        const forged = resign(slashCommand({ text: 'status', userId: senders[0]!.id, channelId: BENCH_CHANNEL, responseUrl: c.fake.responseUrl() }), { secret: 'not-the-secret' });
        const r = await to[t].post(forged);
        if (r.status !== 401) throw new Error(`${t}: a wrongly signed request got HTTP ${r.status}, expected 401`);
      }

      // At the highest concurrency, so that every keep-alive connection is open before measuring
      // (opening 80 connections at once costs some of them ~200 ms: not what is measured here).
      const most = Math.max(...LEVELS.map((l) => l.clients));
      ctx.progress(`warm-up: ${WARMUP} requests to each app, ${most} concurrent`);
      for (const t of ['bare', 'conductor'] as const) await closedLoop(call(t), most, WARMUP, Date.now() + 20_000);
      const answeredLate = c.fake.responses.length;

      const levels: LevelResult[] = [];
      const errorSamples: string[] = [];
      for (const level of LEVELS) {
        ctx.progress(`${level.clients} concurrent: ${level.requests} requests to each app (bare, Conductor, Conductor, bare)`);
        const fresh = () => ({ samples: [] as Outcome<Kind>[], errors: 0, seconds: 0, busyMs: 0, cpuMs: 0 });
        const got: Record<Target, ReturnType<typeof fresh>> = { bare: fresh(), conductor: fresh() };
        for (const t of ['bare', 'conductor', 'conductor', 'bare'] as const) {
          const until = Math.min(ctx.deadline - 5_000, Date.now() + (LEVEL_SECONDS * 1000) / 2);
          pgProbe.sampling = t === 'conductor';
          const probe = processProbe();
          const r = await closedLoop(call(t), level.clients, Math.ceil(level.requests / 2), until);
          const use = probe.stop();
          pgProbe.sampling = false;
          got[t].samples.push(...r.samples);
          got[t].errors += r.errors.length;
          got[t].seconds += r.seconds;
          got[t].busyMs += use.elu * use.wallMs;
          got[t].cpuMs += use.cpuMs;
          errorSamples.push(...r.errors.slice(0, 3).map((e) => `${t} @${level.clients}: ${e}`));
        }
        const sessions = pgProbe.take();
        const summaryOf = (t: Target): AppLevel => ({
          requests: got[t].samples.length,
          errors: got[t].errors,
          seconds: got[t].seconds,
          all: summarise(got[t].samples.map((s) => s.ms)),
          byKind: {
            status: summarise(got[t].samples.filter((s) => s.kind === 'status').map((s) => s.ms)),
            'verify (refused)': summarise(got[t].samples.filter((s) => s.kind === 'verify (refused)').map((s) => s.ms)),
          },
          elu: got[t].busyMs / (got[t].seconds * 1000),
          cpuMsPerRequest: got[t].cpuMs / Math.max(1, got[t].samples.length),
          ...(t === 'conductor' ? { sessions } : {}),
        });
        const b = summaryOf('bare');
        const k = summaryOf('conductor');
        levels.push({ clients: level.clients, bare: b, conductor: k, ratio: k.all.p99 / b.all.p99 });
      }
      const late = c.fake.responses.length - answeredLate;
      if (errorSamples.length) ctx.log.warn({ first: errorSamples.slice(0, 6) }, 'unexpected answers');
      c.fake.expectNoUnexpectedCalls();

      return report(levels, late);
    } finally {
      await pgProbe.close();
      for (const p of posters) p.close();
      await bare?.stop();
      await c.stop();
    }
  },
};

/** A train of Alice and Bob waiting for verification (delivered by the `sleep 2` build), three commits behind it. */
async function scene(c: SlackConductor, alice: { name: string; email: string }, bob: { name: string; email: string }): Promise<void> {
  await c.repo.push(alice, ['Add the login page']);
  await c.repo.push(bob, ['Fix the footer']);
  await c.app.scheduler.fetchNow(c.line);
  await waitFor('train #1 to reach verification (after the 2 s build)', async () => (await c.trainState(1)) === 'verifying', 30_000, 20);
  await c.repo.push(alice, ['Tweak the login copy', 'Add a test']);
  await c.repo.push(bob, ['Bump a dependency']);
  await c.app.scheduler.fetchNow(c.line);
  const platform = await c.db.prisma.commit.count({ where: { state: 'platform' } });
  if (platform !== 3) throw new Error(`expected 3 commits on the platform, found ${platform}`);
  await c.outboxIdle();
}

function check(target: Target, kind: Kind, status: number, body: string): string | undefined {
  if (status !== 200) return `HTTP ${status}`;
  if (target === 'bare') return undefined;
  let json: { response_type?: string; text?: string } | undefined;
  try {
    json = body ? (JSON.parse(body) as typeof json) : undefined;
  } catch {
    return `not JSON: ${body.slice(0, 80)}`;
  }
  // Conductor acks first (empty) and answers through response_url: that is the design, not an error.
  if (!json) return undefined;
  if (!json.text) return `${kind}: an ack body without text`;
  if (json.response_type !== 'ephemeral') return `${kind}: not ephemeral`;
  if (kind === 'verify (refused)' && !json.text.includes('no verification owed')) return `verify: unexpected answer ${json.text.slice(0, 120)}`;
  if (kind === 'status' && !json.text.includes('#1')) return `status: unexpected answer ${json.text.slice(0, 120)}`;
  return undefined;
}

function report(levels: LevelResult[], late: number): BenchResult {
  const yes = (b: boolean) => (b ? 'yes' : 'NO');
  const rows: (string | number)[][] = [['concurrent', 'app', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'max ms']];
  for (const l of levels) {
    for (const [name, a] of [
      ['bare Bolt (ack only)', l.bare],
      ['Conductor', l.conductor],
    ] as const)
      rows.push([String(l.clients), name, a.requests, a.errors, Math.round(a.requests / a.seconds), ms(a.all.p50), ms(a.all.p99), ms(a.all.max)]);
  }
  const cmp: (string | number)[][] = [['concurrent', 'bare p99 ms', 'Conductor p99 ms', 'p99 ratio', `≤ ${TARGET_RATIO}×`, 'Conductor max < 3 s']];
  for (const l of levels)
    cmp.push([String(l.clients), ms(l.bare.all.p99), ms(l.conductor.all.p99), Math.round(l.ratio * 100) / 100, yes(l.ratio <= TARGET_RATIO), yes(l.conductor.all.max < SLACK_LIMIT_MS)]);
  const kinds: Kind[] = ['status', 'verify (refused)'];
  const byKind: (string | number)[][] = [['Conductor command', ...levels.flatMap((l) => [`p50 @${l.clients}`, `p99 @${l.clients}`])]];
  for (const k of kinds) byKind.push([k, ...levels.flatMap((l) => [ms(l.conductor.byKind[k].p50), ms(l.conductor.byKind[k].p99)])]);
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  const one = (v: number) => Math.round(v * 10) / 10;
  const where: (string | number)[][] = [['concurrent', 'app', 'event loop busy', 'CPU ms/request', 'PG sessions busy (max)', 'waiting on a lock', 'idle in transaction']];
  for (const l of levels) {
    where.push([String(l.clients), 'bare Bolt', pct(l.bare.elu), one(l.bare.cpuMsPerRequest), '', '', '']);
    const s = l.conductor.sessions;
    where.push([
      String(l.clients),
      'Conductor',
      pct(l.conductor.elu),
      one(l.conductor.cpuMsPerRequest),
      s ? `${one(s.busy)} (${s.maxBusy})` : '',
      s ? one(s.lockWait) : '',
      s ? one(s.idleInTx) : '',
    ]);
  }
  const text = [
    table(rows),
    '',
    table(cmp),
    '',
    '  Conductor by command (ms):',
    table(byKind),
    '',
    '  Where the time goes (this process runs the client, both apps and the fake Slack; PostgreSQL is another process;',
    "  Conductor's pool has 20 connections; sessions sampled from pg_stat_activity every 25 ms):",
    table(where),
    '',
    `  Answers that missed the ack and went to response_url instead: ${late}.`,
    '  Jenkins and Jira adapters do not exist yet: build and deploy are `sleep 2` shell commands standing in',
    '  for a slow Jenkins, tickets are built in. Neither ack path measured calls Jenkins, Jira or the Slack Web API.',
  ].join('\n');
  const app = (a: AppLevel) => ({
    eventLoopBusy: Math.round(a.elu * 100) / 100,
    cpuMsPerRequest: one(a.cpuMsPerRequest),
    ...(a.sessions ? { pgSessions: { busy: one(a.sessions.busy), maxBusy: a.sessions.maxBusy, lockWait: one(a.sessions.lockWait), idleInTx: one(a.sessions.idleInTx) } } : {}),
    requests: a.requests,
    errors: a.errors,
    p50Ms: ms(a.all.p50),
    p99Ms: ms(a.all.p99),
    maxMs: ms(a.all.max),
    byCommand: Object.fromEntries(kinds.map((k) => [k, { p50Ms: ms(a.byKind[k].p50), p99Ms: ms(a.byKind[k].p99) }])),
  });
  return {
    text,
    json: {
      ...Object.fromEntries(
        levels.map((l) => [`c${l.clients}`, { bare: app(l.bare), conductor: app(l.conductor), p99Ratio: Math.round(l.ratio * 100) / 100, withinTarget: l.ratio <= TARGET_RATIO }]),
      ),
      answeredOnResponseUrl: late,
    },
    headline: levels.flatMap((l): [string, number, string][] => [
      [`slack ack p99 @${l.clients}: Conductor`, ms(l.conductor.all.p99), 'ms'],
      [`slack ack p99 @${l.clients}: bare Bolt`, ms(l.bare.all.p99), 'ms'],
      [`slack ack p99 ratio @${l.clients} (target ≤ ${TARGET_RATIO})`, Math.round(l.ratio * 100) / 100, '×'],
    ]),
  };
}
