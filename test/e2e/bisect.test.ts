import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoLineApp, startDemoLineApp } from '../support/app-harness.js';
import { type JenkinsApp, startJenkinsApp } from '../support/jenkins-app.js';

const ADMIN = 'admin@example.com';
const AUTHORS = ['carol@example.com', 'dave@example.com', 'erin@example.com'];

interface BisectJson {
  state: string;
  culprit: { sha: string; authorEmail: string } | null;
  builds: number;
  maxBuilds: number;
  range: { fromSha: string; toSha: string } | null;
  reason: string | null;
}
interface TrainJson {
  number: number;
  state: string;
  headSha: string;
  commits: { sha: string }[];
  jobs: { kind: string; state: string; sha: string; attempt: number }[];
  bisect: BisectJson | null;
}

/**
 * behaviour.md §8 end to end: a failed build of a many-commit train makes Conductor build
 * intermediate commits with the line's own build job (the local runner in a work tree of the
 * commit tried; Jenkins with SHA set to it), name the first failing commit, and revert it and
 * extend the train in one action. Real PostgreSQL, real git, real jobs.
 */
describe('end to end: culprit finding', () => {
  let x: DemoLineApp | undefined;
  let jx: JenkinsApp | undefined;
  afterEach(async () => {
    await x?.t.stop();
    x = undefined;
    if (jx) {
      await jx.t.stop();
      await jx.jenkins.close();
      jx = undefined;
    }
  });

  const start = async (build: string, extra = '') => {
    x = await startDemoLineApp({
      tmpPrefix: 'conductor-bisect-',
      conductorYml: (r) => `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${r}
    pollSeconds: 3600
    build: { command: ${JSON.stringify(build)} }
    deploy: { command: "true" }
${extra}
`,
    });
    return x;
  };
  const trainJson = async (base: string, n: number): Promise<TrainJson> => (await (await fetch(`${base}/api/lines/web/trains/${n}`)).json()) as TrainJson;

  /** Pushes `n` commits at once; the one at `bad` adds the file `broken` that fails the build. */
  const pushTrain = async (app: DemoLineApp, n: number, bad: number): Promise<string[]> => {
    const dev = await app.t.developer(app.repo);
    const shas: string[] = [];
    for (let i = 0; i < n; i++) shas.push(await dev.commit(AUTHORS[i % AUTHORS.length]!, `Change ${i}`, i === bad ? 'broken' : undefined));
    await dev.push();
    await app.t.app.scheduler.fetchNow('web');
    return shas;
  };

  it('a failed train of 8 commits names its culprit within the bound, tells the thread and the author, and "revert it and extend" builds green', async () => {
    const app = await start('test ! -f broken');
    const shas = await pushTrain(app, 8, 5);
    const found = await app.t.until('the culprit found', async () => {
      const t = await trainJson(app.base, 1);
      return t.bisect && t.bisect.state !== 'running' ? t : null;
    });
    expect(found.bisect).toMatchObject({ state: 'found', culprit: { sha: shas[5], authorEmail: AUTHORS[5 % 3] }, maxBuilds: 5, range: null });
    expect(found.bisect!.builds).toBeLessThanOrEqual(5);
    // The search's builds are jobs of their own kind, each at the commit it tried; the train's own state did not move.
    const searched = found.jobs.filter((j) => j.kind === 'bisect');
    expect(searched).toHaveLength(found.bisect!.builds);
    for (const j of searched) expect(j.state).toBe(shas.indexOf(j.sha) >= 5 ? 'failed' : 'succeeded');
    expect(found.state).toBe('delivering');
    expect(found.jobs.filter((j) => j.kind === 'build').map((j) => j.state)).toEqual(['failed']);
    // The whole line's status carries it too.
    expect((await app.t.status('web')).train.bisect.state).toBe('found');

    const sentence = `The build first fails at ${shas[5]!.slice(0, 8)} (${AUTHORS[2]!.split('@')[0]}, "Change 5").`;
    await app.t.until('the thread and the author told', async () => {
      const m = app.t.app.chat.messages;
      return m.some((c) => c.kind === 'announce' && c.text.startsWith(sentence)) && m.some((c) => c.kind === 'dm' && c.to === AUTHORS[2] && c.text.startsWith(sentence));
    });
    expect((await app.t.api(ADMIN, 'train 1')).text).toContain(`culprit search: ${sentence}`);

    // Someone who is neither admin nor engineer is refused, and nothing happens.
    const stranger = await app.t.api('zed@example.com', `revert ${shas[5]!.slice(0, 10)} and extend`);
    expect(stranger.ok).toBe(false);
    expect(stranger.text).toContain('Only an admin, or the engineer of train #1');

    const r = await app.t.api(ADMIN, `revert ${shas[5]!.slice(0, 10)} and extend`);
    expect(r.ok, r.text).toBe(true);
    const next = await app.t.until('train #2 replaces train #1 with the revert', async () => {
      const s = await app.t.status('web');
      return s.train?.number === 2 ? (s.train as TrainJson) : null;
    });
    expect(next.commits).toHaveLength(9);
    expect(next.commits.slice(0, 8).map((c) => c.sha)).toEqual(shas);
    await app.t.until('train #2 builds green and waits for verification', async () => (await app.t.status('web')).train?.state === 'verifying');
    const old = await trainJson(app.base, 1);
    expect(old.state).toBe('derailed');
    expect(old.bisect?.state).toBe('found');
    expect(await app.t.db.prisma.auditEntry.count({ where: { action: 'train.extended' } })).toBe(1);
  }, 120_000);

  it('a failed train of 33 commits names its culprit after at most 8 builds', async () => {
    const app = await start('test ! -f broken');
    const shas = await pushTrain(app, 33, 20);
    const t = await app.t.until(
      'the culprit found',
      async () => {
        const j = await trainJson(app.base, 1);
        return j.bisect && j.bisect.state !== 'running' ? j : null;
      },
      60_000,
    );
    expect(t.bisect).toMatchObject({ state: 'found', culprit: { sha: shas[20] }, maxBuilds: 8 });
    expect(t.bisect!.builds).toBeLessThanOrEqual(8);
    expect(t.jobs.filter((j) => j.kind === 'bisect')).toHaveLength(t.bisect!.builds);
  }, 120_000);

  it('a build that fails once and then builds is named flaky, with the range it could not split', async () => {
    // At a commit with the file `flaky`, the first build fails and every later one builds.
    const seen = await mkdtemp(path.join(tmpdir(), 'conductor-bisect-flaky-'));
    try {
      const app = await start(`if [ -f flaky ]; then if [ -f "${seen}/$SHA" ]; then exit 0; fi; touch "${seen}/$SHA"; exit 1; fi; true`);
      const dev = await app.t.developer(app.repo);
      const shas = [await dev.commit(AUTHORS[0]!, 'One'), await dev.commit(AUTHORS[1]!, 'Two', 'flaky')];
      await dev.push();
      await app.t.app.scheduler.fetchNow('web');
      const t = await app.t.until('the search ended', async () => {
        const j = await trainJson(app.base, 1);
        return j.bisect && j.bisect.state !== 'running' ? j : null;
      });
      // The train's build failed at the head; the head built when tried again: the results disagree.
      expect(t.bisect).toMatchObject({ state: 'flaky', culprit: null, range: { fromSha: shas[0], toSha: shas[1] } });
      expect(t.bisect!.builds).toBeLessThanOrEqual(3);
      await app.t.until('the thread told', async () =>
        app.t.app.chat.messages.some((m) => m.text.includes(`disagree between ${shas[0]!.slice(0, 8)} and ${shas[1]!.slice(0, 8)} (a flaky build?)`)),
      );
    } finally {
      await rm(seen, { recursive: true, force: true });
    }
  }, 120_000);

  it('a push cancels the search mid-way and stops its running builds', async () => {
    // The search's builds run for a minute; the train's own build fails at once.
    const app = await start('if [ "$JOB_KIND" = bisect ]; then sleep 60; fi; test ! -f broken');
    const shas = await pushTrain(app, 33, 20);
    await app.t.until('two search builds running', async () => (await trainJson(app.base, 1)).jobs.filter((j) => j.kind === 'bisect' && j.state === 'running').length === 2);
    const dev = await app.t.developer(app.repo);
    await dev.commit(AUTHORS[0]!, 'The fix');
    await dev.push();
    await app.t.app.scheduler.fetchNow('web');
    const t = await app.t.until('the search cancelled', async () => {
      const j = await trainJson(app.base, 1);
      return j.bisect?.state === 'cancelled' ? j : null;
    });
    expect(t.bisect).toMatchObject({ state: 'cancelled', reason: 'new commits were pushed', culprit: null, builds: 2 });
    expect(t.jobs.filter((j) => j.kind === 'bisect').map((j) => j.state)).toEqual(['failed', 'failed']);
    const stopped = await app.t.db.prisma.job.findMany({ where: { kind: 'bisect' }, select: { output: true } });
    for (const j of stopped) expect(j.output).toContain('[stopped by Conductor]');
    expect(shas).toHaveLength(33);
    expect(t.state).toBe('delivering');
  }, 120_000);

  it('on a Jenkins line, the search runs the build job with SHA set to each commit tried', async () => {
    jx = await startJenkinsApp({ tmpPrefix: 'conductor-bisect-jenkins-' });
    const { t, jenkins, repo } = jx;
    const dev = await t.developer(repo);
    const shas: string[] = [];
    for (let i = 0; i < 8; i++) shas.push(await dev.commit(AUTHORS[i % 3]!, `Change ${i}`));
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const bad = new Set(shas.slice(2));
    const finished = new Set<number>();
    const build = await t.until('the train build triggered', async () => jenkins.lastBuild('web-build'));
    expect(build.params.SHA).toBe(shas[7]);
    jenkins.finish('web-build', build.number, 'FAILURE', 'compile error');
    finished.add(build.number);
    // Jenkins is driven like a CI would: each build of the search ends by its SHA.
    const base = `http://127.0.0.1:${t.app.port}`;
    const done = await t.until(
      'the culprit found on Jenkins',
      async () => {
        for (const b of jenkins.builds.filter((x) => x.job === 'web-build' && x.building && !finished.has(x.number))) {
          finished.add(b.number);
          jenkins.finish('web-build', b.number, bad.has(b.params.SHA!) ? 'FAILURE' : 'SUCCESS');
        }
        const j = (await (await fetch(`${base}/api/lines/web/trains/1`)).json()) as TrainJson;
        return j.bisect && j.bisect.state !== 'running' ? j : null;
      },
      60_000,
    );
    expect(done.bisect).toMatchObject({ state: 'found', culprit: { sha: shas[2] } });
    expect(done.bisect!.builds).toBeLessThanOrEqual(5);
    const searchBuilds = jenkins.builds.filter((b) => b.job === 'web-build').slice(1);
    expect(searchBuilds).toHaveLength(done.bisect!.builds);
    for (const b of searchBuilds) expect(shas).toContain(b.params.SHA);
    jenkins.expectNoUnexpectedCalls();
  }, 120_000);
});
