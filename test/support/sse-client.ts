/**
 * A server-sent-events reader over plain HTTP (what EventSource does, without
 * the reconnects): parses the stream into events and comments as they arrive.
 */
import http from 'node:http';

export interface SseMessage {
  /** `comment` for a line starting with `:` (heartbeats). */
  type: 'event' | 'comment' | 'retry';
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: number;
  at: number;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  messages: SseMessage[];
  /** The first message (already received or still to come) that `match` accepts, or fails after `ms`. */
  next(match: (m: SseMessage) => boolean, ms?: number): Promise<SseMessage>;
  /** `change` events received so far, data parsed. */
  changes(): { id?: string; line: string; train: number | null }[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function openEvents(base: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const url = new URL('/events', base);
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const messages: SseMessage[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let endResolve!: () => void;
      const ended = new Promise<void>((r) => (endResolve = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          messages.push(parseBlock(block));
          cut = buffer.indexOf('\n\n');
        }
        for (const w of waiters) w();
      });
      res.on('end', endResolve);
      res.on('close', endResolve);
      res.on('error', endResolve);
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        ended,
        next(match, ms = 5_000) {
          return new Promise((ok, fail) => {
            const check = () => {
              const found = messages.find(match);
              if (!found) return;
              waiters.delete(check);
              clearTimeout(timer);
              ok(found);
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no matching server-sent message within ${ms} ms; got ${JSON.stringify(messages)}`));
            }, ms);
            waiters.add(check);
            check();
          });
        },
        changes: () => messages.filter((m) => m.type === 'event' && m.event === 'change').map((m) => ({ id: m.id, ...JSON.parse(m.data ?? '{}') })),
        close: () => req.destroy(),
      };
      resolve(stream);
    });
    req.on('error', reject);
  });
}

function parseBlock(block: string): SseMessage {
  const m: SseMessage = { type: 'event', at: performance.now() };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      m.type = 'comment';
      m.comment = line.slice(1).trim();
      continue;
    }
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'id') m.id = value;
    else if (field === 'event') m.event = value;
    else if (field === 'data') m.data = m.data === undefined ? value : `${m.data}\n${value}`;
    else if (field === 'retry') {
      m.type = 'retry';
      m.retry = Number(value);
    }
  }
  return m;
}
