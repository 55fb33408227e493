import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../support/app-harness.js';
import type { FakeJenkins } from '../support/fake-jenkins.js';
import { type JenkinsApp, startJenkinsApp } from '../support/jenkins-app.js';

/** A line whose build and deploy run on Jenkins (a strict fake), results by polling and by callback. */
describe('end to end: Jenkins jobs', () => {
  let t: RunningApp;
  let jenkins: FakeJenkins;
  let repo: string;
  let callback: JenkinsApp['callback'];

  beforeAll(async () => {
    ({ t, jenkins, repo, callback } = await startJenkinsApp({ tmpPrefix: 'conductor-jenkins-' }));
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await jenkins?.close();
  });

  it('builds on Jenkins with the train parameters, learns the result by polling, deploys on Jenkins and learns it by callback', async () => {
    const dev = await t.developer(repo);
    const sha = await dev.commit('carol@example.com', 'Ship it');
    await dev.push();
    await t.app.scheduler.fetchNow('web');

    const build = await t.until('Jenkins build triggered', async () => jenkins.lastBuild('web-build'));
    expect(build.params).toMatchObject({ TRAIN: '1', LINE: 'web', SHA: sha, BRANCH: 'main', ENGINEER: 'carol@example.com' });
    const running = await t.until('job recorded with its Jenkins URL', async () => {
      const j = (await t.status('web')).train.jobs[0];
      return j?.state === 'running' ? j : null;
    });
    expect(running.url).toBe(build.url);

    jenkins.finish('web-build', build.number, 'SUCCESS');
    await t.until('verifying (result by polling)', async () => (await t.status('web')).train.state === 'verifying');
    await t.api('carol@example.com', 'verify');
    expect((await t.api('carol@example.com', 'deploy')).ok).toBe(true);

    const deploy = await t.until('Jenkins deploy triggered', async () => jenkins.lastBuild('web-deploy'));
    await t.until('deploy running', async () => (await t.status('web')).train.jobs.some((j: { kind: string; state: string }) => j.kind === 'deploy' && j.state === 'running'));
    const job = await t.db.prisma.job.findFirstOrThrow({ where: { kind: 'deploy' } });

    // The Jenkinsfile's callback: unauthenticated → 401; unknown job → 409; the real one → 200.
    expect((await callback({ jobId: job.id, build: deploy.url, result: 'SUCCESS' }, 'wrong')).status).toBe(401);
    expect((await callback({ jobId: 999_999, result: 'SUCCESS' })).status).toBe(409);
    jenkins.finish('web-deploy', deploy.number, 'SUCCESS');
    expect((await callback({ jobId: job.id, build: deploy.url, result: 'SUCCESS' })).status).toBe(200);
    await t.until('deployed', async () => (await t.status('web')).lastDeployed?.number === 1);
    expect((await callback({ jobId: job.id, build: deploy.url, result: 'SUCCESS' })).status).toBe(409); // already finished
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'train.deployed' } })).toBe(1);
    jenkins.expectNoUnexpectedCalls();
  }, 60_000);

  it('Jenkins down: the train waits, the channel and the card say why, and one build starts when Jenkins is back', async () => {
    await jenkins.down('503');
    const builds = jenkins.builds.length;
    const dev = await t.developer(repo);
    await dev.commit('erin@example.com', 'While Jenkins sleeps');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const waiting = await t.until('waiting for Jenkins', async () => {
      const tr = (await t.status('web')).train;
      return tr?.number === 2 && String(tr.notDeployableReason).includes('waiting for Jenkins') ? tr : null;
    });
    expect(waiting.jobs).toEqual([expect.objectContaining({ kind: 'build', state: 'queued' })]);
    await t.until('told in the thread', async () => t.app.chat.messages.some((m) => m.train === 2 && m.text.includes('is waiting for Jenkins')));
    expect(jenkins.builds.length).toBe(builds);
    await jenkins.up();
    const build = await t.until('one build once Jenkins is back', async () => (jenkins.builds.length === builds + 1 ? jenkins.lastBuild('web-build') : null), 20_000);
    expect(build.params.TRAIN).toBe('2');
    await t.until('running', async () => (await t.status('web')).train.jobs[0].state === 'running');
    expect(jenkins.builds.length).toBe(builds + 1);
  }, 40_000);
});
