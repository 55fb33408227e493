/**
 * The frame of every page: the header (what Conductor is, the pages, search,
 * who is signed in, sign out), the page itself in `<main>`, and the one
 * stylesheet and script. `live` names the lines the page shows: the browser
 * script fetches the page again when one of them changes (`*`: any line).
 */
import type { ComponentChildren } from 'preact';
import type { SignedIn } from './auth/session.js';
import type { Flash } from './flash.js';
import { Prose } from './pages/parts.js';

export interface LayoutProps {
  title: string;
  me: SignedIn | null;
  assets: { css: string; js: string; morph: string };
  /** Lines whose changes refresh this page; omitted: the page does not follow changes. */
  live?: string[] | '*';
  /** The navigation entry to mark as current. */
  nav?: 'overview' | 'search' | 'history' | 'me' | 'insights';
  /** What the search box holds (the search page). */
  query?: string;
  /** The outcome of the action just sent (without JavaScript); app.js writes it here otherwise. */
  flash?: Flash | null;
  children: ComponentChildren;
}

export function Layout({ title, me, assets, live, nav, query, flash, children }: LayoutProps) {
  const current = (name: LayoutProps['nav']) => (nav === name ? 'page' : undefined);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${title} · Conductor`}</title>
        <link rel="stylesheet" href={assets.css} />
        {me && <script src={assets.morph} defer />}
        {me && <script src={assets.js} defer />}
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to the content
        </a>
        <header class="top">
          <a class="brand" href="/">
            Conductor
          </a>
          {me && (
            <nav aria-label="Pages">
              <a href="/" aria-current={current('overview')}>
                Lines
              </a>
              <a href="/history" aria-current={current('history')}>
                History
              </a>
              <a href="/insights" aria-current={current('insights')}>
                Insights
              </a>
              <a href="/me" aria-current={current('me')}>
                My changes
              </a>
            </nav>
          )}
          {me && (
            <form class="search" method="get" action="/search">
              <label class="visually-hidden" for="q">
                Search commits
              </label>
              <input id="q" name="q" type="search" placeholder="SHA, email or words" value={query ?? ''} autocomplete="off" />
              <button type="submit">Search</button>
            </form>
          )}
          {me && (
            <form class="who" method="post" action="/auth/logout">
              <span class="email" data-testid="signed-in-as">
                {me.email}
              </span>
              <input type="hidden" name="_csrf" value={me.csrf} />
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          )}
        </header>
        {me && (
          // Outside <main>: the live refresh morphs <main> and must not wipe the outcome away.
          <div id="outcome" class="outcome" role="status" aria-live="polite" data-testid="outcome">
            {flash && (
              <p class={flash.ok ? 'ok' : 'refused'} data-ok={String(flash.ok)}>
                <Prose text={flash.text} />
              </p>
            )}
          </div>
        )}
        <main id="main" data-live={live === undefined ? undefined : live === '*' ? '*' : live.join(' ')} data-csrf={me?.csrf}>
          {children}
        </main>
      </body>
    </html>
  );
}
