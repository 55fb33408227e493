// A line's git remote for race tests: a linear branch people push to, and a
// fetch that records "everything after the known head" through the engine,
// as the scheduler's fetch does (src/scheduler/scheduler.ts).
import type { CommitInfo, NewCommits } from '../../src/engine/ports/code-host.js';
import { fakeSha } from './engine-harness.js';

export class RaceRemote {
  private commits: CommitInfo[] = [];
  private pushed = 0;

  constructor(
    readonly line: string,
    readonly root: string,
  ) {}

  head(): string {
    return this.commits[this.commits.length - 1]?.sha ?? this.root;
  }

  /** Every commit ever on the branch and still there. */
  all(): CommitInfo[] {
    return [...this.commits];
  }

  push(authors: { email: string; message?: string }[]): CommitInfo[] {
    const fresh = authors.map(({ email, message }) => {
      this.pushed++;
      return {
        sha: fakeSha(`${this.line}-race-${this.pushed}`),
        authorName: email.split('@')[0]!,
        authorEmail: email,
        message: message ?? `change ${this.pushed}`,
      };
    });
    this.commits.push(...fresh);
    return fresh;
  }

  /** The code host's answer to `newCommits(sinceSha)`. */
  since(sinceSha: string): NewCommits {
    if (sinceSha === this.root) return { headSha: this.head(), commits: this.all(), rewritten: false };
    const i = this.commits.findIndex((c) => c.sha === sinceSha);
    if (i < 0) return { headSha: this.head(), commits: this.all(), rewritten: true };
    return { headSha: this.head(), commits: this.commits.slice(i + 1), rewritten: false };
  }

  /** The emergency reset's force push: the branch goes back to `sha`. */
  resetTo(sha: string): void {
    if (sha === this.root) {
      this.commits = [];
      return;
    }
    const i = this.commits.findIndex((c) => c.sha === sha);
    if (i >= 0) this.commits = this.commits.slice(0, i + 1);
  }
}

/** Deterministic PRNG (mulberry32): a seed reproduces a round's choices. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
