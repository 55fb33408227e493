import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { createGit } from './git.js';

/**
 * The repository of the demo line (no config file): a bare repository with a
 * short history by two authors, so that a fresh Conductor has something to show.
 * The repository is built next to `bareDir` and renamed into place, so a crash
 * half-way never leaves a half-seeded repository that would then count as
 * existing.
 */

export const DEMO_BRANCH = 'main';

const AUTHORS = {
  alice: { name: 'Alice', email: 'alice@example.com' },
  bob: { name: 'Bob', email: 'bob@example.com' },
};

const HISTORY: { author: keyof typeof AUTHORS; message: string; files: Record<string, string> }[] = [
  {
    author: 'alice',
    message: 'Add README',
    files: { 'README.md': '# Demo app\n\nA tiny app that rides Conductor release trains.\n' },
  },
  {
    author: 'bob',
    message: 'Add the app',
    files: { 'app.js': "function greet() {\n  return 'Hello';\n}\n\nmodule.exports = { greet };\n" },
  },
  {
    author: 'alice',
    message: 'Greet by name',
    files: { 'app.js': "function greet(name = 'world') {\n  return `Hello, ${name}!`;\n}\n\nmodule.exports = { greet };\n" },
  },
  {
    author: 'bob',
    message: 'Add a build script',
    files: { 'build.sh': '#!/bin/sh\nset -e\nnode -e "console.log(require(\'./app.js\').greet())"\n' },
  },
];

export async function ensureDemoRepository(bareDir: string, log: Logger): Promise<{ created: boolean }> {
  const target = path.resolve(bareDir);
  const entries = await fs.readdir(target).catch(() => null);
  if (entries && entries.length > 0) return { created: false };

  await fs.mkdir(path.dirname(target), { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const tmpBare = `${target}.creating-${suffix}`;
  const seed = await fs.mkdtemp(path.join(os.tmpdir(), 'conductor-demo-seed-'));
  try {
    await fs.mkdir(tmpBare);
    await createGit(tmpBare).raw(['init', '--bare', `--initial-branch=${DEMO_BRANCH}`]);
    const git = createGit(seed);
    await git.raw(['init', `--initial-branch=${DEMO_BRANCH}`]);
    for (const step of HISTORY) {
      const author = AUTHORS[step.author];
      for (const [file, content] of Object.entries(step.files)) {
        await fs.writeFile(path.join(seed, file), content, { mode: file.endsWith('.sh') ? 0o755 : 0o644 });
      }
      // Commands that print: simple-git pauses 50 ms after a silent one.
      await git.raw(['add', '--verbose', '--', ...Object.keys(step.files)]);
      await git.raw(['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, 'commit', '--no-verify', '-m', step.message]);
    }
    await git.raw(['push', tmpBare, `HEAD:refs/heads/${DEMO_BRANCH}`]);
    if (entries) await fs.rmdir(target); // an empty directory was there
    await fs.rename(tmpBare, target);
  } catch (err) {
    await fs.rm(tmpBare, { recursive: true, force: true });
    if (await isBareRepo(target)) return { created: false }; // someone else won the race
    throw err;
  } finally {
    await fs.rm(seed, { recursive: true, force: true });
  }
  log.info({ repo: target, commits: HISTORY.length }, 'created the demo repository');
  return { created: true };
}

async function isBareRepo(dir: string): Promise<boolean> {
  try {
    await fs.access(path.join(dir, 'HEAD'));
    return true;
  } catch {
    return false;
  }
}
