// A child process holding many GET /events streams (plain HTTP streaming, as
// EventSource does), so the clients' CPU and memory are not the server's.
// Driven over IPC by bench/web-events.ts:
//   → {open: {base, cookie, n}}   ← {ready: {open, failed}}
//   → {arm: true}                 (forget earlier arrivals)
//   → {collect: true}             ← {arrivals: [epoch ms of the first change event since arm, or null]}
//   → {close: true}               (ends every stream, then exits)
import http from 'node:http';

const now = () => performance.timeOrigin + performance.now();
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const requests: http.ClientRequest[] = [];
let arrivals: (number | null)[] = [];
let armed = false;

function openOne(base: string, cookie: string, i: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${base}/events`, { agent, headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(false);
      }
      res.setEncoding('utf8');
      let first = true;
      res.on('data', (chunk: string) => {
        if (first) {
          first = false;
          resolve(true);
        }
        // A whole event arrives in one chunk (the server writes each with one write).
        if (armed && arrivals[i] === null && chunk.includes('event: change')) arrivals[i] = now();
      });
    });
    req.on('error', () => resolve(false));
    requests.push(req);
  });
}

process.on('message', async (msg: { open?: { base: string; cookie: string; n: number }; arm?: boolean; collect?: boolean; close?: boolean }) => {
  if (msg.open) {
    const { base, cookie, n } = msg.open;
    arrivals = Array.from({ length: n }, () => null);
    let open = 0;
    // In batches: a thousand SYNs at once would overflow the listen backlog and measure retransmits instead.
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => openOne(base, cookie, i + k)));
      open += batch.filter(Boolean).length;
    }
    process.send?.({ ready: { open, failed: n - open } });
  }
  if (msg.arm) {
    arrivals = arrivals.map(() => null);
    armed = true;
  }
  if (msg.collect) process.send?.({ arrivals });
  if (msg.close) {
    for (const r of requests) r.destroy();
    process.exit(0);
  }
});
