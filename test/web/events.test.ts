import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DemoLineApp, startDemoLineApp } from '../support/app-harness.js';
import { openEvents, type SseStream } from '../support/sse-client.js';
import { signIn, type WebClient } from '../support/web-client.js';

const ADMIN = 'admin@example.com';
const CAROL = 'carol@example.com';
const yml = (repo: string) => `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${repo}
    pollSeconds: 1
    build: { command: "true" }
    deploy: { command: "true" }
`;
const LIVE = { heartbeatMs: 300, replayEvents: 3 };
// Both processes seal sessions with the same secret, as a deployment behind a load balancer does.
const env = { CONDUCTOR_SESSION_SECRET: 'live-updates-test-secret-of-at-least-32-characters' };

/** GET /events (docs/behaviour.md §7): live updates from PostgreSQL LISTEN/NOTIFY, across processes. */
describe('live updates: GET /events', () => {
  let one: DemoLineApp;
  let two: DemoLineApp;
  let me: WebClient;
  const streams: SseStream[] = [];
  const open = async (base: string, headers: Record<string, string> = {}) => {
    const s = await openEvents(base, { cookie: me.cookie, ...headers });
    streams.push(s);
    return s;
  };
  let mode = 0;
  /** An accepted command that changes the line (its mode), through the app at `base`. */
  const change = async (base: string) => {
    mode++;
    const res = await fetch(`${base}/api/command`, {
      method: 'POST',
      body: JSON.stringify({ user: ADMIN, line: 'web', text: mode % 2 ? `mode manual test ${mode}` : 'mode schedule' }),
    });
    const reply = (await res.json()) as { ok: boolean; text: string };
    expect(reply.ok, reply.text).toBe(true);
    return performance.now();
  };
  const isChange =
    (after: number, line = 'web') =>
    (m: { type: string; event?: string; data?: string; at: number }) =>
      m.type === 'event' && m.event === 'change' && m.at >= after && JSON.parse(m.data ?? '{}').line === line;

  /** Waits until the line is quiet: no job queued or running (a build finishing moves the train on), then no change for 700 ms. */
  const settle = async () => {
    await one.t.until('no job in flight', async () => {
      const { train } = await one.t.status('web');
      return !train || train.jobs.every((j: { state: string }) => j.state !== 'queued' && j.state !== 'running');
    });
    const s = await open(one.base);
    let last = performance.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const newest = s.messages.filter((m) => m.type === 'event').at(-1);
      if (newest) last = Math.max(last, newest.at);
      if (performance.now() - last > 700) break;
    }
    s.close();
  };

  beforeAll(async () => {
    one = await startDemoLineApp({ tmpPrefix: 'conductor-live-', conductorYml: yml, env, app: { live: LIVE } });
    two = await startDemoLineApp({ tmpPrefix: 'conductor-live-', conductorYml: yml, env, app: { live: LIVE }, shareWith: one });
    me = await signIn(one.base, 'alice@example.com');
  }, 60_000);
  afterAll(async () => {
    for (const s of streams) s.close();
    await two?.t.stop();
    await one?.t.stop();
  });

  test('only for signed-in people: 401 without a session', async () => {
    const anon = await openEvents(one.base);
    expect(anon.status).toBe(401);
    const forged = await openEvents(one.base, { cookie: 'conductor_session=Fe26.2**forged' });
    expect(forged.status).toBe(401);
  });

  test('an event stream that is never buffered, with a retry hint', async () => {
    const s = await open(one.base);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(s.headers['x-accel-buffering']).toBe('no');
    expect(s.headers['content-encoding']).toBeUndefined();
    const retry = await s.next((m) => m.type === 'retry');
    expect(retry.retry).toBeGreaterThan(0);
    const metrics = await (await fetch(`${one.base}/metrics`)).text();
    expect(Number(/^conductor_web_event_streams (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });

  test('a command on the line reaches an open page within 1 s', async () => {
    const s = await open(one.base);
    const at = await change(one.base);
    const e = await s.next(isChange(at - 1_000), 1_000);
    expect(e.at - at).toBeLessThan(1_000);
    expect(Number(e.id)).toBeGreaterThan(0);
  });

  test('a push on the line becomes a change event', async () => {
    const s = await open(one.base);
    const dev = await one.t.developer(one.repo);
    await dev.commit(CAROL, 'Add <img src=x onerror=alert(1)>');
    const pushed = performance.now();
    await dev.push();
    await s.next(isChange(pushed), 10_000);
  });

  test('a change made through another Conductor process reaches pages connected to this one', async () => {
    const here = await open(one.base);
    const there = await open(two.base); // the session cookie is valid on every process
    expect(there.status).toBe(200);
    const at = await change(two.base);
    const a = await here.next(isChange(at - 1_000), 1_000);
    const b = await there.next(isChange(at - 1_000), 1_000);
    expect(a.id).toBe(b.id); // one id for one change, whichever process tells it
  });

  test('a refused command sends nothing', async () => {
    await settle();
    const s = await open(one.base);
    await s.next((m) => m.type === 'retry');
    const refused = await one.t.api('dave@example.com', 'verify', 'web');
    expect(refused.ok, refused.text).toBe(false);
    const twice = await one.t.api(CAROL, `mode ${mode % 2 ? 'manual already' : 'schedule'}`, 'web');
    expect(twice.ok, twice.text).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(s.changes()).toEqual([]);
    const at = await change(one.base);
    await s.next(isChange(at - 1_000), 1_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.changes(), JSON.stringify(s.messages)).toHaveLength(1);
  });

  test('reconnecting with Last-Event-ID replays what was missed', async () => {
    await settle();
    const s = await open(one.base);
    const before = await change(one.base);
    const first = await s.next(isChange(before - 1_000), 1_000);
    s.close();
    await change(one.base);
    await change(one.base);
    await new Promise((r) => setTimeout(r, 300));
    const again = await open(one.base, { 'last-event-id': first.id! });
    await again.next((m) => m.type === 'event', 1_000);
    await new Promise((r) => setTimeout(r, 100));
    const replayed = again.changes();
    expect(replayed, JSON.stringify(replayed)).toHaveLength(2);
    expect(replayed.every((c) => c.line === 'web' && Number(c.id) > Number(first.id))).toBe(true);
  });

  test('an unknown or too old Last-Event-ID is answered "everything may have changed"', async () => {
    const s = await open(one.base);
    const t0 = await change(one.base);
    const old = await s.next(isChange(t0 - 1_000), 1_000);
    for (let i = 0; i < 3; i++) await change(one.base); // the buffer holds 3: `old` is gone
    await s.next(() => s.changes().length >= 4, 2_000);
    for (const id of [old.id!, '999999999', 'not-a-number']) {
      const again = await open(one.base, { 'last-event-id': id });
      const star = await again.next((m) => m.type === 'event', 1_000);
      expect(JSON.parse(star.data!)).toEqual({ line: '*', train: null });
      expect(again.changes()).toHaveLength(1);
      again.close();
    }
  });

  test('a heartbeat comment keeps an idle stream alive', async () => {
    const s = await open(one.base);
    const hb = await s.next((m) => m.type === 'comment', 2_000);
    expect(hb.comment).toBe('heartbeat');
  });

  test('the listener reconnects after its connection is killed, then says "everything may have changed"', async () => {
    const s = await open(one.base);
    await s.next((m) => m.type === 'retry');
    const killedAt = performance.now();
    const killed = await one.t.db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'conductor live updates' AND datname = current_database()`);
    expect(killed.rowCount).toBe(2); // one listener per process
    await s.next(isChange(killedAt, '*'), 5_000);
    const at = await change(two.base);
    await s.next(isChange(at - 1_000), 1_000);
  });

  test('stopping the app ends its open streams at once', async () => {
    const s = await open(two.base);
    await s.next((m) => m.type === 'retry');
    const t0 = performance.now();
    await two.t.app.stop();
    await s.ended;
    expect(performance.now() - t0).toBeLessThan(2_000);
    two.t.app.stop = async () => undefined; // stopped already (afterAll)
  });
});
