import path from 'node:path';
import pino from 'pino';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { makeTempDir } from '../support/temp-dirs.js';

const ADMIN = 'admin@example.com';
const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';

/** Revert + extend and the emergency reset, against a real bare repository. */
describe('end to end: recovering a bad train with real git', () => {
  let t: RunningApp;
  let repo: string;
  beforeAll(async () => {
    const dir = await makeTempDir('conductor-recovery-');
    repo = path.join(dir, 'web.git');
    await ensureDemoRepository(repo, pino({ level: 'silent' }));
    t = await startTestApp({
      files: {
        'conductor.yml': `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${repo}
    pollSeconds: 1
    build: { command: "test -f broken.txt && exit 1 || echo ok" }
    deploy: { command: "true" }
`,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  const train = async () => (await t.status('web')).train;

  it('reverts a bad commit, extends the train with the revert, and keeps verifications', async () => {
    const dev = await t.developer(repo);
    const good = await dev.commit(CAROL, 'Good change');
    const bad = await dev.commit(DAVE, 'Bad change', 'broken.txt');
    await dev.push();

    const failed = await t.until('build fails', async () => {
      const tr = await train();
      return tr?.number === 1 && tr.jobs[0]?.state === 'failed' ? tr : null;
    });
    expect(failed.notDeployableReason).toContain('The build failed');
    await t.until('failure announced', async () => t.app.chat.messages.some((m) => m.text.includes('the build of train #1 failed')));

    // Only the author (or an admin) may revert a commit.
    expect((await t.api(CAROL, `revert ${bad.slice(0, 10)}`)).text).toContain("is dave@example.com's commit");
    expect((await t.api(DAVE, `revert ${bad.slice(0, 10)}`)).ok).toBe(true);
    const platform = await t.until('the revert lands on the platform', async () => {
      const s = await t.status('web');
      return s.platform.length === 1 ? s.platform : null;
    });
    expect(platform[0]).toMatchObject({ authorEmail: expect.any(String), message: expect.stringContaining('Revert "Bad change"') });
    const log = await simpleGit(repo).raw(['log', '-1', '--format=%B', 'main']);
    expect(log).toContain(`Conductor-Revert-Key:`);

    const engineer = failed.engineer as string;
    expect((await t.api(engineer, 'extend')).text).toBe('Train #1 extended into train #2 (3 commits).');
    const two = await t.until('train #2 delivered', async () => {
      const tr = await train();
      return tr?.number === 2 && tr.state === 'verifying' ? tr : null;
    });
    expect(two.commits.map((c: { sha: string }) => c.sha).slice(0, 2)).toEqual([good, bad]);
    expect(two.engineer).toBe(engineer);

    await t.api(CAROL, 'verify');
    // A derail and a fresh train (admin start is not needed: schedule mode) keep Carol verified.
    expect((await t.api(engineer, 'derail flaky staging')).ok).toBe(true);
    const three = await t.until('train #3 delivered', async () => {
      const tr = await train();
      return tr?.number === 3 && tr.state === 'verifying' ? tr : null;
    });
    expect(three.tickets).toEqual(expect.arrayContaining([{ authorEmail: CAROL, state: 'verified' }]));
  }, 60_000);

  it('emergency reset: manual mode, branch back to before the train, backup ref, removed commits listed and DMd', async () => {
    const before = await train();
    const dev = await t.developer(repo);
    await dev.commit(CAROL, 'Queued change');
    await dev.push();
    await t.until('queued', async () => (await t.status('web')).platform.length === 1);

    expect((await t.api(CAROL, 'emergency')).text).toContain('Only admins may');
    const reply = await t.api(ADMIN, 'emergency prod is on fire');
    expect(reply.ok).toBe(true);
    const s = await t.status('web');
    expect(s.mode).toBe('manual');
    expect(s.platform).toEqual([]);
    expect(s.train).toMatchObject({ number: before.number, state: 'derailed' });

    const git = simpleGit(repo);
    await t.until('branch reset', async () => (await git.raw(['rev-parse', 'main'])).trim() === before.baseSha);
    const refs = await git.raw(['for-each-ref', '--format=%(refname)', 'refs/conductor/backup/web/']);
    expect(refs.trim().split('\n')).toHaveLength(1);
    await t.until('DMs sent', async () => t.app.chat.messages.filter((m) => m.kind === 'dm' && m.text.includes('emergency reset took your')).length >= 2);
    const dms = t.app.chat.messages.filter((m) => m.kind === 'dm' && m.text.includes('emergency reset took your'));
    expect(dms.map((m) => m.to).sort()).toEqual([CAROL, DAVE]);

    // In manual mode a push is acknowledged with a warning and no train starts by itself.
    const dev2 = await t.developer(repo);
    await dev2.commit(CAROL, 'Hotfix');
    await dev2.push();
    await t.until('hotfix on the platform', async () => (await t.status('web')).platform.length === 1);
    await t.until('manual-mode warning', async () => t.app.chat.messages.some((m) => m.text.includes('The line is in manual mode (emergency reset by admin@example.com')));
    expect((await train()).number).toBe(before.number);
    expect((await t.api(ADMIN, 'start')).text).toBe(`Train #${before.number + 1} started with 1 commit.`);
  }, 60_000);
});
