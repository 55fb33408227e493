import type { Logger } from 'pino';
import type { BenchServer } from './database.js';

export interface BenchContext {
  server: BenchServer;
  /** The benchmarks' own messages (warnings and errors go to stderr). */
  log: Logger;
  /** For the app under test: info and above, written to /dev/null (the cost of logging is counted), warnings to stderr. */
  appLog: Logger;
  /** A temporary directory of this benchmark, removed after the run. */
  tmpDir: string;
  /** Wall-clock budget of this benchmark (ms since the epoch); loops stop early when it passes. */
  deadline: number;
  /** Prints a progress line to stderr. */
  progress(message: string): void;
}

export interface BenchResult {
  /** Human-readable report (tables). */
  text: string;
  /** Figures for BENCH_JSON. */
  json: Record<string, unknown>;
  /** Headline rows for the final summary table: [figure, value, unit]. */
  headline: [string, number, string][];
}

export interface Benchmark {
  name: string;
  /** A group several benchmarks share (`npm run bench -- web` runs every one of group `web`). */
  group?: string;
  title: string;
  /** Budget in seconds. */
  budgetSeconds: number;
  run(ctx: BenchContext): Promise<BenchResult>;
}
