/**
 * Strict fakes, checked for every test without the test having to remember
 * (renovate's "unused mock" rule, applied to our fake servers).
 *
 * Every fake (Slack, Socket Mode, GitHub, Jenkins, Jira) registers itself here
 * when it starts. `test/support/strict-fakes-setup.ts` (a vitest setup file)
 * calls `checkStrictFakes()` after each test and after each file, and fails
 * the test when a fake reports:
 * - an unexpected call (a violation) made since the previous check: fakes
 *   started in `beforeAll` live across tests, so each test answers only for
 *   its own calls;
 * - an expectation declared and never used (`failNext`, `failOn`,
 *   `moveBeforeNextTransition`, `failOpen`, `loseNextTriggerResponse`): each
 *   is reported once and then dropped, so it does not fail the next test too.
 *
 * A test that provokes problems on purpose (to test a fake itself) calls
 * `acknowledgeFakeProblems()` once it has asserted on them.
 *
 * This module does not import vitest: the benchmarks start the same fakes.
 */

export interface StrictFakeSource {
  /** How messages name the fake, e.g. `fake Slack`. */
  name: string;
  /** Every violation so far, oldest first (the fake's own list; it only grows, unless cleared). */
  violations(): readonly string[];
  /** Expectations declared and not used yet, described in words; empties them. */
  takeUnusedExpectations(): string[];
}

/** What a fake keeps to tell the registry about itself. */
export interface StrictFakeHandle {
  /** The fake's violations were cleared on purpose (acknowledged): forget how many were seen. */
  cleared(): void;
  /** The fake is closed: check it once more, then forget it. */
  closed(): void;
}

interface Entry {
  source: StrictFakeSource;
  /** How many of `violations()` earlier checks have already reported. */
  seen: number;
  closed: boolean;
}

const entries = new Set<Entry>();

export function registerStrictFake(source: StrictFakeSource): StrictFakeHandle {
  const entry: Entry = { source, seen: 0, closed: false };
  entries.add(entry);
  return {
    cleared: () => void (entry.seen = 0),
    closed: () => void (entry.closed = true),
  };
}

/**
 * The problems of every registered fake since the previous check, one message
 * per fake. Closed fakes are checked once more, then forgotten.
 */
export function checkStrictFakes(): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const all = entry.source.violations();
    // A list that shrank was cleared behind our back: report what is there now.
    const fresh = all.slice(all.length < entry.seen ? 0 : entry.seen);
    entry.seen = all.length;
    const unused = entry.source.takeUnusedExpectations();
    const lines = [...fresh.map((v) => `unexpected: ${v}`), ...unused.map((u) => `declared but never used: ${u}`)];
    if (lines.length) out.push(`${entry.source.name}:\n${lines.map((l, i) => `  ${i + 1}. ${l}`).join('\n')}`);
    if (entry.closed) entries.delete(entry);
  }
  return out;
}

/** Problems provoked on purpose (a fake's own tests) are acknowledged: marked seen and dropped, so they fail nothing. */
export function acknowledgeFakeProblems(): void {
  for (const entry of entries) {
    entry.seen = entry.source.violations().length;
    entry.source.takeUnusedExpectations();
  }
}

/** Throws one error naming every problem `checkStrictFakes` finds. */
export function assertStrictFakes(when: string): void {
  const problems = checkStrictFakes();
  if (problems.length) throw new Error(`strict fakes, ${when}:\n${problems.join('\n')}`);
}

/** How many fakes are registered (for the registry's own test). */
export function registeredStrictFakes(): number {
  return entries.size;
}
