// A lean HTTP client for the Slack benchmarks: node:http with a keep-alive
// agent per target (lighter than fetch, so the client's own cost weighs less
// in figures taken in the same process as the servers), and a closed-loop
// driver: N workers, each sending one request at a time.
import http from 'node:http';
import type { SlackRequest } from '../../test/support/slack-requests.js';

export interface PostResult {
  status: number;
  body: string;
  /** Request written → whole response read, in ms. */
  ms: number;
}

export class SlackPoster {
  private readonly agent: http.Agent;
  private readonly url: URL;

  /** `baseUrl` of the app; requests go to `<baseUrl>/slack/events`. */
  constructor(baseUrl: string) {
    this.url = new URL('/slack/events', baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 30_000 });
  }

  post(req: SlackRequest, timeoutMs = 10_000): Promise<PostResult> {
    return new Promise((resolve, reject) => {
      const body = Buffer.from(req.body, 'utf8');
      const t0 = performance.now();
      const r = http.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path: this.url.pathname,
          method: 'POST',
          agent: this.agent,
          headers: { ...req.headers, 'Content-Length': String(body.length) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
          res.on('error', reject);
        },
      );
      r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      r.on('error', reject);
      r.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
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
