/**
 * The Web App (docs/behaviour.md §7), wired in one place: sessions, sign-in,
 * static assets, pages, live updates. Always on: with no sign-in provider
 * configured it offers the local sign-in to this machine only.
 */
import type { FeatureFactory } from '../feature.js';
import { loadAssets } from './assets.js';
import { OidcSignIn } from './auth/oidc.js';
import { authRoutes } from './auth/routes.js';
import { sessionSecret } from './auth/secret.js';
import { Sessions } from './auth/session.js';
import { page, type WebContext } from './context.js';
import { LiveEvents } from './live/events.js';
import { ChangeListener } from './live/listener.js';
import { historyPage } from './pages/history.js';
import { mePage } from './pages/me.js';
import { overviewPage } from './pages/overview.js';
import { searchPage } from './pages/search.js';

export const webFeature: FeatureFactory = (ctx) => {
  const { env } = ctx.config;
  const secret = sessionSecret(env.sessionSecret, env.dataDir);
  const web: WebContext = {
    engine: ctx.engine,
    log: ctx.log,
    assets: loadAssets(),
    publicUrl: env.publicUrl,
    sessions: new Sessions({ secret, publicUrl: env.publicUrl }),
  };
  const live = new LiveEvents(web.sessions, ctx.options.live);
  const listener = new ChangeListener({ databaseUrl: ctx.databaseUrl, log: ctx.log, onChange: (e) => live.publish(e) });
  // With an issuer the environment requires CONDUCTOR_SESSION_SECRET (every process must read the flow and the session).
  const issuer = env.signIn ? new OidcSignIn({ issuer: env.signIn, publicUrl: env.publicUrl, secret, sessions: web.sessions, log: ctx.log }) : null;
  return {
    name: 'web',
    routes(router, metrics) {
      web.assets.routes(router);
      authRoutes(router, web, issuer);
      live.routes(router);
      metrics.gauge('conductor_web_event_streams', 'Open GET /events streams (live updates) of this process.', () => live.open);
      router.add(
        'GET',
        '/',
        page(web, () => overviewPage(web)),
      );
      router.add(
        'GET',
        '/search',
        page(web, (ctx) => searchPage(web, ctx)),
      );
      router.add(
        'GET',
        '/history',
        page(web, (ctx) => historyPage(web, ctx)),
      );
      router.add(
        'GET',
        '/me',
        page(web, ({ me }) => mePage(web, me)),
      );
    },
    start: () => listener.start(),
    // First at shutdown: open streams end, so the HTTP server that closes next has nothing to wait for.
    async stop() {
      live.stop();
      await listener.stop();
    },
  };
};
