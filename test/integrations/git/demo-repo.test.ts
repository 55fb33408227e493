import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_BRANCH, ensureDemoRepository } from '../../../src/integrations/git/demo-repo.js';
import { createLocalCodeHost } from '../../../src/integrations/git/local-code-host.js';
import { git, silentLog, tempDir } from './git-fixtures.js';

const root = tempDir('conductor-demo-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ensureDemoRepository', () => {
  it('creates a bare repository with a short history by two authors, once', async () => {
    const bare = path.join(root, 'data', 'demo.git');

    expect(await ensureDemoRepository(bare, silentLog)).toEqual({ created: true });

    expect(git(bare, ['rev-parse', '--is-bare-repository'])).toBe('true');
    expect(git(bare, ['symbolic-ref', 'HEAD'])).toBe(`refs/heads/${DEMO_BRANCH}`);
    const log = git(bare, ['log', '--reverse', '--format=%an <%ae>|%s', DEMO_BRANCH]).split('\n');
    expect(log).toHaveLength(4);
    expect(new Set(log.map((l) => l.split('|')[0]))).toEqual(new Set(['Alice <alice@example.com>', 'Bob <bob@example.com>']));
    expect(log[0]).toBe('Alice <alice@example.com>|Add README');
    expect(git(bare, ['ls-tree', '--name-only', DEMO_BRANCH]).split('\n').sort()).toEqual(['README.md', 'app.js', 'build.sh']);
    expect(git(bare, ['show', `${DEMO_BRANCH}:app.js`])).toContain('Hello, ${name}!');
    // Nothing left next to it.
    expect(readdirSync(path.dirname(bare))).toEqual(['demo.git']);

    const head = git(bare, ['rev-parse', DEMO_BRANCH]);
    expect(await ensureDemoRepository(bare, silentLog)).toEqual({ created: false });
    expect(git(bare, ['rev-parse', DEMO_BRANCH])).toBe(head);

    // A line can run on it.
    const host = createLocalCodeHost({ repo: bare, branch: DEMO_BRANCH, workDir: path.join(root, 'clone'), lineName: 'demo', log: silentLog });
    expect(await host.head()).toBe(head);
  });

  it('fills an existing empty directory and leaves a non-empty one alone', async () => {
    const empty = path.join(root, 'empty.git');
    mkdirSync(empty);
    expect(await ensureDemoRepository(empty, silentLog)).toEqual({ created: true });
    expect(git(empty, ['rev-list', '--count', DEMO_BRANCH])).toBe('4');

    const occupied = path.join(root, 'occupied');
    mkdirSync(occupied);
    writeFileSync(path.join(occupied, 'keep.txt'), 'mine');
    expect(await ensureDemoRepository(occupied, silentLog)).toEqual({ created: false });
    expect(readdirSync(occupied)).toEqual(['keep.txt']);
  });

  it('two concurrent calls create it once', async () => {
    const bare = path.join(root, 'race.git');
    const results = await Promise.all([ensureDemoRepository(bare, silentLog), ensureDemoRepository(bare, silentLog)]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(git(bare, ['rev-list', '--count', DEMO_BRANCH])).toBe('4');
    expect(readdirSync(root).filter((n) => n.startsWith('race.git.'))).toEqual([]);
  });
});
