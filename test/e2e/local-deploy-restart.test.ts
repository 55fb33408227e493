import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../support/app-harness.js';
import { startDemoLineApp } from '../support/app-harness.js';
import { makeTempDir } from '../support/temp-dirs.js';

const ADMIN = 'admin@example.com';
const CAROL = 'carol@example.com';

/**
 * behaviour.md §9 end to end: a local production deploy runs across a Conductor
 * restart. The restarted Conductor adopts it and records its real result; the
 * deploy command runs exactly once. A deploy whose outcome cannot be known
 * is `unknown` in the status JSON and waits for `job succeeded|failed`.
 */
describe('end to end: a local deploy across a restart', () => {
  let t: RunningApp;
  let repo: string;
  let marks: string;

  beforeAll(async () => {
    marks = path.join(await makeTempDir('conductor-deploy-marks-'), 'deploys.log');
    ({ t, repo } = await startDemoLineApp({
      tmpPrefix: 'conductor-local-restart-',
      conductorYml: (r) => `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${r}
    pollSeconds: 1
    build: { command: "true" }
    deploy: { command: "echo \\"train $TRAIN\\" >> ${marks}; sleep 2; echo deployed-now" }
`,
    }));
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  const deployJob = async (n: number) => {
    const s = await t.api(ADMIN, `train ${n}`);
    return s;
  };

  it('adopts the running deploy after the restart and deploys the train once', async () => {
    const dev = await t.developer(repo);
    await dev.commit(CAROL, 'Ship it');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    await t.until('verifying', async () => (await t.status('web')).train?.state === 'verifying');
    await t.api(CAROL, 'verify');
    expect((await t.api(CAROL, 'deploy')).ok).toBe(true);
    await t.until(
      'deploy running',
      async () => existsSync(marks) && (await t.status('web')).train?.jobs.some((j: { kind: string; state: string }) => j.kind === 'deploy' && j.state === 'running'),
    );

    await t.restart();
    const s = await t.until(
      'deployed after the restart',
      async () => {
        const st = await t.status('web');
        return st.lastDeployed?.number === 1 ? st : null;
      },
      20_000,
    );
    expect(s.production).toMatchObject({ number: 1, by: CAROL, rolledBackFrom: null });
    expect(readFileSync(marks, 'utf8')).toBe('train 1\n');
    const job = await t.db.prisma.job.findFirstOrThrow({ where: { kind: 'deploy' } });
    expect(job.state).toBe('succeeded');
    expect(job.output).toContain('deployed-now');
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'train.deployed' } })).toBe(1);
  }, 60_000);

  it('a deploy whose record is gone is unknown: said in status and `train`, never rerun; `job succeeded` settles it', async () => {
    const dev = await t.developer(repo);
    await dev.commit(CAROL, 'Second change');
    await dev.push();
    await t.app.scheduler.fetchNow('web');
    await t.until('train #2 verifying', async () => (await t.status('web')).train?.state === 'verifying' && (await t.status('web')).train.number === 2);
    await t.api(CAROL, 'verify');
    expect((await t.api(CAROL, 'deploy')).ok).toBe(true);
    // Running, and its command already past its first line (on a loaded machine the wrapper can be killed before the command wrote anything).
    await t.until(
      'deploy running',
      async () =>
        readFileSync(marks, 'utf8').includes('train 2') && (await t.status('web')).train?.jobs.some((j: { kind: string; state: string }) => j.kind === 'deploy' && j.state === 'running'),
    );

    // Conductor stops, and the job's process and record vanish with the machine (a reboot, a wiped data directory).
    await t.restart(async () => {
      const runs = path.join(t.dir, 'data', 'jobs', 'web', 'runs');
      const { rm, readdir, readFile } = await import('node:fs/promises');
      for (const id of await readdir(runs)) {
        const meta = JSON.parse(await readFile(path.join(runs, id, 'meta.json'), 'utf8')) as { pid: number };
        try {
          process.kill(-meta.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await rm(runs, { recursive: true, force: true });
    });

    const st = await t.until(
      'deploy outcome unknown',
      async () => {
        const x = await t.status('web');
        return x.train?.jobs.some((j: { kind: string; state: string }) => j.kind === 'deploy' && j.state === 'unknown') ? x : null;
      },
      20_000,
    );
    expect(st.train.state).toBe('deploying');
    expect(st.train.notDeployableReason).toContain('Outcome unknown: check production.');
    expect((await t.api(CAROL, 'status')).text).toContain('Outcome unknown: check production.');
    expect((await deployJob(2)).text).toContain('outcome unknown: check production');
    expect((await t.api(CAROL, 'help')).text).toContain('job succeeded|failed');
    await t.until('the channel is asked', async () => t.app.chat.messages.some((m) => m.text.includes('Outcome unknown: check production.')));
    expect(readFileSync(marks, 'utf8')).toBe('train 1\ntrain 2\n');

    expect((await t.api('dave@example.com', 'job succeeded')).ok).toBe(false);
    const r = await t.api(CAROL, 'job succeeded 2');
    expect(r.ok).toBe(true);
    const done = await t.until('deployed', async () => ((await t.status('web')).lastDeployed?.number === 2 ? t.status('web') : null));
    expect(done.production).toMatchObject({ number: 2, by: CAROL });
    expect(readFileSync(marks, 'utf8')).toBe('train 1\ntrain 2\n');
  }, 60_000);
});
