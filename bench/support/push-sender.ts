// The GitHub side of the webhook benchmark, in its own process (as GitHub is
// another machine): the sends, the branch moves that precede them and the
// timing are not charged to Conductor's event loop. Started by
// `sendPushes` below with `fork`; the job comes as a JSON file, the result
// goes back over IPC.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeepAlivePoster } from './http-poster.js';

export interface SenderJob {
  /** Conductor's base URL. */
  url: string;
  /** Bare repository whose branches are moved before each delivery (when `advance`). */
  bare: string;
  chains: { branch: string; pushes: { body: string; headers: Record<string, string>; sha: string }[] }[];
  /** Deliveries in flight per chain; they are sent in chain order. */
  inFlight: number;
  /** Send for this long from the first send (the child's start-up is not counted)… */
  durationMs: number;
  /** …but stop at this wall-clock time (ms since the epoch) whatever. */
  deadline: number;
  /**
   * Move the branch to each commit just before its delivery (as GitHub's branch
   * moves before it delivers), so that a git fetch Conductor falls back to sees
   * the real branch. Without it, the branch is moved once at the end.
   */
  advance: boolean;
}

export interface SenderResult {
  /** Per delivery: request → whole answer, ms. */
  samples: number[];
  /** Per delivery: when its answer was read, ms since the first send. */
  doneAt: number[];
  errors: string[];
  /** Deliveries sent per branch (each chain's first n). */
  sent: Record<string, number>;
  seconds: number;
}

function moveBranch(bare: string, branch: string, sha: string): void {
  const file = path.join(bare, 'refs', 'heads', branch);
  const tmp = `${file}.bench-tmp`;
  fs.writeFileSync(tmp, `${sha}\n`);
  fs.renameSync(tmp, file);
}

async function runJob(job: SenderJob): Promise<SenderResult> {
  const poster = new KeepAlivePoster(job.url, '/webhooks/github', 15_000);
  const samples: number[] = [];
  const doneAt: number[] = [];
  const errors: string[] = [];
  const sent: Record<string, number> = {};
  const until = Math.min(Date.now() + job.durationMs, job.deadline);
  const t0 = performance.now();
  const workers: Promise<void>[] = [];
  for (const ch of job.chains) {
    sent[ch.branch] = 0;
    let next = 0;
    const worker = async () => {
      while (next < ch.pushes.length && Date.now() < until) {
        const i = next++;
        const p = ch.pushes[i]!;
        // Synchronous, so the refs move in chain order.
        if (job.advance) moveBranch(job.bare, ch.branch, p.sha);
        sent[ch.branch] = Math.max(sent[ch.branch]!, i + 1);
        try {
          const r = await poster.post({ body: Buffer.from(p.body, 'utf8'), headers: p.headers });
          if (r.status !== 200) errors.push(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
          samples.push(r.ms);
          doneAt.push(performance.now() - t0);
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    };
    for (let k = 0; k < job.inFlight; k++) workers.push(worker());
  }
  await Promise.all(workers);
  const seconds = (performance.now() - t0) / 1000;
  for (const ch of job.chains) if (sent[ch.branch]! > 0) moveBranch(job.bare, ch.branch, ch.pushes[sent[ch.branch]! - 1]!.sha);
  poster.close();
  return { samples, doneAt, errors, sent, seconds };
}

/** Runs `job` in a child process and returns what it measured. */
export async function sendPushes(job: SenderJob, scratchDir: string): Promise<SenderResult> {
  const file = path.join(scratchDir, `sender-${process.pid}-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(job));
  const child = fork(fileURLToPath(import.meta.url), [file], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    return await new Promise<SenderResult>((resolve, reject) => {
      child.once('message', (m) => resolve(m as SenderResult));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the push sender exited with ${code} before answering`)));
    });
  } finally {
    child.kill();
    fs.rmSync(file, { force: true });
  }
}

// Child side.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const job = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as SenderJob;
  runJob(job).then(
    (r) => process.send!(r, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`push sender: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
