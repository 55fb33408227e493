// Real commit chains for the GitHub webhook benchmark, made at once with
// `git fast-import` in one bare repository: one branch per line, each with a
// root commit, and `count` commits after it kept under `refs/bench/<branch>`
// (not fetched by Conductor). The branch itself stays at the root; the
// benchmark moves it forward (`advance`) just before it sends the push webhook
// of a commit, as GitHub's branch moves before the delivery. So the fetch that
// Conductor falls back to for an out-of-order delivery sees the real branch.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { git } from './git.js';

export interface ChainCommit {
  sha: string;
  authorName: string;
  authorEmail: string;
  message: string;
}

export interface Chain {
  branch: string;
  root: string;
  commits: ChainCommit[];
}

export interface ChainSpec {
  branch: string;
  count: number;
  author(i: number): { name: string; email: string };
  message(i: number): string;
}

export interface ChainRepo {
  bare: string;
  chains: Map<string, Chain>;
  /** Points `refs/heads/<branch>` at `sha` (a loose ref, written atomically; no git process). */
  advance(branch: string, sha: string): void;
}

export async function createChains(dir: string, specs: ChainSpec[]): Promise<ChainRepo> {
  const bare = path.join(dir, 'chains.git');
  fs.mkdirSync(bare, { recursive: true });
  await git(bare, ['init', '--quiet', '--bare', '--initial-branch=main']);
  await git(bare, ['config', 'gc.auto', '0']);

  const marks = path.join(dir, 'marks');
  const parts: string[] = [];
  let mark = 0;
  let when = 1_767_000_000;
  const markOf: { branch: string; root: number; commits: number[] }[] = [];
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  for (const spec of specs) {
    const root = ++mark;
    parts.push(`commit refs/heads/${spec.branch}\nmark :${root}\ncommitter Seed <seed@example.com> ${when++} +0000\n${data(`Root of ${spec.branch}`)}\n`);
    const commits: number[] = [];
    let prev = root;
    for (let i = 0; i < spec.count; i++) {
      const m = ++mark;
      const a = spec.author(i);
      const ref = `refs/bench/${spec.branch}`;
      parts.push(`commit ${ref}\nmark :${m}\nauthor ${a.name} <${a.email}> ${when} +0000\ncommitter ${a.name} <${a.email}> ${when++} +0000\n${data(spec.message(i))}from :${prev}\n\n`);
      commits.push(m);
      prev = m;
    }
    markOf.push({ branch: spec.branch, root, commits });
  }
  await new Promise<void>((resolve, reject) => {
    const p = spawn('git', ['fast-import', '--quiet', `--export-marks=${marks}`], { cwd: bare, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}: ${err}`))));
    p.stdin.end(parts.join(''));
  });
  const shaOf = new Map<number, string>();
  for (const l of fs.readFileSync(marks, 'utf8').split('\n')) {
    const m = /^:(\d+) ([0-9a-f]{40})$/.exec(l);
    if (m) shaOf.set(Number(m[1]), m[2]!);
  }
  const chains = new Map<string, Chain>();
  specs.forEach((spec, k) => {
    const mk = markOf[k]!;
    chains.set(spec.branch, {
      branch: spec.branch,
      root: shaOf.get(mk.root)!,
      commits: mk.commits.map((m, i) => {
        const a = spec.author(i);
        return { sha: shaOf.get(m)!, authorName: a.name, authorEmail: a.email, message: spec.message(i) };
      }),
    });
  });
  // HEAD of the bare repository: a branch that exists.
  await git(bare, ['symbolic-ref', 'HEAD', `refs/heads/${specs[0]!.branch}`]);
  return {
    bare,
    chains,
    advance(branch, sha) {
      const file = path.join(bare, 'refs', 'heads', branch);
      const tmp = `${file}.bench-tmp`;
      fs.writeFileSync(tmp, `${sha}\n`);
      fs.renameSync(tmp, file);
    },
  };
}
