/**
 * behaviour.md §9: a local job outlives the Conductor that started it, and its outcome
 * is never lost or guessed: a restarted Conductor adopts a job still running,
 * reports one that finished meanwhile, reports `unknown` for one that left no
 * exit status, and never runs a job a second time because a start was retried.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildRunner, JobRequest, JobResult, RunningJob } from '../../../src/engine/ports/build-runner.js';
import { createShellRunner } from '../../../src/integrations/runner/shell-runner.js';
import { ALICE, BOB, Fixture, killLeftoverJobs, processGone, silentLog } from '../git/git-fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CHILD = path.join(ROOT, 'test/support/shell-runner-child.ts');

interface Setup {
  fx: Fixture;
  sha: string;
  workRoot: string;
  /** Counts the command's runs: one line per start of the command. */
  runs: string;
  marker: string;
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(): Setup {
  const fx = new Fixture();
  fx.commit(ALICE, 'First', { 'a.txt': 'a\n' });
  const sha = fx.pushCommit(BOB, 'Second', { 'b.txt': 'b\n' });
  const workRoot = path.join(fx.root, 'runner');
  const s = { fx, sha, workRoot, runs: path.join(fx.root, 'runs.log'), marker: path.join(fx.root, 'marker') };
  cleanups.push(() => {
    killLeftoverJobs(workRoot);
    fx.cleanup();
  });
  return s;
}

/** A runner as a restarted Conductor makes it, with its results collected. */
function runner(s: Setup, command: string): { runner: BuildRunner; result: (jobId: number) => Promise<JobResult>; results: JobResult[] } {
  const results: JobResult[] = [];
  const r = createShellRunner({
    commands: { build: command, deploy: command, rollback: command },
    codeHostRepo: s.fx.bare,
    workRoot: s.workRoot,
    log: silentLog,
    killGraceMs: 300,
    onResult: (x) => {
      results.push(x);
    },
  });
  cleanups.push(() => r.close());
  const result = async (jobId: number): Promise<JobResult> => {
    await waitFor(() => results.some((x) => x.jobId === jobId), 20_000);
    return results.find((x) => x.jobId === jobId)!;
  };
  return { runner: r, result, results };
}

let nextId = 100;
function request(s: Setup, over: Partial<JobRequest> = {}): JobRequest {
  const jobId = nextId++;
  return {
    jobId,
    kind: 'deploy',
    line: 'web',
    train: 3,
    sha: s.sha,
    branch: 'main',
    engineer: ALICE.email,
    conductorUrl: 'http://conductor.test',
    timeoutMinutes: 5,
    idempotencyKey: `k${jobId}`,
    ...over,
  };
}

const running = (req: JobRequest, timeoutAt: Date | null = null): RunningJob => ({
  jobId: req.jobId,
  kind: req.kind,
  externalId: `local-${req.jobId}`,
  url: null,
  startedAt: new Date(),
  timeoutAt,
});

/** The command of a deploy that takes a while: it counts its runs, says it started, then finishes with exit code 3. */
const slowDeploy = (s: Setup, seconds = 1): string => `echo run >> "${s.runs}"; echo "deploying $SHA"; touch "${s.marker}"; sleep ${seconds}; echo "deployed"; exit 3`;

/** Starts a Conductor-like child process with one job, waits until the job runs, then kills the child with SIGKILL. */
async function startThenKill9(s: Setup, command: string, req: JobRequest): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ workRoot: s.workRoot, repo: s.fx.bare, command, request: req })], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  await waitFor(() => existsSync(s.marker), 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; child said: ${out}`);
  });
  child.kill('SIGKILL');
  await exited;
  expect(out).not.toContain('result');
}

describe('shell runner: jobs outlive their Conductor (behaviour.md §9)', () => {
  it('kill -9 during a deploy: the deploy goes on, and the next Conductor adopts it and reports its real result, once', async () => {
    const s = setup();
    const req = request(s);
    await startThenKill9(s, slowDeploy(s, 1), req);

    const next = runner(s, 'echo must-not-run >> "' + s.runs + '"');
    await next.runner.resume!([running(req)]);
    const result = await next.result(req.jobId);
    expect(result).toMatchObject({ jobId: req.jobId, succeeded: false, exitCode: 3, timedOut: false });
    expect(result.unknown).toBeUndefined();
    expect(result.output).toContain(`deploying ${s.sha}`);
    expect(result.output).toContain('deployed');
    expect(readFileSync(s.runs, 'utf8')).toBe('run\n'); // ran once, by the first process only
    await waitFor(() => !existsSync(path.join(s.workRoot, 'runs', String(req.jobId))), 5_000);
    expect(next.results).toHaveLength(1);
  });

  it('a job that finished while no Conductor was running is reported from its record', async () => {
    const s = setup();
    const req = request(s);
    await startThenKill9(s, `echo run >> "${s.runs}"; touch "${s.marker}"; echo all good`, req);
    await waitFor(() => existsSync(path.join(s.workRoot, 'runs', String(req.jobId), 'exit')), 10_000);

    const next = runner(s, 'false');
    await next.runner.resume!([running(req)]);
    expect(await next.result(req.jobId)).toMatchObject({ succeeded: true, exitCode: 0, output: expect.stringContaining('all good') });
    expect(readFileSync(s.runs, 'utf8')).toBe('run\n');
  });

  it('a retried start of a job an earlier process spawned adopts it instead of running it again', async () => {
    const s = setup();
    const req = request(s);
    // The crash came after the spawn and before Conductor recorded the job as running:
    // the outbox delivers the same job.start again, to the new process.
    await startThenKill9(s, slowDeploy(s, 1), req);
    const next = runner(s, slowDeploy(s, 1));
    const handle = await next.runner.start(req);
    expect(handle).toEqual({ externalId: `local-${req.jobId}`, url: null });
    expect(await next.result(req.jobId)).toMatchObject({ exitCode: 3 });
    expect(readFileSync(s.runs, 'utf8')).toBe('run\n');
  });

  it('a job that left no exit status (killed with its wrapper) is reported as unknown, never run again', async () => {
    const s = setup();
    const req = request(s);
    await startThenKill9(s, slowDeploy(s, 30), req);
    // What a reboot or the OOM killer does: the whole job is gone, with no exit status.
    const meta = JSON.parse(readFileSync(path.join(s.workRoot, 'runs', String(req.jobId), 'meta.json'), 'utf8')) as { pid: number };
    process.kill(-meta.pid, 'SIGKILL');
    await waitFor(() => processGone(meta.pid), 5_000);

    const next = runner(s, slowDeploy(s, 1));
    await next.runner.resume!([running(req)]);
    const result = await next.result(req.jobId);
    expect(result).toMatchObject({ succeeded: false, unknown: true, exitCode: null });
    expect(result.output).toContain('outcome is unknown');
    expect(readFileSync(s.runs, 'utf8')).toBe('run\n');
  });

  it('an adopted job still obeys its original deadline', async () => {
    const s = setup();
    const req = request(s);
    await startThenKill9(s, slowDeploy(s, 60), req);
    const meta = JSON.parse(readFileSync(path.join(s.workRoot, 'runs', String(req.jobId), 'meta.json'), 'utf8')) as { pid: number };
    const next = runner(s, 'true');
    const t0 = Date.now();
    await next.runner.resume!([running(req, new Date(Date.now() + 500))]);
    const result = await next.result(req.jobId);
    expect(result).toMatchObject({ succeeded: false, timedOut: true });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(result.output).toContain('timed out');
    await waitFor(() => processGone(meta.pid), 5_000);
  });

  it('close() (Conductor stopping) leaves the job running and reports nothing; the next process reports it', async () => {
    const s = setup();
    const first = runner(s, slowDeploy(s, 1));
    const req = request(s);
    await first.runner.start(req);
    await waitFor(() => existsSync(s.marker), 20_000);
    await first.runner.close();
    await expect(first.runner.start(request(s))).rejects.toThrow(/closed/);

    const second = runner(s, 'true');
    await second.runner.resume!([running(req)]);
    expect(await second.result(req.jobId)).toMatchObject({ exitCode: 3, output: expect.stringContaining('deployed') });
    expect(first.results).toEqual([]);
    expect(readFileSync(s.runs, 'utf8')).toBe('run\n');
  });

  it('a result the engine could not record (Conductor stopping, database away) stays on disk and is reported by the next process', async () => {
    const s = setup();
    const req = request(s);
    let tried = 0;
    const first = createShellRunner({
      commands: { build: 'true', deploy: slowDeploy(s, 0), rollback: 'true' },
      codeHostRepo: s.fx.bare,
      workRoot: s.workRoot,
      log: silentLog,
      onResult: async () => {
        tried++;
        throw new Error('stopping before the result was recorded');
      },
    });
    cleanups.push(() => first.close());
    await first.start(req);
    await waitFor(() => tried === 1, 20_000);
    await first.close();
    expect(existsSync(path.join(s.workRoot, 'runs', String(req.jobId), 'exit'))).toBe(true);

    const next = runner(s, 'true');
    await next.runner.resume!([running(req)]);
    expect(await next.result(req.jobId)).toMatchObject({ exitCode: 3, output: expect.stringContaining('deployed') });
    expect(readFileSync(s.runs, 'utf8')).toBe('run\n');
  });

  it('stop() reaches a job started by an earlier process (derail after a restart)', async () => {
    const s = setup();
    const req = request(s);
    await startThenKill9(s, slowDeploy(s, 60), req);
    const meta = JSON.parse(readFileSync(path.join(s.workRoot, 'runs', String(req.jobId), 'meta.json'), 'utf8')) as { pid: number };
    const next = runner(s, 'true');
    await next.runner.stop(req.jobId);
    await waitFor(() => processGone(meta.pid), 5_000);
    expect(next.results).toEqual([]);
    expect(existsSync(path.join(s.workRoot, 'runs', String(req.jobId)))).toBe(false);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
