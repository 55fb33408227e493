import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { makeTempDirSync } from '../../support/temp-dirs.js';

/** Real git repositories in temp directories: a bare remote and a developer clone that pushes to it. */

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface Person {
  name: string;
  email: string;
}
export const ALICE: Person = { name: 'Alice Archer', email: 'alice@example.com' };
export const BOB: Person = { name: 'Bob Baker', email: 'bob@example.com' };
export const CAROL: Person = { name: 'Carol Cook', email: 'carol@example.com' };

/** The environment for test-side git: no ambient config, a fixed identity. */
function gitEnv(who: Person = ALICE): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
    GIT_TERMINAL_PROMPT: '0',
  };
}

export function git(cwd: string, args: string[], opts: { who?: Person; input?: string | Buffer } = {}): string {
  return execFileSync('git', args, {
    cwd,
    env: gitEnv(opts.who),
    encoding: 'utf8',
    input: opts.input,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim();
}

export function tempDir(prefix = 'conductor-git-test-'): string {
  return makeTempDirSync(prefix);
}

export class Fixture {
  readonly root: string;
  readonly bare: string;
  readonly dev: string;

  constructor(readonly branch = 'main') {
    this.root = tempDir();
    this.bare = path.join(this.root, 'remote.git');
    this.dev = path.join(this.root, 'dev');
    mkdirSync(this.bare);
    git(this.bare, ['init', '--quiet', '--bare', `--initial-branch=${branch}`]);
    git(this.root, ['clone', '--quiet', this.bare, this.dev]);
    git(this.dev, ['checkout', '--quiet', '-B', branch]);
  }

  /** A commit in the developer clone (not pushed). */
  commit(who: Person, message: string, files: Record<string, string> = {}): string {
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(this.dev, file)), { recursive: true });
      writeFileSync(path.join(this.dev, file), content);
    }
    git(this.dev, ['add', '--all']);
    git(this.dev, ['commit', '--quiet', '--allow-empty', '-m', message], { who });
    return this.sha('HEAD');
  }

  push(force = false): void {
    git(this.dev, ['push', '--quiet', ...(force ? ['--force'] : []), 'origin', `HEAD:refs/heads/${this.branch}`]);
  }

  /** Commit and push. */
  pushCommit(who: Person, message: string, files: Record<string, string> = {}): string {
    const sha = this.commit(who, message, files);
    this.push();
    return sha;
  }

  pull(): void {
    git(this.dev, ['fetch', '--quiet', 'origin']);
    git(this.dev, ['reset', '--quiet', '--hard', `origin/${this.branch}`]);
  }

  sha(rev: string): string {
    return git(this.dev, ['rev-parse', rev]);
  }

  remoteHead(): string {
    return git(this.bare, ['rev-parse', `refs/heads/${this.branch}`]);
  }

  remoteRef(ref: string): string | null {
    try {
      return git(this.bare, ['rev-parse', '--verify', '--quiet', ref]) || null;
    } catch {
      return null;
    }
  }

  remoteFile(file: string, rev = `refs/heads/${this.branch}`): string | null {
    try {
      return git(this.bare, ['show', `${rev}:${file}`]);
    } catch {
      return null;
    }
  }

  workDir(name = 'conductor-clone'): string {
    return path.join(this.root, name);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * A bare repository with `count` linear commits on `main`, written by
 * `git fast-import` (20,000 commits take about a second). Each commit rewrites
 * one file, so trees and blobs are real.
 */
export function bigRepository(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main']);
  const parts: string[] = [];
  const t0 = 1_700_000_000;
  for (let i = 1; i <= count; i++) {
    const who = i % 2 ? ALICE : BOB;
    const msg = `Change number ${i}\n`;
    const content = `version ${i}\n`;
    parts.push(
      `commit refs/heads/main\nmark :${i}\n` +
        `author ${who.name} <${who.email}> ${t0 + i} +0000\n` +
        `committer ${who.name} <${who.email}> ${t0 + i} +0000\n` +
        `data ${Buffer.byteLength(msg)}\n${msg}` +
        (i > 1 ? `from :${i - 1}\n` : '') +
        `M 644 inline file.txt\ndata ${Buffer.byteLength(content)}\n${content}\n`,
    );
  }
  git(dir, ['fast-import', '--quiet'], { input: parts.join('') });
}

/** A new commit on the bare remote's branch, made with plumbing (no clone needed). */
export function commitOnRemote(bare: string, who: Person, message: string, branch = 'main'): string {
  const head = git(bare, ['rev-parse', `refs/heads/${branch}`]);
  const tree = git(bare, ['rev-parse', `${head}^{tree}`]);
  const sha = git(bare, ['commit-tree', tree, '-p', head, '-m', message], { who });
  git(bare, ['update-ref', `refs/heads/${branch}`, sha, head]);
  return sha;
}

/** Is the process gone (no such pid, or a zombie waiting to be reaped)? */
export function processGone(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    const text = readFileSync(stat, 'utf8');
    const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** Local jobs a test left running (the shell runner's close() leaves them on purpose) are killed with their process group. */
export function killLeftoverJobs(workRoot: string): void {
  const runs = path.join(workRoot, 'runs');
  if (!existsSync(runs)) return;
  for (const id of readdirSync(runs)) {
    try {
      const { pid } = JSON.parse(readFileSync(path.join(runs, id, 'meta.json'), 'utf8')) as { pid: number | null };
      if (pid) process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
