import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildRunner, JobRequest, JobResult } from '../../../src/engine/ports/build-runner.js';
import { createShellRunner, type ShellRunnerOptions } from '../../../src/integrations/runner/shell-runner.js';
import { ALICE, BOB, Fixture, git, killLeftoverJobs, processGone, silentLog } from '../git/git-fixtures.js';

interface Harness {
  fx: Fixture;
  runner: BuildRunner;
  results: JobResult[];
  /** Resolves with the result of `jobId` once it is reported. */
  result(jobId: number, timeoutMs?: number): Promise<JobResult>;
  first: string;
  second: string;
  workRoot: string;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.runner.close();
    killLeftoverJobs(h.workRoot); // close() leaves jobs running for the next Conductor on purpose
    h.fx.cleanup();
  }
});

function setup(commands: Partial<ShellRunnerOptions['commands']> = {}, extra: Partial<ShellRunnerOptions> = {}): Harness {
  const fx = new Fixture();
  const first = fx.commit(ALICE, 'First', { 'a.txt': 'a\n' });
  const second = fx.pushCommit(BOB, 'Second', { 'only-here.txt': 'present at the second commit\n' });
  const results: JobResult[] = [];
  const waiters = new Map<number, (r: JobResult) => void>();
  const workRoot = path.join(fx.root, 'runner');
  const runner = createShellRunner({
    commands: { build: 'echo build', deploy: 'echo deploy', ...commands },
    codeHostRepo: fx.bare,
    workRoot,
    log: silentLog,
    killGraceMs: 500,
    onResult: (r) => {
      results.push(r);
      waiters.get(r.jobId)?.(r);
    },
    ...extra,
  });
  const h: Harness = {
    fx,
    runner,
    results,
    first,
    second,
    workRoot,
    result: (jobId, timeoutMs = 20_000) => {
      const done = results.find((r) => r.jobId === jobId);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no result for job ${jobId}`)), timeoutMs);
        waiters.set(jobId, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
    },
  };
  harnesses.push(h);
  return h;
}

let nextJobId = 1;
function job(sha: string, over: Partial<JobRequest> = {}): JobRequest {
  const jobId = nextJobId++;
  return {
    jobId,
    kind: 'build',
    line: 'web',
    train: 7,
    sha,
    branch: 'main',
    engineer: 'alice@example.com',
    conductorUrl: 'http://conductor.test',
    timeoutMinutes: 5,
    idempotencyKey: `job-${jobId}`,
    ...over,
  };
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const jobDirs = (h: Harness): string[] => (existsSync(path.join(h.workRoot, 'jobs')) ? readdirSync(path.join(h.workRoot, 'jobs')) : []);

describe('shell runner', () => {
  it('reads the output a running job has written so far (the Web App follows it); nothing once the result is handed over', async () => {
    const h = setup({ build: 'echo first line; sleep 30' });
    const req = job(h.second);
    expect(await h.runner.liveOutput!(req.jobId, 1024)).toBeNull();
    await h.runner.start(req);
    let out: string | null = null;
    await waitFor(() => {
      void h.runner.liveOutput!(req.jobId, 1024).then((o) => (out = o));
      return out?.includes('first line') ?? false;
    });
    // Only the last bytes asked for, behind a marker.
    expect(await h.runner.liveOutput!(req.jobId, 4)).toMatch(/bytes of earlier output dropped\nine\n$/);
    await h.runner.stop(req.jobId);
    expect(await h.runner.liveOutput!(req.jobId, 1024)).toBeNull();
  });

  it('runs the command in a work tree of the SHA with the job environment', async () => {
    const h = setup({
      build:
        'echo "TRAIN=$TRAIN LINE=$LINE SHA=$SHA BRANCH=$BRANCH ENGINEER=$ENGINEER JOB_KIND=$JOB_KIND CONDUCTOR_URL=$CONDUCTOR_URL"; ' +
        'echo "HEAD=$(git rev-parse HEAD)"; cat only-here.txt',
    });
    const req = job(h.second);

    const t0 = performance.now();
    const handle = await h.runner.start(req);
    const startMs = performance.now() - t0;
    const result = await h.result(req.jobId);
    const totalMs = performance.now() - t0;
    console.log(`[shell runner] start() returned in ${startMs.toFixed(1)} ms; first job (clone cache + checkout + run) reported after ${totalMs.toFixed(0)} ms`);

    expect(handle).toEqual({ externalId: `local-${req.jobId}`, url: null });
    expect(startMs).toBeLessThan(50);
    expect(result).toMatchObject({ jobId: req.jobId, succeeded: true, exitCode: 0, timedOut: false });
    expect(result.output).toContain(`TRAIN=7 LINE=web SHA=${h.second} BRANCH=main ENGINEER=alice@example.com JOB_KIND=build CONDUCTOR_URL=http://conductor.test`);
    expect(result.output).toContain(`HEAD=${h.second}`);
    expect(result.output).toContain('present at the second commit');
    expect(jobDirs(h)).toEqual([]);
  });

  it('checks out exactly the requested SHA (a file from a later commit is absent)', async () => {
    const h = setup({ build: 'git rev-parse HEAD; ls; cat only-here.txt' });
    const req = job(h.first);
    await h.runner.start(req);
    const result = await h.result(req.jobId);
    expect(result.succeeded).toBe(false);
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain(h.first);
    expect(result.output).toContain('a.txt');
    expect(result.output).toMatch(/only-here\.txt: No such file/);
  });

  it('reports a failing exit code, stdout and stderr interleaved', async () => {
    const h = setup({ deploy: 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; exit 3' });
    const req = job(h.second, { kind: 'deploy' });
    await h.runner.start(req);
    const result = await h.result(req.jobId);
    expect(result).toMatchObject({ succeeded: false, exitCode: 3, timedOut: false });
    expect(result.output).toBe('one\ntwo\nthree\n');
  });

  it('runs the deploy command for a rollback unless a rollback command is configured', async () => {
    const h = setup({ build: 'echo B', deploy: 'echo "D $JOB_KIND"' });
    const r1 = job(h.first, { kind: 'rollback' });
    await h.runner.start(r1);
    expect((await h.result(r1.jobId)).output).toBe('D rollback\n');

    const h2 = setup({ deploy: 'echo D', rollback: 'echo R' });
    const r2 = job(h2.first, { kind: 'rollback' });
    await h2.runner.start(r2);
    expect((await h2.result(r2.jobId)).output).toBe('R\n');
  });

  it('times out: kills the whole process group and reports timedOut', async () => {
    const h = setup({ build: 'sleep 30 & echo $! > "$PIDFILE"; wait' });
    const pidFile = path.join(h.fx.root, 'pid');
    process.env.PIDFILE = pidFile;
    try {
      const req = job(h.second, { timeoutMinutes: 0.02 });
      const t0 = Date.now();
      await h.runner.start(req);
      const result = await h.result(req.jobId);
      const elapsed = Date.now() - t0;

      expect(result).toMatchObject({ jobId: req.jobId, succeeded: false, timedOut: true, exitCode: null });
      expect(result.output).toContain('timed out');
      expect(elapsed).toBeGreaterThanOrEqual(1_200);
      expect(elapsed).toBeLessThan(10_000);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      await waitFor(() => processGone(pid), 3_000);
      expect(jobDirs(h)).toEqual([]);
    } finally {
      delete process.env.PIDFILE;
    }
  });

  it('times out a command that ignores SIGTERM (SIGKILL after the grace period)', async () => {
    const h = setup({ build: 'trap "" TERM; echo $$ > "$PIDFILE2"; while true; do sleep 0.1; done' });
    const pidFile = path.join(h.fx.root, 'pid2');
    process.env.PIDFILE2 = pidFile;
    try {
      const req = job(h.second, { timeoutMinutes: 0.01 });
      await h.runner.start(req);
      const result = await h.result(req.jobId);
      expect(result).toMatchObject({ succeeded: false, timedOut: true });
      const pid = Number(readFileSync(pidFile, 'utf8'));
      await waitFor(() => processGone(pid), 3_000);
    } finally {
      delete process.env.PIDFILE2;
    }
  });

  it('stop() kills the job, reports nothing and cleans up', async () => {
    const h = setup({ build: 'echo $$ > "$PIDFILE3"; sleep 30' });
    const pidFile = path.join(h.fx.root, 'pid3');
    process.env.PIDFILE3 = pidFile;
    try {
      const req = job(h.second);
      await h.runner.start(req);
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
      const pid = Number(readFileSync(pidFile, 'utf8'));

      const t0 = Date.now();
      await h.runner.stop(req.jobId);
      expect(Date.now() - t0).toBeLessThan(3_000);
      await waitFor(() => processGone(pid), 3_000);
      expect(jobDirs(h)).toEqual([]);
      await new Promise((r) => setTimeout(r, 200));
      expect(h.results).toEqual([]);

      await h.runner.stop(req.jobId); // no longer running: no-op
      await h.runner.stop(9_999_999);
    } finally {
      delete process.env.PIDFILE3;
    }
  });

  it('keeps only the tail of a large output', async () => {
    const h = setup({ build: "head -c 200000 /dev/zero | tr '\\0' x; echo; echo THE-END" }, { maxOutputBytes: 1024 });
    const req = job(h.second);
    await h.runner.start(req);
    const result = await h.result(req.jobId);
    expect(result.succeeded).toBe(true);
    expect(result.output).toMatch(/^\[conductor\] \d+ bytes of earlier output dropped\n/);
    expect(result.output.endsWith('xxx\nTHE-END\n')).toBe(true);
    const body = result.output.slice(result.output.indexOf('\n') + 1);
    expect(Buffer.byteLength(body)).toBe(1024);
    expect(result.output.length).toBeLessThan(1100);
  });

  it('runs two jobs at once, each in its own work tree', async () => {
    const h = setup({ build: 'sleep 2; echo "at $(git rev-parse HEAD)"; ls' });
    await h.runner.start(job(h.first)); // warm the cache so the timing below is about running
    await h.result(nextJobId - 1);

    const a = job(h.first);
    const b = job(h.second);
    const t0 = Date.now();
    await Promise.all([h.runner.start(a), h.runner.start(b)]);
    const [ra, rb] = await Promise.all([h.result(a.jobId), h.result(b.jobId)]);
    const elapsed = Date.now() - t0;
    console.log(`[shell runner] two 2 s jobs at once finished in ${elapsed} ms`);

    expect(ra.output).toContain(`at ${h.first}`);
    expect(ra.output).not.toContain('only-here.txt');
    expect(rb.output).toContain(`at ${h.second}`);
    expect(rb.output).toContain('only-here.txt');
    expect(elapsed).toBeLessThan(3_900); // one after the other would take over 4 s (margin for a loaded CI machine)
    expect(jobDirs(h)).toEqual([]);
  });

  it('start() is idempotent by jobId while the job runs', async () => {
    const h = setup({ build: 'sleep 0.5; echo once >> "$COUNTFILE"' });
    const countFile = path.join(h.fx.root, 'count');
    process.env.COUNTFILE = countFile;
    try {
      const req = job(h.second);
      const [h1, h2] = await Promise.all([h.runner.start(req), h.runner.start(req)]);
      const h3 = await h.runner.start(req);
      expect(h1).toBe(h2);
      expect(h1).toBe(h3);
      await h.result(req.jobId);
      await new Promise((r) => setTimeout(r, 200));
      expect(h.results.filter((r) => r.jobId === req.jobId)).toHaveLength(1);
      expect(readFileSync(countFile, 'utf8')).toBe('once\n');
    } finally {
      delete process.env.COUNTFILE;
    }
  });

  it('reports a checkout failure as a failed result', async () => {
    const h = setup();
    const unknown = job('0123456789abcdef0123456789abcdef01234567');
    await h.runner.start(unknown);
    const r1 = await h.result(unknown.jobId);
    expect(r1).toMatchObject({ succeeded: false, exitCode: null, timedOut: false });
    expect(r1.output).toContain('could not check out 0123456789abcdef0123456789abcdef01234567');

    const garbage = job('$(rm -rf /)');
    await h.runner.start(garbage);
    expect((await h.result(garbage.jobId)).output).toContain('is not a commit SHA');
  });

  it('reports a command that cannot run as a failure', async () => {
    const h = setup({ build: 'definitely-not-a-command-xyz' });
    const req = job(h.second);
    await h.runner.start(req);
    const result = await h.result(req.jobId);
    expect(result).toMatchObject({ succeeded: false, exitCode: 127 });
    expect(result.output).toContain('not found');
  });

  it('builds commits that only a backup ref still holds, and new pushes', async () => {
    const h = setup({ build: 'git rev-parse HEAD', deploy: 'git rev-parse HEAD' });
    const warm = job(h.second);
    await h.runner.start(warm);
    await h.result(warm.jobId);

    const removed = h.fx.pushCommit(ALICE, 'Removed by an emergency reset', { 'r.txt': 'r\n' });
    git(h.fx.bare, ['update-ref', 'refs/conductor/backup/web/20261124T101500Z', removed]);
    git(h.fx.bare, ['update-ref', 'refs/heads/main', h.second]);
    const r1 = job(removed, { kind: 'rollback' });
    await h.runner.start(r1);
    expect(await h.result(r1.jobId)).toMatchObject({ succeeded: true, output: `${removed}\n` });

    git(h.fx.dev, ['reset', '--quiet', '--hard', h.second]);
    const fresh = h.fx.commit(BOB, 'Fresh', { 'f.txt': 'f\n' });
    h.fx.push(true);
    const r2 = job(fresh.slice(0, 12));
    await h.runner.start(r2);
    expect(await h.result(r2.jobId)).toMatchObject({ succeeded: true, output: `${fresh}\n` });
  });

  it('removes work trees left by a dead process, and keeps those of a live one', async () => {
    const h = setup({ build: 'true' });
    const jobs = path.join(h.workRoot, 'jobs');
    mkdirSync(path.join(jobs, 'p999999-deadbeef-j1-abcdef'), { recursive: true });
    mkdirSync(path.join(jobs, `p${process.ppid}-cafebabe-j2-abcdef`), { recursive: true });
    const req = job(h.second);
    await h.runner.start(req);
    expect(await h.result(req.jobId)).toMatchObject({ succeeded: true });
    expect(jobDirs(h)).toEqual([`p${process.ppid}-cafebabe-j2-abcdef`]);
  });

  it('measures the start latency of a job on a warm cache', async () => {
    const h = setup({ build: 'true' });
    const warm = job(h.second);
    await h.runner.start(warm);
    await h.result(warm.jobId);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const req = job(h.second);
      const t0 = performance.now();
      await h.runner.start(req);
      await h.result(req.jobId);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`[shell runner] warm job 'true', start() to result: median ${times[2]?.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join('/')})`);
    expect(times[2]).toBeLessThan(2_000);
  });

  // close() leaving jobs running for the next process, and that process adopting them: shell-runner-adopt.test.ts.
});
