import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CodeHost } from '../../../src/engine/ports/code-host.js';
import { createLocalCodeHost } from '../../../src/integrations/git/local-code-host.js';
import { BOB, bigRepository, commitOnRemote, git, silentLog, tempDir } from './git-fixtures.js';

/** newCommits must cost the same on a long history as on a short one: it only walks the new commits. */

const BIG = 20_000;
const ROUNDS = 5;
const root = tempDir('conductor-cost-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function timeOneNewCommit(bare: string, host: CodeHost): Promise<number[]> {
  const times: number[] = [];
  let since = await host.head(); // clone and warm up outside the measurement
  for (let i = 0; i < ROUNDS; i++) {
    const sha = commitOnRemote(bare, BOB, `New commit ${i}`);
    const t0 = performance.now();
    const result = await host.newCommits(since);
    times.push(performance.now() - t0);
    expect(result).toMatchObject({ headSha: sha, rewritten: false });
    expect(result.commits.map((c) => c.sha)).toEqual([sha]);
    since = sha;
  }
  return times;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe('newCommits cost', () => {
  it(`finds one new commit as fast on ${BIG.toLocaleString('en')} commits of history as on 5`, { timeout: 120_000 }, async () => {
    const small = path.join(root, 'small.git');
    const big = path.join(root, 'big.git');
    let t0 = performance.now();
    bigRepository(small, 5);
    bigRepository(big, BIG);
    const buildMs = performance.now() - t0;
    expect(git(big, ['rev-list', '--count', 'main'])).toBe(String(BIG));

    const smallHost = createLocalCodeHost({ repo: small, branch: 'main', workDir: path.join(root, 'small-clone'), lineName: 'small', log: silentLog });
    const bigHost = createLocalCodeHost({ repo: big, branch: 'main', workDir: path.join(root, 'big-clone'), lineName: 'big', log: silentLog });
    t0 = performance.now();
    await bigHost.head();
    const cloneMs = performance.now() - t0;

    const smallTimes = await timeOneNewCommit(small, smallHost);
    const bigTimes = await timeOneNewCommit(big, bigHost);

    // Also the first poll after many pushes: cost follows the number of new commits.
    let since = await bigHost.head();
    for (let i = 0; i < 50; i++) commitOnRemote(big, BOB, `Batch ${i}`);
    t0 = performance.now();
    const batch = await bigHost.newCommits(since);
    const batchMs = performance.now() - t0;
    expect(batch.commits).toHaveLength(50);
    since = batch.headSha;

    console.log(
      `[newCommits cost] fast-import of ${BIG} commits ${buildMs.toFixed(0)} ms, first clone ${cloneMs.toFixed(0)} ms; ` +
        `one new commit: median ${median(smallTimes).toFixed(1)} ms on 5 commits (${smallTimes.map((t) => t.toFixed(0)).join('/')}), ` +
        `median ${median(bigTimes).toFixed(1)} ms on ${BIG} commits (${bigTimes.map((t) => t.toFixed(0)).join('/')}); ` +
        `50 new commits on ${BIG}: ${batchMs.toFixed(0)} ms`,
    );
    expect(median(bigTimes)).toBeLessThan(2_000);
    // "About as fast": within a constant factor of the small repository (plus slack for a busy CI machine);
    // a cost that grew with history would be hundreds of times slower on 20,000 commits.
    expect(median(bigTimes)).toBeLessThan(median(smallTimes) * 5 + 300);
  });
});
