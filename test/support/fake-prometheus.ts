import { createServer, type Server } from 'node:http';

/**
 * A small Prometheus HTTP API on 127.0.0.1: `GET /api/v1/query?query=` answers the real
 * JSON shape of an instant vector query with the value the test set. `down()` closes the
 * port (connection refused, as when Prometheus is down); `up()` listens again on the same port.
 */
export interface FakePrometheus {
  url: string;
  /** The value the next queries return: a number, or a raw answer (status, body). */
  set(value: number | { status: number; body: string }): void;
  queries: string[];
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFakePrometheus(): Promise<FakePrometheus> {
  let answer: number | { status: number; body: string } = 0;
  const queries: string[] = [];
  let server: Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        if (req.method !== 'GET' || url.pathname !== '/api/v1/query' || !url.searchParams.has('query')) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
          return;
        }
        queries.push(url.searchParams.get('query')!);
        if (typeof answer !== 'number') {
          res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
          return;
        }
        const body = { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, String(answer)] }] } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const a = s.address();
        port = typeof a === 'object' && a ? a.port : 0;
        server = s;
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      s.closeAllConnections();
      s.close(() => resolve());
    });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    set: (v) => {
      answer = v;
    },
    queries,
    down: close,
    up: listen,
    stop: close,
  };
}
