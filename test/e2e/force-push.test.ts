import path from 'node:path';
import pino from 'pino';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { makeTempDir } from '../support/temp-dirs.js';

/** A force push that takes a live train's commits off the branch: reported, and nothing vanishes from the records. */
describe('end to end: force push over a live train', () => {
  let t: RunningApp;
  let repo: string;
  beforeAll(async () => {
    const dir = await makeTempDir('conductor-force-');
    repo = path.join(dir, 'web.git');
    await ensureDemoRepository(repo, pino({ level: 'silent' }));
    t = await startTestApp({
      files: {
        'conductor.yml': `
lines:
  - name: web
    repo: ${repo}
    pollSeconds: 3600
    build: { command: "sleep 30" }
    deploy: { command: "true" }
`,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('reports the rewritten train in the channel and keeps its commits recorded', async () => {
    const base = (await simpleGit(repo).raw(['rev-parse', 'main'])).trim();
    const dev = await t.developer(repo);
    const a = await dev.commit('carol@example.com', 'Soon rewritten A');
    const b = await dev.commit('carol@example.com', 'Soon rewritten B');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    expect((await t.status('web')).train).toMatchObject({ number: 1, headSha: b });

    // Someone force-pushes the branch back to before the train, with another commit on top.
    const work = await makeTempDir('conductor-force-dev-');
    const git = simpleGit(work);
    await git.clone(repo, work);
    await git.raw(['reset', '--hard', base]);
    await git.raw(['-c', 'user.name=Mallory', '-c', 'user.email=mallory@example.com', 'commit', '--allow-empty', '-q', '-m', 'Rewritten history']);
    await git.raw(['push', '--force', 'origin', 'main']);
    const rewritten = (await git.raw(['rev-parse', 'HEAD'])).trim();

    await t.app.scheduler.fetchNow('web');
    await t.until('reported', async () => t.app.chat.messages.some((m) => m.train === 1 && m.text.includes("A force push removed train #1's commits")));
    const s = await t.status('web');
    expect(s.train).toMatchObject({ number: 1, state: 'delivering' });
    expect(s.train.commits.map((c: { sha: string }) => c.sha)).toEqual([a, b]); // nothing vanished
    expect(s.platform.map((c: { sha: string }) => c.sha)).toEqual([rewritten]);
    expect(await t.db.prisma.commit.count({ where: { sha: { in: [a, b] }, state: 'train' } })).toBe(2);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'train.rewritten' } })).toBe(1);
  }, 60_000);

  it('marks waiting commits a force push took off the branch as removed (kept in the records), so no train ships them', async () => {
    // Train #1 is still building (sleep 30): new commits wait on the platform.
    const dev = await t.developer(repo);
    const kept = await dev.commit('dave@example.com', 'Stays on the branch');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const x = await dev.commit('erin@example.com', 'Force-pushed away X');
    const y = await dev.commit('frank@example.com', 'Force-pushed away Y');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const before = (await t.status('web')).platform.map((c: { sha: string }) => c.sha);
    expect(before.slice(-3)).toEqual([kept, x, y]);

    // Someone force-pushes the branch back to `kept` and adds an amended commit.
    const work = await makeTempDir('conductor-force-dev-');
    const git = simpleGit(work);
    await git.clone(repo, work);
    await git.raw(['reset', '--hard', kept]);
    await git.raw(['-c', 'user.name=Erin', '-c', 'user.email=erin@example.com', 'commit', '--allow-empty', '-q', '-m', 'X, amended']);
    await git.raw(['push', '--force', 'origin', 'main']);
    const amended = (await git.raw(['rev-parse', 'HEAD'])).trim();

    await t.app.scheduler.fetchNow('web');
    const s = await t.status('web');
    expect(s.platform.map((c: { sha: string }) => c.sha)).toEqual([...before.slice(0, -2), amended]);
    const rows = await t.db.prisma.commit.findMany({ where: { sha: { in: [x, y] } }, orderBy: { position: 'asc' } });
    expect(rows.map((r) => [r.sha, r.state, r.removedAt !== null])).toEqual([
      [x, 'removed', true],
      [y, 'removed', true],
    ]);
    const audit = await t.db.prisma.auditEntry.findFirstOrThrow({ where: { action: 'commits.removed' } });
    expect((audit.details as { shas: string[] }).shas).toEqual([x, y]);
    expect(t.app.chat.messages.some((m) => m.text.includes('A force push took 2 waiting commits off main') && m.text.includes(x.slice(0, 8)))).toBe(true);
    // A later fetch that finds nothing new changes nothing.
    await t.app.scheduler.fetchNow('web');
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'commits.removed' } })).toBe(1);
  }, 60_000);
});
