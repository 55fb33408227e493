// A throwaway bare repository and a clone that pushes to it, with plain git.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const GIT_ENV: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' };
delete GIT_ENV.GIT_AUTHOR_DATE;
delete GIT_ENV.GIT_COMMITTER_DATE;

export async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

export interface Pusher {
  bare: string;
  /** Commits (empty commits, so no file churn) by `author` and pushes them; returns the new SHAs. */
  push(author: { name: string; email: string }, messages: string[]): Promise<string[]>;
}

/** `<dir>/repo.git` (bare, branch main, one initial commit) and `<dir>/pusher` (a clone to push from). */
export async function createRepository(dir: string, branch = 'main'): Promise<Pusher> {
  const bare = path.join(dir, 'repo.git');
  const work = path.join(dir, 'pusher');
  await fs.mkdir(bare, { recursive: true });
  await git(bare, ['init', '--quiet', '--bare', `--initial-branch=${branch}`]);
  await fs.mkdir(work, { recursive: true });
  await git(work, ['init', '--quiet', `--initial-branch=${branch}`]);
  await git(work, ['config', 'user.name', 'Seed']);
  await git(work, ['config', 'user.email', 'seed@example.com']);
  await fs.writeFile(path.join(work, 'README.md'), '# bench\n');
  await git(work, ['add', 'README.md']);
  await git(work, ['commit', '--quiet', '--no-verify', '-m', 'Initial commit']);
  await git(work, ['remote', 'add', 'origin', bare]);
  await git(work, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
  return {
    bare,
    async push(author, messages) {
      const shas: string[] = [];
      for (const m of messages) {
        await git(work, ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, 'commit', '--quiet', '--no-verify', '--allow-empty', '-m', m]);
        shas.push(await git(work, ['rev-parse', 'HEAD']));
      }
      await git(work, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
      return shas;
    },
  };
}
