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
import type { Assets } from './assets.js';
import type { Sessions, SignedIn } from './auth/session.js';
import { type Flash, takeFlash } from './flash.js';
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
  /** The session secret: it also seals the flash of a form's outcome (flash.ts). */
  secret: string;
}

/** What a page handler answers: a page in the layout, or a redirect (one exact SHA → its train). */
export type PageResult = ({ status?: number; body: VNode } & Pick<LayoutProps, 'title' | 'live' | 'nav' | 'query' | 'flash'>) | { redirect: string };

/** `flash`: the outcome of the form this person just sent (shown at the top of the page unless the handler returns its own `flash`). */
export type PageHandler = (ctx: RouteContext & { me: SignedIn; flash: Flash | null }) => Promise<PageResult> | PageResult;

/** A page for signed-in people only: anyone else is sent to sign in and brought back afterwards. */
export function page(web: WebContext, handler: PageHandler): Handler {
  return async (ctx) => {
    const me = await web.sessions.whoIs(ctx.req, ctx.res);
    if (!me) return redirect(ctx.res, `/auth/login?next=${encodeURIComponent(ctx.req.url ?? '/')}`);
    // The outcome of a form sent without JavaScript, shown once (flash.ts).
    const flash = await takeFlash(ctx.req, ctx.res, web);
    let result: PageResult;
    try {
      result = await handler({ ...ctx, me, flash });
    } catch (err) {
      // A person in a browser reads an HTML page, not the JSON error scripts get.
      result = errorPage(web, ctx, err);
    }
    if ('redirect' in result) return redirect(ctx.res, result.redirect);
    renderPage(web, ctx.res, me, 'flash' in result ? result : { ...result, flash });
  };
}

function errorPage(web: WebContext, ctx: RouteContext, err: unknown): PageResult {
  if (err instanceof HttpError && err.status < 500) {
    ctx.log.warn({ status: err.status, url: ctx.req.url?.slice(0, 200), reason: err.message }, 'request refused');
    return { status: err.status, title: 'Cannot show this page', body: <ErrorBody title="Cannot show this page" text={err.message} /> };
  }
  web.log.error({ err, url: ctx.req.url?.slice(0, 500) }, 'a page failed');
  return {
    status: 500,
    title: 'Something went wrong',
    body: <ErrorBody title="Something went wrong" text="Conductor could not build this page. The log says why; trying again may work." />,
  };
}

function ErrorBody({ title, text }: { title: string; text: string }) {
  return (
    <>
      <h1>{title}</h1>
      <p>{text}</p>
      <p>
        <a href="/">All lines</a>
      </p>
    </>
  );
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
