/**
 * `GET /events` (docs/behaviour.md §7): server-sent events telling a
 * signed-in page which line changed, from any Conductor process (listener.ts).
 * Each event is written at once (no compression, `X-Accel-Buffering: no` for
 * proxies); a comment every `heartbeatMs` keeps idle proxies from closing the
 * stream and lets the browser notice a dead one. A browser that reconnects
 * with `Last-Event-ID` is sent what it missed, or `*` when that is unknown.
 */
import type { ServerResponse } from 'node:http';
import type { ChangeEvent } from '../../engine/notify.js';
import { HttpError, type Router } from '../../http/router.js';
import { SESSION_HOURS, type Sessions } from '../auth/session.js';
import { RecentChanges } from './recent.js';

export interface LiveOptions {
  /** Between heartbeat comments (default 15 s). */
  heartbeatMs?: number;
  /** Recent events kept for replay (default 1,000). */
  replayEvents?: number;
}

/** What the browser waits before reconnecting after the stream ends. */
const RETRY_MS = 2_000;
/** A stream whose reader is this far behind is ended: the browser reconnects and is told what it missed. */
const MAX_BACKLOG = 256 * 1024;

function frame(e: ChangeEvent): string {
  return `id: ${e.id}\nevent: change\ndata: ${JSON.stringify({ line: e.line, train: e.train })}\n\n`;
}

export class LiveEvents {
  private readonly recent: RecentChanges;
  private readonly streams = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly sessions: Sessions,
    opts: LiveOptions = {},
  ) {
    this.recent = new RecentChanges(opts.replayEvents ?? 1000);
    // One timer for every stream: a thousand pages open cost one wake-up per interval.
    this.heartbeat = setInterval(() => this.send(': heartbeat\n\n'), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  /** Open streams (tests, metrics). */
  get open(): number {
    return this.streams.size;
  }

  /** A change committed somewhere: every open stream is told. */
  publish(e: ChangeEvent): void {
    this.recent.add(e);
    this.send(frame(e));
  }

  routes(router: Router): void {
    router.add('GET', '/events', async ({ req, res }) => {
      const me = await this.sessions.whoIs(req, res);
      if (!me) throw new HttpError(401, 'sign in first: live updates are for signed-in people');
      if (this.closed) throw new HttpError(503, 'Conductor is stopping');
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      // Long-lived on purpose: no idle timeout on the socket, and each event leaves at once. Node's
      // server.requestTimeout (300 s) bounds receiving the request only: a GET is complete once its
      // headers are in, so the stream outlives it (checked on Node 20 with a 1 s requestTimeout).
      req.socket.setTimeout(0);
      req.socket.setNoDelay(true);
      let first = `retry: ${RETRY_MS}\n\n`;
      const last = req.headers['last-event-id'];
      if (typeof last === 'string' && last !== '') {
        const missed = this.recent.after(last.trim());
        if (missed) first += missed.map(frame).join('');
        else {
          const newest = this.recent.newest();
          first += `${newest ? `id: ${newest.id}\n` : ''}event: change\ndata: ${JSON.stringify({ line: '*', train: null })}\n\n`;
        }
      }
      res.write(first);
      this.streams.add(res);
      // The session ends after 12 hours however active it is: so does its stream (the reconnect gets 401).
      const expiry = setTimeout(() => res.end(), Math.max(0, me.since + SESSION_HOURS * 3600_000 - Date.now()));
      expiry.unref();
      res.on('close', () => {
        clearTimeout(expiry);
        this.streams.delete(res);
      });
    });
  }

  /** Ends every open stream (and refuses new ones), so the HTTP server can close at once. */
  stop(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  private send(text: string): void {
    for (const res of this.streams) {
      if (res.writableLength > MAX_BACKLOG) {
        this.streams.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }
}
