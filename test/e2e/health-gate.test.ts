import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DemoLineApp, startDemoLineApp } from '../support/app-harness.js';
import { type FakePrometheus, startFakePrometheus } from '../support/fake-prometheus.js';
import { signIn } from '../support/web-client.js';

const ADMIN = 'admin@example.com';
const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';
const QUERY = 'sum(rate(http_errors_total[5m]))';

/**
 * behaviour.md §8 end to end: real PostgreSQL, real git, the local runner, a fake Prometheus
 * on 127.0.0.1, and the engine's clock moved by the test (the health watch's timer is slow:
 * each step is one `runDue()` pass at the clock's new time).
 */
describe('end to end: health-gated deploys', () => {
  let prom: FakePrometheus;
  let x: DemoLineApp;
  let offset = 0;
  const clock = () => new Date(Date.now() + offset);

  const start = async (extra: string, check = `{prometheus: "${'$PROM'}", query: "${QUERY}", healthyIf: "< 0.01"}`) => {
    offset = 0;
    x = await startDemoLineApp({
      tmpPrefix: 'conductor-health-',
      app: { clock, healthPollMs: 3_600_000 },
      conductorYml: (r) => `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${r}
    pollSeconds: 3600
    build: { command: "true" }
    deploy: { command: "true" }
    healthCheck: ${check.replace('$PROM', prom.url)}
    intervalSeconds: 30
    soakMinutes: 5
    failuresToTrip: 3
${extra}
`,
    });
  };
  const web = () => x.t.status('web');
  /** Pushes one commit by `author`, and takes its train through build, verification and deploy. */
  const ship = async (author: string, message: string): Promise<number> => {
    const { t, repo } = x;
    const dev = await t.developer(repo);
    await dev.commit(author, message);
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const n = await t.until('a new train verifying', async () => {
      const s = await web();
      return s.train?.state === 'verifying' ? (s.train.number as number) : null;
    });
    expect((await t.api(author, 'verify')).ok).toBe(true);
    const dep = await t.api(author, 'deploy');
    expect(dep.ok, dep.text).toBe(true);
    await t.until(`train #${n} deployed`, async () => (await t.api(ADMIN, `train ${n}`)).text.includes('deployed'));
    await t.until(`train #${n} watched`, async () => (await trainJson(n)).health?.state === 'watching');
    return n;
  };
  const trainJson = async (n: number) => {
    const res = await fetch(`${x.base}/api/lines/web/trains/${n}`);
    return (await res.json()) as { health: { state: string; failures: number } | null; blocked: string | null; number: number };
  };
  const checks = (n: number) =>
    x.t.db.prisma.healthCheck.findMany({ where: { train: { number: n } }, orderBy: { id: 'asc' }, select: { outcome: true, value: true, exitCode: true, message: true } });
  /** Moves the clock by `seconds` and makes one pass of the health watch. */
  const step = async (seconds: number) => {
    offset += seconds * 1000;
    await x.t.app.health.runDue();
  };
  const said = () => x.t.app.chat.messages.map((m: { text: string }) => m.text).join('\n');
  /** Chat messages go out through the outbox, after the decision: wait for one. */
  const saysSoon = (text: string) => x.t.until(`Conductor says "${text}"`, async () => said().includes(text));

  beforeAll(async () => {
    prom = await startFakePrometheus();
  });
  afterEach(async () => {
    await x?.t.stop();
    await prom.up().catch(() => undefined);
    prom.set(0);
  });
  afterAll(async () => {
    await prom?.stop();
  });

  it('a healthy soak ends healthy; every result is stored', async () => {
    await start('');
    const n = await ship(CAROL, 'Carol adds search');
    prom.set(0.001);
    await step(0);
    await step(30);
    await step(30);
    expect(await checks(n)).toEqual([
      { outcome: 'healthy', value: 0.001, exitCode: null, message: 'value 0.001 (healthy if < 0.01)' },
      { outcome: 'healthy', value: 0.001, exitCode: null, message: 'value 0.001 (healthy if < 0.01)' },
      { outcome: 'healthy', value: 0.001, exitCode: null, message: 'value 0.001 (healthy if < 0.01)' },
    ]);
    expect(prom.queries.at(-1)).toBe(QUERY);
    // Not due yet: a pass before the interval runs nothing.
    await step(10);
    expect(await checks(n)).toHaveLength(3);
    expect((await trainJson(n)).health).toEqual({ state: 'watching', failures: 0 });
    const me = await signIn(x.base, 'watcher@example.com');
    expect(await me.html('/lines/web')).toContain('data-health="watching"');
    await step(5 * 60);
    expect((await trainJson(n)).health).toEqual({ state: 'healthy', failures: 0 });
    // The Prisma models match the hand-written migration (every column is read).
    expect(await x.t.db.prisma.train.findFirst({ where: { number: n } })).toMatchObject({ healthState: 'healthy', healthFailures: 0, healthLast: 'healthy' });
    expect(await x.t.db.prisma.line.findFirst({ where: { name: 'web' } })).toMatchObject({ healthBlock: null });
    await saysSoon(`Train #${n} passed its health checks: no trip in 5 minutes.`);
    await step(30);
    expect(await checks(n)).toHaveLength(3);
  }, 90_000);

  it('a restart resumes the watch from the stored results', async () => {
    await start('');
    const n = await ship(CAROL, 'Carol ships before a restart');
    prom.set(0.5);
    await step(0);
    await x.t.restart();
    await step(10);
    expect(await checks(n)).toHaveLength(1); // the next check is due 30 s after the stored one, not at start
    await step(20);
    await step(30);
    expect((await checks(n)).map((c) => c.outcome)).toEqual(['failed', 'failed', 'failed']);
    expect((await trainJson(n)).health).toEqual({ state: 'failed', failures: 3 });
  }, 90_000);

  it('three failures in a row block the line; the next train is blocked too; unblock clears', async () => {
    await start('');
    const n = await ship(CAROL, 'Carol breaks the error rate');
    prom.set(0.2);
    await step(0);
    await step(30);
    expect((await trainJson(n)).health).toEqual({ state: 'watching', failures: 2 });
    // A second train goes on meanwhile: the watched train does not hold it.
    const dev = await x.t.developer(x.repo);
    await dev.commit(DAVE, 'Dave fixes the copy');
    await dev.push();
    await x.t.app.scheduler.fetchNow('web');
    await x.t.until('train 2 verifying', async () => (await web()).train?.state === 'verifying');
    await step(30);
    const reason = `health check failed on train #${n}: value 0.2 (healthy if < 0.01)`;
    expect((await trainJson(n)).health).toEqual({ state: 'failed', failures: 3 });
    expect((await web()).train).toMatchObject({ number: n + 1, blocked: reason, deployable: false });
    // The line itself carries the block (new trains get it), in the status JSON, `status` and on the line page.
    expect((await web()).healthBlock).toBe(reason);
    expect((await x.t.api(DAVE, 'status')).text).toContain(`New trains are blocked: ${reason}.`);
    expect((await x.t.api(DAVE, 'verify')).ok).toBe(true);
    expect((await x.t.api(DAVE, 'deploy')).text).toContain(reason);
    await saysSoon(`${reason}. 3 failures in a row. The line is blocked`);
    // The insights count the tripped gate as a change failure of that train.
    const insights = (await (await fetch(`${x.base}/api/lines/web/insights?days=7`)).json()) as { changeFailureRate: number; failures: { train: number; signal: string }[] };
    expect(insights.failures).toContainEqual(expect.objectContaining({ train: n, signal: 'health' }));
    expect(insights.changeFailureRate).toBeGreaterThan(0);
    // The train page shows the watch and its results.
    const page = await (await signIn(x.base, 'watcher@example.com')).html(`/lines/web/trains/${n}`);
    expect(page).toContain('data-health="failed"');
    expect(page).toContain('3 failures in a row.');
    expect(page.match(/<tr data-outcome="failed">/g)).toHaveLength(3);
    expect(page).toContain('value 0.2 (healthy if &lt; 0.01)');
    // A train created after the trip is blocked too.
    expect((await x.t.api(ADMIN, 'derail')).ok).toBe(true);
    await x.t.until('train 3 created', async () => (await web()).train?.number === n + 2);
    expect((await web()).train.blocked).toBe(reason);
    const linePage = await (await signIn(x.base, 'watcher@example.com')).html('/lines/web');
    expect(linePage).toContain('data-testid="health-block"');
    expect(linePage).toContain('value 0.2 (healthy if &lt; 0.01)');
    expect((await x.t.api(ADMIN, 'unblock')).ok).toBe(true);
    expect((await web()).train.blocked).toBeNull();
    expect((await web()).healthBlock).toBeNull();
    expect((await x.t.api(ADMIN, 'derail')).ok).toBe(true);
    await x.t.until('train 4 created', async () => (await web()).train?.number === n + 3);
    expect((await web()).train.blocked).toBeNull();
  }, 90_000);

  it('a flapping signal never trips', async () => {
    await start('');
    const n = await ship(CAROL, 'Carol flaps');
    for (const v of [0.5, 0.5, 0, 0.5, 0.5, 0, 0.5, 0.5]) {
      prom.set(v);
      await step(30);
    }
    expect((await checks(n)).map((c) => c.outcome)).toEqual(['failed', 'failed', 'healthy', 'failed', 'failed', 'healthy', 'failed', 'failed']);
    expect((await trainJson(n)).health).toEqual({ state: 'watching', failures: 2 });
    expect((await web()).lastDeployed).toMatchObject({ number: n });
  }, 90_000);

  it('a Prometheus outage is unknown, said once, and never trips', async () => {
    await start('');
    const n = await ship(CAROL, 'Carol ships during an outage');
    await prom.down();
    for (let i = 0; i < 4; i++) await step(30);
    prom.set({ status: 400, body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }) });
    await prom.up();
    await step(30);
    const rows = await checks(n);
    expect(rows.map((c) => c.outcome)).toEqual(['unknown', 'unknown', 'unknown', 'unknown', 'unknown']);
    expect(rows[0]!.message).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer: /);
    expect(rows[3]!.message).toContain('did not answer: ECONNREFUSED');
    expect(rows[4]!.message).toContain('refused the query (HTTP 400: parse error)');
    expect((await trainJson(n)).health).toEqual({ state: 'watching', failures: 0 });
    await saysSoon('could not run');
    await x.t.until('the outbox is empty', async () => (await x.t.db.prisma.outboxItem.count({ where: { doneAt: null } })) === 0);
    expect(said().match(/could not run/g)).toHaveLength(1);
    await step(5 * 60);
    expect((await trainJson(n)).health).toEqual({ state: 'healthy', failures: 0 });
  }, 90_000);

  it('autoRollback starts a rollback to the previous deployed train', async () => {
    await start('    autoRollback: true');
    prom.set(0);
    const first = await ship(CAROL, 'Carol ships a good one');
    await step(0);
    await step(5 * 60 + 1);
    expect((await trainJson(first)).health?.state).toBe('healthy');
    const second = await ship(DAVE, 'Dave ships a bad one');
    prom.set(1);
    await step(0);
    await step(30);
    await step(30);
    expect((await trainJson(second)).health).toEqual({ state: 'failed', failures: 3 });
    const job = await x.t.db.prisma.job.findFirst({ where: { kind: 'rollback', train: { number: first } } });
    expect(job).toMatchObject({ requestedBy: 'conductor' });
    await x.t.until('production rolled back', async () => (await web()).lastDeployed?.number === first);
    await saysSoon(`Rolling back to train #${first} automatically.`);
  }, 120_000);

  it('a command check: exit 1 is a failure with its exit code', async () => {
    await start('', `{command: "echo '<img src=x onerror=alert(1)>' checking $TRAIN; exit 1"}`);
    const n = await ship(CAROL, 'Carol ships');
    await step(0);
    expect(await checks(n)).toEqual([{ outcome: 'failed', value: null, exitCode: 1, message: `exit code 1: <img src=x onerror=alert(1)> checking ${n}` }]);
    expect((await trainJson(n)).health).toEqual({ state: 'watching', failures: 1 });
    const page = await (await signIn(x.base, 'watcher@example.com')).html(`/lines/web/trains/${n}`);
    expect(page).toContain('data-health="watching"');
    expect(page).toContain('exit 1');
    expect(page).toContain(`exit code 1: &lt;img src=x onerror=alert(1)> checking ${n}`);
    expect(page).not.toContain('<img src=x');
  }, 90_000);
});
