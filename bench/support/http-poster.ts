// A lean HTTP client for the benchmarks: node:http with a keep-alive agent per
// target (lighter than fetch, so the client's own cost weighs less in figures
// taken on the same 2 cores as the servers).
import http from 'node:http';

export interface PostResult {
  status: number;
  body: string;
  /** Request written → whole response read, in ms. */
  ms: number;
}

export class KeepAlivePoster {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 30_000 });
  private readonly url: URL;

  /** Posts to `path` on the app at `baseUrl`. */
  constructor(
    baseUrl: string,
    path: string,
    private readonly defaultTimeoutMs = 10_000,
  ) {
    this.url = new URL(path, baseUrl);
  }

  post(req: { body: string | Buffer; headers: Record<string, string> }, timeoutMs = this.defaultTimeoutMs): Promise<PostResult> {
    return new Promise((resolve, reject) => {
      const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
      const t0 = performance.now();
      const r = http.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path: this.url.pathname,
          method: 'POST',
          agent: this.agent,
          headers: { ...req.headers, 'content-length': String(body.length) },
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
