/**
 * The Web App (docs/behaviour.md §7), wired in one place: sessions, sign-in,
 * static assets, pages. Always on: with no sign-in provider configured it
 * offers the local sign-in to this machine only.
 */
import type { FeatureFactory } from '../feature.js';
import { loadAssets } from './assets.js';
import { authRoutes } from './auth/routes.js';
import { sessionSecret } from './auth/secret.js';
import { Sessions } from './auth/session.js';
import { page, type WebContext } from './context.js';
import { jobOutputRoute } from './pages/job-output.js';
import { linePage } from './pages/line.js';
import { overviewPage } from './pages/overview.js';
import { trainPage } from './pages/train.js';

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
  };
  return {
    name: 'web',
    routes(router) {
      web.assets.routes(router);
      authRoutes(router, web, null);
      router.add(
        'GET',
        '/',
        page(web, () => overviewPage(web)),
      );
      router.add(
        'GET',
        '/lines/:line',
        page(web, (c) => linePage(web, c)),
      );
      router.add(
        'GET',
        '/lines/:line/trains/:n',
        page(web, (c) => trainPage(web, c)),
      );
      router.add('GET', '/lines/:line/trains/:n/jobs/:job/output', jobOutputRoute(web));
    },
  };
};
