/**
 * How the Web App answers: complete HTML documents rendered on the server from
 * Preact components (which escape every string they are given), with the
 * security headers of docs/behaviour.md §7 on every answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';

/**
 * No inline script anywhere (the one script is a static asset), no framing, no
 * plugins; forms post to us only. `Referrer-Policy: same-origin` rather than
 * `no-referrer`: with `no-referrer` browsers send `Origin: null` on same-origin
 * form posts, and the CSRF check needs the real origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

export function securityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
}

/** A whole page: `<!doctype html>` and the rendered component; never cached (it names the signed-in person). */
export function sendHtml(res: ServerResponse, status: number, page: VNode): void {
  const body = `<!doctype html>${renderToString(page)}`;
  securityHeaders(res);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** 303: after a POST the browser follows with a GET. */
export function redirect(res: ServerResponse, location: string, status = 303): void {
  securityHeaders(res);
  res.writeHead(status, { location: headerSafeLocation(location), 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

/**
 * A Location header value: every character but printable ASCII percent-encoded as UTF-8 (a
 * lone surrogate as U+FFFD). Node throws on a header character above U+00FF (a form's `back`
 * of `/\u202e` was a 500) and would send U+0080–U+00FF as single Latin-1 bytes.
 */
export function headerSafeLocation(location: string): string {
  return location.replace(/[\ud800-\udbff][\udc00-\udfff]|[^\x21-\x7e]/g, (c) => (c.length === 1 && c >= '\ud800' && c <= '\udfff' ? '%EF%BF%BD' : encodeURIComponent(c)));
}

/** Where to go after signing in: only a path of this site (`/x`, never `//host` or `/\host`). */
export function safeNext(next: string | null | undefined): string {
  if (!next || next.length > 2000 || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\u0000-\u001f\u007f]/.test(next)) return '/';
  return next;
}

/** The request's path and query, as the browser asked for it. */
export function requestTarget(req: IncomingMessage): string {
  return req.url ?? '/';
}

/** The query string's parameters (the server has already refused a target `new URL` cannot read). */
export function queryOf(req: IncomingMessage): URLSearchParams {
  const t = req.url ?? '/';
  return (t.startsWith('/') ? new URL(`http://localhost${t}`) : new URL(t)).searchParams;
}
