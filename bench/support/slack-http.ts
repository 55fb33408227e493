// A lean HTTP client for the Slack benchmarks: node:http with a keep-alive
// agent per target (lighter than fetch, so the client's own cost weighs less
// in figures taken in the same process as the servers), and a closed-loop
// driver: N workers, each sending one request at a time.

import type { SlackRequest } from '../../test/support/slack-requests.js';
import { KeepAlivePoster } from './http-poster.js';

export type { PostResult } from './http-poster.js';

/** Posts signed Slack requests to `/slack/events` (the shared keep-alive poster). */
export class SlackPoster extends KeepAlivePoster {
  constructor(baseUrl: string) {
    super(baseUrl, '/slack/events', 10_000);
  }

  override post(req: SlackRequest, timeoutMs?: number) {
    return super.post(req, timeoutMs);
  }
}

export interface Outcome<K extends string = string> {
  kind: K;
  ms: number;
  error?: string;
}

/**
 * `clients` workers, each sending one request at a time, until `total`
 * requests were sent or `until` (ms since the epoch) passed.
 */
export async function closedLoop<K extends string>(
  call: (i: number) => Promise<Outcome<K>>,
  clients: number,
  total: number,
  until: number,
): Promise<{ samples: Outcome<K>[]; errors: string[]; seconds: number }> {
  const samples: Outcome<K>[] = [];
  const errors: string[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total && Date.now() < until) {
      const i = next++;
      try {
        const o = await call(i);
        if (o.error) errors.push(o.error);
        samples.push(o);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return { samples, errors, seconds: (performance.now() - t0) / 1000 };
}
