/** behaviour.md §8: culprit finding — the search's plan, its bound, its answers, and what ends it. */
import { describe, expect, it } from 'vitest';
import {
  type Bisect,
  type BisectPolicy,
  derail,
  extend,
  extendWithRevert,
  type Job,
  jobFinished,
  jobStarted,
  maxBuilds,
  probes,
  REVERT_NOT_LANDED,
  retry,
  revertAndExtend,
  SYSTEM_ACTOR,
  setMode,
} from '../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, announcements, BOB, CAROL, dmsTo, effectsOf, ok, ROBOT, Sim } from '../support/domain-builders.js';

const AUTHORS = [ALICE, BOB, CAROL];

/** A train of `n` commits whose build failed, on a line with the search on. */
function failedTrain(n: number, policy: BisectPolicy = { enabled: true, parallel: 2 }): Sim {
  const sim = new Sim(aLine({ settings: { bisect: policy } }));
  const commits = Array.from({ length: n }, (_, i) => aCommit(`c${String(i).padStart(3, '0')}`, AUTHORS[i % AUTHORS.length]!, `Change number ${i}`));
  ok(sim.push(...commits));
  sim.failBuild(1);
  return sim;
}

const bisectOf = (sim: Sim): Bisect => {
  const b = sim.train(1).bisect;
  if (!b) throw new Error('no search on train #1');
  return b;
};
const openBisectJobs = (sim: Sim): Job[] => sim.train(1).jobs.filter((j) => j.kind === 'bisect' && (j.state === 'queued' || j.state === 'running'));

/**
 * Runs the search to its end: every open build is started, then they finish in
 * the given order (`oldestFirst` or newest first), each failing when `fails(sha)`.
 * Returns the most builds that were open at once.
 */
function runSearch(sim: Sim, fails: (sha: string, attempt: number) => boolean, order: 'oldestFirst' | 'newestFirst' = 'oldestFirst'): number {
  let most = 0;
  for (let guard = 0; guard < 100 && bisectOf(sim).state === 'running'; guard++) {
    const open = openBisectJobs(sim);
    most = Math.max(most, open.length);
    if (open.length === 0) throw new Error('the search is running but has no build');
    for (const j of open) if (j.state === 'queued') ok(sim.as(SYSTEM_ACTOR, jobStarted, { train: 1, kind: 'bisect', attempt: j.attempt }, `b-${j.attempt}`, null));
    const finishing = order === 'oldestFirst' ? open : [...open].reverse();
    for (const j of finishing) ok(sim.as(SYSTEM_ACTOR, jobFinished, { train: 1, kind: 'bisect', attempt: j.attempt }, !fails(j.sha, j.attempt), 'out'));
  }
  return most;
}

describe('the plan', () => {
  it('the bound is ⌈log₂ n⌉ + 2', () => {
    expect([2, 3, 8, 33, 128].map(maxBuilds)).toEqual([3, 4, 5, 8, 9]);
  });

  it('splits into parts that plain bisection can still finish within the budget', () => {
    // 33 candidates, 6 builds for splitting, two at once: three parts of 11 (each needs 4 ≤ 6 − 2).
    expect(probes(-1, 32, 6, 2)).toEqual([10, 21]);
    // 4 candidates, 2 builds left: two at once would leave a part of 2 with no build to split it.
    expect(probes(-1, 3, 2, 2)).toEqual([1]);
    expect(probes(-1, 1, 1, 2)).toEqual([0]);
    expect(probes(4, 5, 3, 2)).toEqual([]);
  });
});

describe('finding the culprit', () => {
  for (const n of [2, 3, 8, 33]) {
    for (const parallel of [1, 2, 4]) {
      it(`names the first failing commit of a ${n}-commit train at every position, within the bound (${parallel} at once)`, () => {
        for (let k = 0; k < n; k++) {
          for (const order of ['oldestFirst', 'newestFirst'] as const) {
            const sim = failedTrain(n, { enabled: true, parallel });
            const commits = sim.train(1).commits;
            const firstBad = new Set(commits.slice(k).map((c) => c.sha));
            const most = runSearch(sim, (sha) => firstBad.has(sha), order);
            const b = bisectOf(sim);
            expect({ k, state: b.state, culprit: b.culprit?.sha }).toEqual({ k, state: 'found', culprit: commits[k]!.sha });
            expect(b.builds).toBeLessThanOrEqual(maxBuilds(n));
            expect(sim.train(1).jobs.filter((j) => j.kind === 'bisect')).toHaveLength(b.builds);
            expect(most).toBeLessThanOrEqual(parallel);
            // The search never changes the train's own state: still delivering, its build failed.
            expect(sim.train(1).state).toBe('delivering');
            expect(
              sim
                .train(1)
                .jobs.filter((j) => j.kind === 'build')
                .map((j) => j.state),
            ).toEqual(['failed']);
          }
        }
      });
    }
  }

  it('with two at once, 33 commits take fewer rounds than one by one', () => {
    const rounds = (parallel: number): number => {
      const sim = failedTrain(33, { enabled: true, parallel });
      const bad = new Set(
        sim
          .train(1)
          .commits.slice(20)
          .map((c) => c.sha),
      );
      let n = 0;
      while (bisectOf(sim).state === 'running') {
        n++;
        runSearchOneRound(sim, (sha) => bad.has(sha));
      }
      return n;
    };
    // One at a time: five or six splits, then the culprit and its parent one after the other.
    expect(rounds(1)).toBe(7);
    expect(rounds(2)).toBeLessThanOrEqual(5);
  });

  it('confirms the culprit and its parent, then tells the thread (broadcast) and the author', () => {
    const sim = failedTrain(8);
    const commits = sim.train(1).commits;
    const bad = new Set(commits.slice(5).map((c) => c.sha));
    const start = sim.log.at(-1)!;
    expect(announcements(start).some((t) => t.startsWith('Looking for the commit that broke the build of train #1: building some of its 8 commits (at most 5 builds, 2 at a time).'))).toBe(
      true,
    );
    runSearch(sim, (sha) => bad.has(sha));
    const b = bisectOf(sim);
    // The last two builds are the confirmation: the culprit and its parent.
    const jobs = sim.train(1).jobs.filter((j) => j.kind === 'bisect');
    expect(jobs.slice(-2).map((j) => [j.sha, j.state])).toEqual([
      [commits[5]!.sha, 'failed'],
      [commits[4]!.sha, 'succeeded'],
    ]);
    expect(b).toMatchObject({ state: 'found', culprit: { sha: commits[5]!.sha, authorEmail: CAROL }, range: null });
    const last = sim.last;
    const said = announcements(last).find((t) => t.includes('first fails'));
    expect(said).toBe(
      `The build first fails at c0050000 (Carol, "Change number 5"). Found for train #1 with ${b.builds} builds; its parent builds, and it failed twice. Revert it and extend: the button on the card, or \`/conductor revert c0050000 and extend\` (the engineer or an admin).`,
    );
    expect(effectsOf(last, 'chat.announce').find((e) => e.text === said)?.broadcast).toBe(true);
    expect(dmsTo(last, CAROL).map((e) => e.text)[0]).toContain('The build first fails at c0050000 (Carol, "Change number 5").');
    expect(last.ok && last.audit.some((a) => a.action === 'bisect.found')).toBe(true);
  });

  it('a culprit at the first commit is confirmed against the train base', () => {
    const sim = failedTrain(3);
    const base = sim.train(1).baseSha;
    runSearch(sim, (sha) => sha !== base);
    const jobs = sim.train(1).jobs.filter((j) => j.kind === 'bisect');
    expect(jobs.at(-1)!.sha).toBe(sim.train(1).baseSha);
    expect(bisectOf(sim).culprit?.sha).toBe(sim.train(1).commits[0]!.sha);
  });

  it("a robot's culprit gets no DM", () => {
    const sim = new Sim(aLine({ settings: { bisect: { enabled: true, parallel: 2 } } }));
    ok(sim.push(aCommit('a1', ALICE), aCommit('r1', ROBOT)));
    sim.failBuild(1);
    runSearch(sim, (sha) => sha.startsWith('r1'));
    expect(bisectOf(sim).culprit?.authorEmail).toBe(ROBOT);
    expect(dmsTo(sim.last, ROBOT)).toEqual([]);
  });
});

/** One round: start and finish every open build. */
function runSearchOneRound(sim: Sim, fails: (sha: string) => boolean): void {
  const open = openBisectJobs(sim);
  for (const j of open) if (j.state === 'queued') ok(sim.as(SYSTEM_ACTOR, jobStarted, { train: 1, kind: 'bisect', attempt: j.attempt }, `b-${j.attempt}`, null));
  for (const j of open) ok(sim.as(SYSTEM_ACTOR, jobFinished, { train: 1, kind: 'bisect', attempt: j.attempt }, !fails(j.sha), 'out'));
}

describe('when it does not start', () => {
  it('a one-commit train, a line with bisect off, a second failure of the same train', () => {
    const one = new Sim(aLine({ settings: { bisect: { enabled: true, parallel: 2 } } }));
    ok(one.push(aCommit('a1', ALICE)));
    one.failBuild(1);
    expect(one.train(1).bisect).toBeNull();

    const off = failedTrain(4, { enabled: false, parallel: 2 });
    expect(off.train(1).bisect).toBeNull();
    expect(off.train(1).jobs.map((j) => j.kind)).toEqual(['build']);

    const twice = failedTrain(4);
    runSearch(twice, () => true);
    const builds = bisectOf(twice).builds;
    ok(twice.as(ALICE, retry));
    twice.failBuild(1);
    expect(bisectOf(twice).builds).toBe(builds);
  });
});

describe('flaky builds', () => {
  it('a culprit that builds when tried again ends the search as flaky, naming the range', () => {
    const sim = failedTrain(8);
    const commits = sim.train(1).commits;
    const bad = new Set(commits.slice(3).map((c) => c.sha));
    const seen = new Map<string, number>();
    runSearch(sim, (sha) => {
      const times = (seen.get(sha) ?? 0) + 1;
      seen.set(sha, times);
      // The culprit fails the first time only.
      return sha === commits[3]!.sha ? times === 1 : bad.has(sha);
    });
    const b = bisectOf(sim);
    expect(b.state).toBe('flaky');
    expect(b.culprit).toBeNull();
    expect(b.range).toEqual({ fromSha: commits[2]!.sha, toSha: commits[3]!.sha });
    expect(b.builds).toBeLessThanOrEqual(maxBuilds(8));
    expect(announcements(sim.last).some((t) => t.includes('disagree between c0020000 and c0030000 (a flaky build?)'))).toBe(true);
  });

  it('a later commit that builds after an earlier one failed is flaky too', () => {
    const sim = failedTrain(33);
    const commits = sim.train(1).commits;
    // First round builds 10 and 21: 10 fails, 21 builds.
    runSearchOneRound(sim, (sha) => sha === commits[10]!.sha);
    const b = bisectOf(sim);
    expect(b.state).toBe('flaky');
    expect(b.range).toEqual({ fromSha: commits[10]!.sha, toSha: commits[21]!.sha });
    expect(openBisectJobs(sim)).toEqual([]);
  });
});

describe('what cancels it', () => {
  const midSearch = (): Sim => {
    // 33 commits: the first round builds two at once.
    const sim = failedTrain(33);
    expect(openBisectJobs(sim)).toHaveLength(2);
    return sim;
  };
  const expectCancelled = (sim: Sim, why: string): void => {
    const b = bisectOf(sim);
    expect(b).toMatchObject({ state: 'cancelled', reason: why });
    expect(openBisectJobs(sim)).toEqual([]);
    expect(effectsOf(sim.log.find((d) => announcements(d).some((t) => t.includes('was cancelled')))!, 'job.stop').filter((e) => e.jobKind === 'bisect')).toHaveLength(2);
  };

  it('a push', () => {
    const sim = midSearch();
    ok(sim.push(aCommit('f1', ALICE, 'Fix it')));
    expectCancelled(sim, 'new commits were pushed');
  });

  it('a derail', () => {
    const sim = midSearch();
    sim.keep.push(1);
    ok(sim.as(ADMIN, derail, 'broken'));
    expectCancelled(sim, 'the train was derailed (broken)');
  });

  it('an extend', () => {
    const sim = midSearch();
    sim.keep.push(1);
    ok(sim.push(aCommit('f1', ALICE, 'Fix it')));
    ok(sim.as(ADMIN, extend));
    expect(sim.train(1).state).toBe('derailed');
    expect(bisectOf(sim).state).toBe('cancelled');
  });

  it('a retry that succeeds, not one that fails', () => {
    const sim = midSearch();
    ok(sim.as(ALICE, retry));
    sim.failBuild(1);
    expect(bisectOf(sim).state).toBe('running');
    ok(sim.as(ALICE, retry));
    sim.succeedBuild(1);
    expectCancelled(sim, 'a retry of the build succeeded');
    expect(sim.train(1).state).toBe('verifying');
  });

  it('a result that arrives after the cancel changes nothing', () => {
    const sim = midSearch();
    const j = openBisectJobs(sim)[0]!;
    ok(sim.push(aCommit('f1', ALICE)));
    const late = sim.as(SYSTEM_ACTOR, jobFinished, { train: 1, kind: 'bisect', attempt: j.attempt }, false, 'late');
    expect(late.ok).toBe(false);
    expect(bisectOf(sim).state).toBe('cancelled');
  });
});

describe('timeouts and unknown outcomes', () => {
  it('a search build that times out counts as failed, and the search goes on', () => {
    const sim = failedTrain(4);
    for (const j of openBisectJobs(sim)) ok(sim.as(SYSTEM_ACTOR, jobStarted, { train: 1, kind: 'bisect', attempt: j.attempt }, `b-${j.attempt}`, null));
    sim.advance(31);
    ok(sim.tick());
    const jobs = sim.train(1).jobs.filter((j) => j.kind === 'bisect');
    expect(jobs[0]).toMatchObject({ state: 'failed' });
    expect(jobs[0]!.output).toContain('[timed out]');
    expect(bisectOf(sim).state).toBe('running');
    expect(openBisectJobs(sim).length).toBeGreaterThan(0);
    expect(sim.train(1).state).toBe('delivering');
  });
});

describe('revert it and extend', () => {
  const foundAt = (k: number): Sim => {
    const sim = failedTrain(8);
    const bad = new Set(
      sim
        .train(1)
        .commits.slice(k)
        .map((c) => c.sha),
    );
    runSearch(sim, (sha) => bad.has(sha));
    return sim;
  };

  it('the engineer may, for the culprit the search found; an author who is not the engineer may not; an admin may for any commit of the train', () => {
    const sim = foundAt(4);
    const t = sim.train(1);
    const culprit = t.commits[4]!;
    const other = t.commits[1]!;
    const engineer = t.engineer!;
    const notEngineer = AUTHORS.find((a) => a !== engineer)!;
    const r = sim.as(engineer, revertAndExtend, culprit, culprit.sha);
    expect(r.ok, r.reply).toBe(true);
    expect(effectsOf(r, 'git.revert')).toEqual([{ kind: 'git.revert', sha: culprit.sha, requestedBy: engineer, requestedByName: expect.any(String), extend: { train: 1 } }]);
    expect(sim.as(engineer, revertAndExtend, other, other.sha).ok).toBe(false);
    const refused = sim.as(notEngineer, revertAndExtend, culprit, culprit.sha);
    expect(refused.ok).toBe(false);
    expect(refused.reply).toContain('Only an admin, or the engineer of train #1');
    expect(sim.as(ADMIN, revertAndExtend, other, other.sha).ok).toBe(true);
  });

  it('refuses a commit that is not on the going train, and when no train is going', () => {
    const sim = foundAt(2);
    const stranger = aCommit('ff1', ALICE);
    expect(sim.as(ADMIN, revertAndExtend, stranger, stranger.sha).reply).toContain('is not on train #1');
    sim.keep.push(1);
    ok(sim.as(ADMIN, setMode, 'manual', 'hold'));
    ok(sim.as(ADMIN, derail, 'stop'));
    const c = sim.train(1).commits[2]!;
    expect(sim.as(ADMIN, revertAndExtend, c, c.sha).reply).toContain('No train is going');
  });

  it('once the revert lands, the train is extended with it, once; before it lands the outbox is told to try again', () => {
    const sim = foundAt(3);
    const culprit = sim.train(1).commits[3]!;
    const revertCommit = aCommit('aaa1', ADMIN, `Revert "Change number 3"`);
    const f = { train: 1, sha: culprit.sha, revertSha: revertCommit.sha, requestedBy: ADMIN };
    expect(sim.as(SYSTEM_ACTOR, extendWithRevert, f).reply).toBe(REVERT_NOT_LANDED);
    sim.keep.push(1);
    ok(sim.push(revertCommit));
    const d = ok(sim.as(SYSTEM_ACTOR, extendWithRevert, f));
    expect(sim.train(1).state).toBe('derailed');
    const t2 = sim.goingOrFail;
    expect(t2.commits.map((c) => c.sha)).toEqual([...sim.train(1).commits.map((c) => c.sha), revertCommit.sha]);
    expect(t2.createdBy).toBe(ADMIN);
    expect(announcements(d).some((t) => t.includes(`for ${ADMIN}'s "revert it and extend" of ${culprit.sha.slice(0, 8)}`))).toBe(true);
    // Redelivered: the train already carries the revert, nothing happens twice.
    expect(sim.as(SYSTEM_ACTOR, extendWithRevert, f).ok).toBe(false);
    expect(sim.goingOrFail.number).toBe(t2.number);
  });

  it('a train that is no longer going is left alone, and that is said', () => {
    const sim = foundAt(3);
    sim.keep.push(1);
    const culprit = sim.train(1).commits[3]!;
    ok(sim.as(ADMIN, setMode, 'manual', 'hold'));
    ok(sim.as(ADMIN, derail, 'by hand'));
    const revertCommit = aCommit('aaa2', ADMIN, 'Revert');
    ok(sim.push(revertCommit));
    const d = ok(sim.as(SYSTEM_ACTOR, extendWithRevert, { train: 1, sha: culprit.sha, revertSha: revertCommit.sha, requestedBy: ADMIN }));
    expect(announcements(d)[0]).toContain('train #1 is no longer going: nothing was extended');
    expect(sim.going).toBeUndefined();
  });
});
