/**
 * The Web App (docs/behaviour.md §7), wired in one place: sessions, sign-in,
 * static assets, pages, live updates. Always on: with no sign-in provider
 * configured it offers the local sign-in to this machine only.
 */
import type { FeatureFactory } from '../feature.js';
import { actionRoutes } from './actions/routes.js';
import { loadAssets } from './assets.js';
import { OidcSignIn } from './auth/oidc.js';
import { authRoutes } from './auth/routes.js';
import { sessionSecret } from './auth/secret.js';
import { Sessions } from './auth/session.js';
import { type PageHandler, page, type WebContext } from './context.js';
import { LiveEvents } from './live/events.js';
import { ChangeListener } from './live/listener.js';
import { historyPage } from './pages/history.js';
import { insightsPage } from './pages/insights.js';
import { jobOutputRoute } from './pages/job-output.js';
import { linePage } from './pages/line.js';
import { mePage } from './pages/me.js';
import { overviewPage } from './pages/overview.js';
import { searchPage } from './pages/search.js';
import { trainPage } from './pages/train.js';
import { scheduleRoutes } from './schedule/routes.js';

export const webFeature: FeatureFactory = (ctx) => {
  const { env } = ctx.config;
  const secret = sessionSecret(env.sessionSecret, env.dataDir);
  const web: WebContext = {
    engine: ctx.engine,
    log: ctx.log,
    assets: loadAssets(),
    publicUrl: env.publicUrl,
    sessions: new Sessions({ secret, publicUrl: env.publicUrl }),
    runner: (line) => ctx.lines.ports.get(line)?.runner,
    secret,
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
      // The pages (docs/behaviour.md §7), each for signed-in people only.
      const pages: [string, PageHandler][] = [
        ['/', () => overviewPage(web)],
        ['/lines/:line', (c) => linePage(web, c)],
        ['/lines/:line/trains/:n', (c) => trainPage(web, c)],
        ['/search', (c) => searchPage(web, c)],
        ['/history', (c) => historyPage(web, c)],
        ['/insights', (c) => insightsPage(web, c)],
        ['/me', ({ me }) => mePage(web, me)],
      ];
      for (const [path, handler] of pages) router.add('GET', path, page(web, handler));
      router.add('GET', '/lines/:line/trains/:n/jobs/:job/output', jobOutputRoute(web));
      scheduleRoutes(router, web);
      actionRoutes(router, web);
    },
    start: () => listener.start(),
    // First at shutdown: open streams end, so the HTTP server that closes next has nothing to wait for.
    async stop() {
      live.stop();
      await listener.stop();
    },
  };
};
