/**
 * What the Web App's routes share: the engine (read models and, in part 2, the
 * command path), the sessions, the assets, and `page()`, which wraps a page
 * handler with sign-in and the layout.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { VNode } from 'preact';
import type { Engine } from '../engine/engine.js';
import type { BuildRunner } from '../engine/ports/build-runner.js';
import { type Handler, HttpError, type RouteContext, readBody } from '../http/router.js';
import { takeFlash } from './actions/flash.js';
import type { Assets } from './assets.js';
import type { Sessions, SignedIn } from './auth/session.js';
import { Layout, type LayoutProps } from './layout.js';
import { redirect, sendHtml } from './respond.js';

export interface WebContext {
  engine: Engine;
  sessions: Sessions;
  assets: Assets;
  log: Logger;
  publicUrl: string;
  /** The line's job runner (the train page reads a running local job's output from it). */
  runner?: (line: string) => BuildRunner | undefined;
}

/** What a page handler answers: a page in the layout, or a redirect (one exact SHA → its train). */
export type PageResult = ({ status?: number; body: VNode } & Pick<LayoutProps, 'title' | 'live' | 'nav' | 'query' | 'flash'>) | { redirect: string };

export type PageHandler = (ctx: RouteContext & { me: SignedIn }) => Promise<PageResult> | PageResult;

/** A page for signed-in people only: anyone else is sent to sign in and brought back afterwards. */
export function page(web: WebContext, handler: PageHandler): Handler {
  return async (ctx) => {
    const me = await web.sessions.whoIs(ctx.req, ctx.res);
    if (!me) return redirect(ctx.res, `/auth/login?next=${encodeURIComponent(ctx.req.url ?? '/')}`);
    const result = await handler({ ...ctx, me });
    if ('redirect' in result) return redirect(ctx.res, result.redirect);
    // The outcome of an action sent without JavaScript, shown once (src/web/actions/flash.ts).
    renderPage(web, ctx.res, me, { ...result, flash: takeFlash(ctx.req, ctx.res, web.publicUrl) });
  };
}

export function renderPage(web: WebContext, res: ServerResponse, me: SignedIn | null, p: Exclude<PageResult, { redirect: string }>): void {
  sendHtml(
    res,
    p.status ?? 200,
    <Layout title={p.title} me={me} assets={web.assets.urls} live={p.live} nav={p.nav} query={p.query} flash={p.flash}>
      {p.body}
    </Layout>,
  );
}

/** Reads a urlencoded form (the pages' POSTs), at most 64 KiB. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'a form must be sent as application/x-www-form-urlencoded');
  return new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
}
