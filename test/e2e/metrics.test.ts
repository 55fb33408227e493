import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoLineApp, startDemoLineApp } from '../support/app-harness.js';
import { type PromText, parsePromText } from '../support/prom-text.js';

const ADMIN = 'admin@example.com';
const CAROL = 'carol@example.com';

const yml = (repo: string) => `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${repo}
    pollSeconds: 3600
    build: { command: "sleep 1" }
    deploy: { command: "sleep 1" }
`;

/** Every metric name GET /metrics had before prom-client (SPEC §5: names may only be added). */
const OLD_NAMES = [
  'conductor_http_requests_total',
  'conductor_http_request_duration_seconds',
  'conductor_live_trains',
  'conductor_platform_commits',
  'conductor_outbox_pending',
  'conductor_web_event_streams',
  'process_resident_memory_bytes',
];

/** The metrics of one app, read by the strict parser (it throws on any line Prometheus would refuse). */
async function scrape(app: DemoLineApp): Promise<PromText> {
  const res = await fetch(`${app.base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePromText(await res.text());
}

interface Panel {
  title: string;
  datasource: { type: string; uid: string };
  targets: { expr: string; datasource: { uid: string } }[];
}

/** The metric names in the dashboard's queries, after checking its shape: a Prometheus datasource variable every query uses, the panels the README lists. */
function dashboardMetricNames(): Set<string> {
  const dash = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
    templating: { list: { name: string; type: string; query: unknown }[] };
    panels: Panel[];
  };
  expect(dash.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
  const titles = dash.panels.map((p) => p.title).join(' | ');
  for (const want of [/Deploys per day/, /Lead time.*p50.*p90/, /Derails/, /Job durations/, /oldest/, /side effects waiting/, /HTTP p99/, /streams/]) expect(titles).toMatch(want);
  const names = new Set<string>();
  for (const panel of dash.panels) {
    expect(panel.datasource.uid).toBe('${datasource}');
    for (const target of panel.targets) {
      expect(target.datasource.uid).toBe('${datasource}');
      let depth = 0;
      for (const c of target.expr) {
        depth += '({['.includes(c) ? 1 : ')}]'.includes(c) ? -1 : 0;
        expect(depth, target.expr).toBeGreaterThanOrEqual(0);
      }
      expect(depth, target.expr).toBe(0);
      for (const m of target.expr.matchAll(/\b(conductor_\w+|process_\w+|nodejs_\w+)/g)) names.add(m[1]!);
    }
  }
  expect(names.size).toBeGreaterThan(5);
  return names;
}

/** The gauges read from the database, as one comparable value. */
function databaseGauges(p: PromText) {
  return ['conductor_live_trains', 'conductor_platform_commits', 'conductor_outbox_pending'].map((n) => p.samples(n));
}

/**
 * GET /metrics end to end: a real deploy through the engine (real PostgreSQL, real git,
 * the local runner) counted in the process that took the decisions; a second process on
 * the same database counts only its own, and reports the same database gauges.
 */
describe('end to end: /metrics with prom-client', () => {
  let a: DemoLineApp;
  let b: DemoLineApp | undefined;
  beforeAll(async () => {
    a = await startDemoLineApp({ tmpPrefix: 'conductor-metrics-', conductorYml: yml });
  }, 60_000);
  afterAll(async () => {
    await b?.t.stop();
    await a?.t.stop();
  });

  it('a deploy of two commits: one deploy succeeded, two lead times, the jobs timed; old names kept, each family once', async () => {
    const { t } = a;
    const dev = await t.developer(a.repo);
    await dev.commit(CAROL, 'First change');
    await dev.commit(CAROL, 'Second change');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    await t.until('verifying', async () => (await t.status('web')).train?.state === 'verifying');
    expect((await t.api(CAROL, 'verify')).ok).toBe(true);
    expect((await t.api(CAROL, 'deploy')).ok).toBe(true);
    await t.until('deployed', async () => (await t.status('web')).lastDeployed?.number === 1);

    const p = await scrape(a);
    for (const name of OLD_NAMES) expect(p.families.has(name), name).toBe(true);
    expect(p.families.get('conductor_http_request_duration_seconds')!.type).toBe('histogram');
    expect(p.samples('process_resident_memory_bytes')).toHaveLength(1);
    expect(p.value('conductor_deploys_total', { line: 'web', kind: 'deploy', result: 'succeeded' })).toBe(1);
    expect(p.value('conductor_deploys_total', { line: 'web', kind: 'deploy', result: 'failed' })).toBe(0);
    expect(p.value('conductor_lead_time_seconds_count', { line: 'web' })).toBe(2);
    expect(p.value('conductor_lead_time_seconds_sum', { line: 'web' })).toBeGreaterThan(1); // at least the build and the deploy's second each
    expect(p.value('conductor_job_duration_seconds_count', { kind: 'build', result: 'succeeded' })).toBe(1);
    expect(p.value('conductor_job_duration_seconds_count', { kind: 'deploy', result: 'succeeded' })).toBe(1);
    expect(p.value('conductor_job_duration_seconds_sum', { kind: 'deploy', result: 'succeeded' })).toBeGreaterThanOrEqual(0.9);
    expect(p.value('conductor_derails_total', { line: 'web' })).toBe(0);
    expect(p.value('conductor_platform_commits', { line: 'web' })).toBe(0);
    // verify and deploy; counted when the answer is handed to the socket, which may trail the client reading it.
    await t.until('the two commands counted', async () => (await scrape(a)).sum('conductor_http_requests_total', { route: '/api/command', status: '200' }) === 2);
    // The same numbers the database tells (the counters are not guesses).
    expect(await t.db.prisma.job.count({ where: { kind: 'deploy', state: 'succeeded' } })).toBe(1);

    // docs/grafana-dashboard.json asks only for series this app serves.
    for (const name of dashboardMetricNames()) expect(p.familyOf(name), `the dashboard's ${name}`).toBeDefined();
  }, 90_000);

  it('two processes on one database: each counts its own decisions; the database gauges agree; the oldest pending effect is aged', async () => {
    b = await startDemoLineApp({ tmpPrefix: 'conductor-metrics-b-', conductorYml: yml, shareWith: a });
    const { t } = a;
    expect((await b.t.api(ADMIN, 'mode manual')).ok).toBe(true);
    const dev = await t.developer(a.repo);
    await dev.commit(CAROL, 'Third change');
    await dev.push();
    await b.t.app.scheduler.fetchNow('web');
    await t.until('platform holds the commit', async () => (await t.status('web')).platform?.length === 1);
    expect((await b.t.api(ADMIN, 'start')).ok).toBe(true);
    expect((await b.t.api(ADMIN, 'derail testing the metrics')).ok).toBe(true);
    // Wait until every side effect is delivered, so that nothing moves between the two scrapes.
    await t.until('outbox drained', async () => (await t.db.prisma.outboxItem.count({ where: { doneAt: null } })) === 0);
    await t.until('no job running', async () => (await t.db.prisma.job.count({ where: { state: { in: ['queued', 'running'] } } })) === 0);

    const [pa, pb] = [await scrape(a), await scrape(b)];
    expect(pb.value('conductor_derails_total', { line: 'web' })).toBe(1);
    expect(pa.value('conductor_derails_total', { line: 'web' })).toBe(0);
    expect(pb.value('conductor_deploys_total', { line: 'web', kind: 'deploy', result: 'succeeded' })).toBe(0);
    expect(pa.value('conductor_deploys_total', { line: 'web', kind: 'deploy', result: 'succeeded' })).toBe(1);
    expect(pb.value('conductor_lead_time_seconds_count', { line: 'web' })).toBeUndefined();
    expect(databaseGauges(pa)).toEqual(databaseGauges(pb));
    expect(pa.value('conductor_platform_commits', { line: 'web' })).toBe(1);
    expect(pa.samples('conductor_live_trains')).toEqual([]);
    expect(pa.value('conductor_outbox_oldest_pending_seconds')).toBe(0);

    // A side effect waiting (due tomorrow, so no worker takes it), written 90 seconds ago.
    await t.db.pool.query(
      `INSERT INTO outbox_item (kind, payload, idempotency_key, next_attempt_at, created_at)
       VALUES ('chat.announce', '{}', 'metrics-test-waiting', now() + interval '1 day', now() - interval '90 seconds')`,
    );
    const [qa, qb] = [await scrape(a), await scrape(b)];
    expect(qa.value('conductor_outbox_pending')).toBe(1);
    expect(qb.value('conductor_outbox_pending')).toBe(1);
    for (const q of [qa, qb]) {
      expect(q.value('conductor_outbox_oldest_pending_seconds')).toBeGreaterThanOrEqual(90);
      expect(q.value('conductor_outbox_oldest_pending_seconds')).toBeLessThan(600);
    }
  }, 90_000);
});
