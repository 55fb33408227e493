// Retry from the train page (docs/behaviour.md §7 "Actions"): a build that fails, the Retry button
// for the engineer only, and a retry that succeeds once the cause is fixed. Real git, a real shell build.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { makeTempDir } from '../support/temp-dirs.js';
import { signIn } from '../support/web-client.js';

const ADMIN = 'admin@example.com';
const ALICE = 'alice@example.com';
const EVE = 'eve@example.com';

let t: RunningApp;
let repos: string;
beforeAll(async () => {
  repos = await makeTempDir('conductor-retry-repos-');
  await ensureDemoRepository(path.join(repos, 'web.git'), pino({ level: 'silent' }));
  // The build fails until the file `build-ok` exists in the app's directory.
  const config = `
timezone: UTC
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${repos}/web.git
    mode: schedule
    build: { command: "test -f $DIR/build-ok" }
    deploy: { command: "true" }
`;
  t = await startTestApp({ files: { 'conductor.yml': config } });
}, 90_000);
afterAll(() => t?.stop());

describe('retry from the page', () => {
  it('the engineer sees Retry after a failed build and retries it; someone else is refused in the words of the rule', async () => {
    const dev = await t.developer(path.join(repos, 'web.git'));
    await dev.commit(ALICE, 'A change whose build fails');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    const failed = () => t.status('web').then((s) => s.train?.jobs.find((j: { kind: string; state: string }) => j.kind === 'build' && j.state === 'failed'));
    await t.until('the build failed', failed);
    const base = t.app.url;
    const [alice, eve] = await Promise.all([signIn(base, ALICE), signIn(base, EVE)]);
    expect((await t.status('web')).train.engineer).toBe(ALICE); // the only author
    expect(await alice.html('/lines/web/trains/1')).toContain('data-testid="action-retry"');
    expect(await eve.html('/lines/web/trains/1')).not.toContain('data-testid="action-retry"');

    const json = { accept: 'application/json' };
    const refused = await eve.post('/lines/web/actions', { command: 'retry', nonce: 'retry-nonce-eve-0001' }, { ...json, 'x-csrf-token': eve.csrf });
    expect(await refused.json()).toEqual({ ok: false, text: `Only the engineer (${ALICE}) or an admin may retry the build.` });

    await writeFile(path.join(t.dir, 'build-ok'), '');
    const res = await alice.post('/lines/web/actions', { command: 'retry', nonce: 'retry-nonce-alice-01' }, { ...json, 'x-csrf-token': alice.csrf });
    expect(await res.json()).toEqual({ ok: true, text: 'Retrying the build of train #1.' });
    await t.until('the second build succeeded', async () => (await t.status('web')).train?.state === 'verifying');
    const builds = (await t.status('web')).train.jobs.filter((j: { kind: string }) => j.kind === 'build');
    expect(builds.map((j: { attempt: number; state: string }) => [j.attempt, j.state])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
  }, 90_000);
});
