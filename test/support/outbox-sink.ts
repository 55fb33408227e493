// The receiver side of the outbox crash test: a sink file where each delivery
// is one JSON line. Shared by the child process (test/support/outbox-child.ts)
// and the worker the test runs after killing it.
import fs from 'node:fs';
import type { OutboxItem } from '../../src/engine/outbox.js';

/** What a sink line holds. */
export interface SinkLine {
  key: string;
  id: string;
  attempts: number;
  pid: number;
}

/**
 * A handler that records each delivery in `sink` (synchronously, so the line
 * survives a SIGKILL), then works for `ms` before returning: a kill in that
 * window lands between the delivery and the worker marking the item done.
 */
export function sinkHandler(sink: string, ms: number): (item: OutboxItem) => Promise<void> {
  return async (item) => {
    const line: SinkLine = { key: item.idempotencyKey, id: item.id.toString(), attempts: item.attempts, pid: process.pid };
    fs.appendFileSync(sink, `${JSON.stringify(line)}\n`);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  };
}

export function readSink(sink: string): SinkLine[] {
  if (!fs.existsSync(sink)) return [];
  return fs
    .readFileSync(sink, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SinkLine);
}

/** What a receiver that dedupes by idempotency key keeps: the first delivery of each key. */
export function dedupe(lines: SinkLine[]): Map<string, SinkLine> {
  const kept = new Map<string, SinkLine>();
  for (const l of lines) if (!kept.has(l.key)) kept.set(l.key, l);
  return kept;
}
