import path from 'node:path';
import pino from 'pino';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { type FakeGithub, pushPayload, signedPush, startFakeGithub } from '../support/fake-github.js';
import { makeTempDir } from '../support/temp-dirs.js';

const SECRET = 'gh-webhook-secret';

/** The whole app fed by signed GitHub push webhooks, with a real bare repository behind. */
describe('end to end: GitHub push webhook', () => {
  let t: RunningApp;
  let gh: FakeGithub;
  let repo: string;
  let base: string;
  const post = (req: { body: string; headers: Record<string, string> }) => fetch(`${base}/webhooks/github`, { method: 'POST', body: req.body, headers: req.headers });
  const head = async () => (await simpleGit(repo).raw(['rev-parse', 'main'])).trim();
  const commitsOf = async (from: string, to: string) => {
    const out = await simpleGit(repo).raw(['log', '--reverse', '--format=%H%x1f%an%x1f%ae%x1f%s', `${from}..${to}`]);
    return out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [sha, authorName, authorEmail, message] = l.split('\x1f') as [string, string, string, string];
        return { sha, authorName, authorEmail, message };
      });
  };

  beforeAll(async () => {
    const dir = await makeTempDir('conductor-gh-');
    repo = path.join(dir, 'web.git');
    await ensureDemoRepository(repo, pino({ level: 'silent' }));
    gh = await startFakeGithub({ token: 'ghp-test' });
    t = await startTestApp({
      env: { GITHUB_WEBHOOK_SECRET: SECRET, GITHUB_TOKEN: 'ghp-test', GITHUB_API_URL: gh.url },
      files: {
        'conductor.yml': `
lines:
  - name: web
    repo: ${repo}
    github: acme/web
    pollSeconds: 3600
    build: { command: "true" }
    deploy: { command: "true" }
`,
      },
    });
    base = `http://127.0.0.1:${t.app.port}`;
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await gh?.close();
  });

  it('records a push from the webhook at once (no poll), once per delivery, and refuses bad signatures', async () => {
    const before = await head();
    const dev = await t.developer(repo);
    await dev.commit('carol@example.com', 'From GitHub one');
    await dev.commit('dave@example.com', 'From GitHub two');
    await dev.push();
    const after = await head();
    const commits = await commitsOf(before, after);
    const payload = pushPayload({ repo: 'acme/web', branch: 'main', before, after, commits });

    const forged = signedPush('wrong-secret', payload, 'delivery-forged');
    expect((await post(forged)).status).toBe(401);
    expect((await t.status('web')).train).toBeNull();

    const t0 = performance.now();
    const res = await post(signedPush(SECRET, payload, 'delivery-1'));
    const ms = performance.now() - t0;
    expect(res.status).toBe(200);
    const s = await t.status('web');
    expect(s.train).toMatchObject({ number: 1, headSha: after });
    expect(s.train.commits.map((c: { sha: string }) => c.sha)).toEqual(commits.map((c) => c.sha));
    expect(ms).toBeLessThan(2_000); // one transaction; the issue asks for 200 ms, measured by `npm run bench`

    expect((await post(signedPush(SECRET, payload, 'delivery-1'))).status).toBe(200); // redelivery
    expect(await t.db.prisma.commit.count({ where: { sha: { in: commits.map((c) => c.sha) } } })).toBe(2);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'commits.arrived' } })).toBe(1);

    // Commit statuses follow each commit: on the train, then deployed.
    const statusOf = (sha: string) => gh.statuses.filter((c) => c.sha === sha).map((c) => `${c.state}: ${c.description}`);
    await t.until('statuses posted', async () => commits.every((c) => statusOf(c.sha).includes('pending: on train #1')));
    expect(gh.statuses.every((c) => c.context === 'conductor' && c.owner === 'acme' && c.repo === 'web')).toBe(true);
    await t.until('delivered', async () => (await t.status('web')).train.state === 'verifying');
    await t.api('carol@example.com', 'verify');
    await t.api('dave@example.com', 'verify');
    const engineer = (await t.status('web')).train.engineer as string;
    expect((await t.api(engineer, 'deploy')).ok).toBe(true);
    await t.until('deployed status', async () => commits.every((c) => statusOf(c.sha).includes('success: deployed with train #1')));
    gh.expectNoUnexpectedCalls();
  });

  it('reconciles a delivery that does not continue the known head with a git fetch, keeping branch order', async () => {
    const dev = await t.developer(repo);
    const start = await head();
    await dev.commit('erin@example.com', 'Missed delivery');
    await dev.push();
    const missed = await head();
    await dev.commit('frank@example.com', 'Arrives first');
    await dev.push();
    const latest = await head();
    // GitHub delivers the second push first; its `before` is not the head Conductor knows.
    const late = pushPayload({ repo: 'acme/web', branch: 'main', before: missed, after: latest, commits: await commitsOf(missed, latest) });
    const answer = await post(signedPush(SECRET, late, 'delivery-3'));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ ok: true, lines: ['web'], commits: 1, fetching: 'does not continue the known head' });
    // Train #1 is deployed by now, so the fetched commits start train #2 at once, in branch order.
    const train = await t.until('the fetch recorded both, in branch order', async () => {
      const tr = (await t.status('web')).train;
      return tr?.number === 2 ? tr : null;
    });
    expect(train.commits.map((c: { sha: string }) => c.sha)).toEqual([missed, latest]);
    await t.until('statuses of the fetched commits', async () => [missed, latest].every((sha) => gh.statuses.some((c) => c.sha === sha && c.description === 'on train #2')));
    expect(start).not.toBe(latest);
  });

  it('records deliveries that overtake each other in flight in branch order, together, without a fetch', async () => {
    const dev = await t.developer(repo);
    let before = await head();
    const payloads = [];
    for (let i = 0; i < 12; i++) {
      await dev.commit(`dev${i % 3}@example.com`, `Overtaken ${i}`);
      await dev.push();
      const after = await head();
      payloads.push(signedPush(SECRET, pushPayload({ repo: 'acme/web', branch: 'main', before, after, commits: await commitsOf(before, after) }), `overtake-${i}`));
      before = after;
    }
    const shas = (await commitsOf((await t.status('web')).train.headSha, before)).map((c) => c.sha);
    expect(shas).toHaveLength(12);
    // Hold the line's lock, so that every delivery is in flight at once: the first waits for
    // the lock, the others queue behind it and arrive in the reverse of branch order.
    const holder = await t.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM line WHERE name = 'web' FOR UPDATE`);
      const first = post(payloads[0]!);
      await t.until('the first delivery waits for the lock', async () => {
        const r = await t.db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'`);
        return r.rows[0].n > 0;
      });
      const rest = payloads
        .slice(1)
        .reverse()
        .map((p) => post(p));
      await t.until('the eleven others wait behind it', async () => (await (await fetch(`${base}/metrics`)).text()).includes('conductor_github_pushes_waiting 11'));
      await holder.query('COMMIT');
      const answers = await Promise.all([first, ...rest]);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    } finally {
      holder.release();
    }
    const s = await t.status('web');
    expect(s.platform.map((c: { sha: string }) => c.sha)).toEqual(shas);
    // Every delivery recorded its commit; none fell back to a fetch.
    const replies = await t.db.prisma.processedInput.findMany({ where: { key: { startsWith: 'github:overtake-' } } });
    expect(replies).toHaveLength(12);
    expect(replies.every((r) => (r.reply as { ok: boolean }).ok)).toBe(true);
    // Two transactions: the first delivery, then the eleven that waited behind it.
    const arrived = await t.db.prisma.auditEntry.findMany({ where: { action: 'commits.arrived' }, orderBy: { id: 'desc' }, take: 2 });
    expect(arrived.map((a) => (a.details as { count: number }).count)).toEqual([11, 1]);
  });

  it('ignores events and branches it does not watch', async () => {
    const other = pushPayload({ repo: 'acme/web', branch: 'feature', before: '1'.repeat(40), after: '2'.repeat(40), commits: [] });
    const r1 = await post(signedPush(SECRET, other, 'delivery-4'));
    expect(r1.status).toBe(202);
    const r2 = await post(signedPush(SECRET, { zen: 'Keep it logically awesome.' }, 'delivery-5', 'ping'));
    expect(r2.status).toBe(200);
    const r3 = await post(signedPush(SECRET, { action: 'opened' }, 'delivery-6', 'pull_request'));
    expect(r3.status).toBe(202);
  });
});
