import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeJenkins } from '../support/fake-jenkins.js';
import { type JenkinsApp, startJenkinsApp } from '../support/jenkins-app.js';

/**
 * Jenkins builds outlive Conductor's process: a restart while one runs, and a
 * trigger whose answer is lost, must neither lose the build's result nor run
 * the job twice.
 */
describe('end to end: Jenkins jobs across restarts and lost triggers', () => {
  let t: RunningApp;
  let jenkins: FakeJenkins;
  let repo: string;
  let callback: JenkinsApp['callback'];

  const triggers = () => jenkins.callsTo('POST', /buildWithParameters$/).length;
  const job = (kind: string) =>
    t.until(`${kind} running`, async () => (await t.status('web')).train?.jobs.find((j: { kind: string; state: string }) => j.kind === kind && j.state === 'running'));

  beforeAll(async () => {
    ({ t, jenkins, repo, callback } = await startJenkinsApp({ tmpPrefix: 'conductor-jenkins-restart-' }));
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await jenkins?.close();
  });

  it('a build running across a restart is followed again: the train proceeds when it finishes, and no second build starts', async () => {
    const dev = await t.developer(repo);
    await dev.commit('carol@example.com', 'Ship it');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const build = await t.until('Jenkins build triggered', async () => jenkins.lastBuild('web-build'));
    expect((await job('build')).url).toBe(build.url);

    await t.restart();
    jenkins.finish('web-build', build.number, 'SUCCESS');
    await t.until('verifying (result by polling, after the restart)', async () => (await t.status('web')).train.state === 'verifying');
    expect(jenkins.builds.filter((b) => b.job === 'web-build')).toHaveLength(1);
    expect(triggers()).toBe(1);
    expect(await t.db.prisma.job.findFirstOrThrow({ where: { kind: 'build' } })).toMatchObject({ state: 'succeeded', externalId: 'web-build#1' });
    jenkins.expectNoUnexpectedCalls();
  }, 60_000);

  it('a deploy running across a restart takes its callback (200, not 409), and the train is deployed once', async () => {
    await t.api('carol@example.com', 'verify');
    expect((await t.api('carol@example.com', 'deploy')).ok).toBe(true);
    const deploy = await t.until('Jenkins deploy triggered', async () => jenkins.lastBuild('web-deploy'));
    await job('deploy');
    const row = await t.db.prisma.job.findFirstOrThrow({ where: { kind: 'deploy' } });

    await t.restart();
    const res = await callback({ jobId: row.id, build: deploy.url, result: 'SUCCESS' });
    expect(res.status).toBe(200);
    await t.until('deployed', async () => (await t.status('web')).lastDeployed?.number === 1);
    jenkins.finish('web-deploy', deploy.number, 'SUCCESS');
    expect((await callback({ jobId: row.id, build: deploy.url, result: 'SUCCESS' })).status).toBe(409);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'train.deployed' } })).toBe(1);
    expect(jenkins.builds.filter((b) => b.job === 'web-deploy')).toHaveLength(1);
    jenkins.expectNoUnexpectedCalls();
  }, 60_000);

  it('a trigger whose response is lost is retried by the outbox, which adopts the build instead of starting a second one', async () => {
    const before = triggers();
    jenkins.loseNextTriggerResponse('reset');
    const dev = await t.developer(repo);
    await dev.commit('erin@example.com', 'Second train');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const running = await t.until('train #2 build running', async () => {
      const tr = (await t.status('web')).train;
      return tr?.number === 2 && tr.jobs[0]?.state === 'running' ? tr.jobs[0] : null;
    });
    const builds = jenkins.builds.filter((b) => b.job === 'web-build' && b.params.TRAIN === '2');
    expect(builds).toHaveLength(1);
    expect(running.url).toBe(builds[0]!.url);
    expect(triggers()).toBe(before + 1);
    jenkins.finish('web-build', builds[0]!.number, 'SUCCESS');
    await t.until('train #2 verifying', async () => (await t.status('web')).train.state === 'verifying');
    expect(jenkins.builds.filter((b) => b.job === 'web-build' && b.params.TRAIN === '2')).toHaveLength(1);
    jenkins.expectNoUnexpectedCalls();
  }, 60_000);
});

/**
 * The engine timed a job out but its stop could not reach Jenkins before the
 * process stopped: after the restart the job is no longer running in the
 * database (nothing resumes it), yet its build must not run on.
 */
describe('end to end: a timed-out Jenkins build is stopped even when its stop outlives the process', () => {
  let t: RunningApp;
  let jenkins: FakeJenkins;
  let repo: string;
  let callback: JenkinsApp['callback'];
  /** How far Conductor's clock is ahead of the real one (the engine's timeouts follow it). */
  let ahead = 0;

  beforeAll(async () => {
    ({ t, jenkins, repo, callback } = await startJenkinsApp({
      tmpPrefix: 'conductor-jenkins-stop-',
      buildTimeoutMinutes: 10,
      app: { clock: () => new Date(Date.now() + ahead) },
    }));
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await jenkins?.close();
  });

  it('the stop is retried by the next process, which finds the build in Jenkins and stops it; the timeout is reported once', async () => {
    const dev = await t.developer(repo);
    await dev.commit('dave@example.com', 'Slow build');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const build = await t.until('Jenkins build triggered', async () => jenkins.lastBuild('web-build'));
    const row = await t.until('build running', async () => t.db.prisma.job.findFirst({ where: { kind: 'build', state: 'running' } }));

    await jenkins.down('refused');
    ahead = 11 * 60_000; // past the 10-minute timeout, for the engine only
    await t.app.scheduler.tickAll();
    const stopItem = () => t.db.prisma.outboxItem.findFirstOrThrow({ where: { kind: 'job.stop' } });
    await t.until('the stop failed (Jenkins unreachable)', async () => (await stopItem()).lastError);
    expect((await t.db.prisma.job.findUniqueOrThrow({ where: { id: row.id } })).state).toBe('failed');

    await t.restart(); // the job is failed in the database: the new process does not resume it
    await jenkins.up();
    await t.until('the build stopped in Jenkins', async () => jenkins.build('web-build', build.number).result === 'ABORTED', 30_000);
    await t.until('the stop delivered', async () => (await stopItem()).doneAt);

    // Jenkins's callback after the abort is not a second result.
    const late = await callback({ jobId: row.id, build: build.url, result: 'ABORTED' });
    expect(late.status).toBe(409);
    const after = await t.db.prisma.job.findUniqueOrThrow({ where: { id: row.id } });
    expect(after.state).toBe('failed');
    expect(after.output?.match(/\[timed out\]/g)).toHaveLength(1);
    expect(after.output).not.toMatch(/Jenkins ABORTED/);
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'job.timed-out' } })).toBe(1);
    expect(jenkins.builds).toHaveLength(1);
    expect(jenkins.callsTo('POST', /buildWithParameters$/)).toHaveLength(1);
    expect(jenkins.callsTo('POST', /\/stop$/)).toHaveLength(1);
    jenkins.expectNoUnexpectedCalls();
  }, 90_000);
});
