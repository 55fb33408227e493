// Small statistics and table helpers for the benchmarks.

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarise(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    mean: s.length ? sum / s.length : Number.NaN,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    min: s[0] ?? Number.NaN,
    max: s[s.length - 1] ?? Number.NaN,
  };
}

export const median = (samples: number[]): number =>
  percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );

/** Milliseconds rounded for people and for JSON (3 significant decimals under 10 ms). */
export function ms(v: number): number {
  if (!Number.isFinite(v)) return v;
  if (Math.abs(v) < 10) return Math.round(v * 1000) / 1000;
  if (Math.abs(v) < 1000) return Math.round(v * 10) / 10;
  return Math.round(v);
}

export const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** A plain-text table: the first row is the header. Numbers are right-aligned. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const numeric = (i: number) => rows.slice(1).every((r) => typeof r[i] === 'number' || r[i] === '' || r[i] === undefined);
  const line = (r: string[]) => r.map((c, i) => (numeric(i) && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const out = [line(cells[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
  return out.map((l) => `  ${l.trimEnd()}`).join('\n');
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return String(ms(v));
}

/** Time of one async call, in milliseconds. */
export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { ms: performance.now() - t0, value };
}

/** Samples `process.memoryUsage().rss` every `everyMs` (and on demand) and keeps the peak. */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  peak = 0;
  readonly baseline: number;

  constructor(private readonly everyMs = 5) {
    this.baseline = process.memoryUsage().rss;
    this.peak = this.baseline;
  }

  start(): this {
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
    return this;
  }

  sample(): number {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  /** Resets the peak to the current RSS (the start of a new phase). */
  reset(): void {
    this.peak = process.memoryUsage().rss;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }
}
