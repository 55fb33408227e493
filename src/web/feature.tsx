/**
 * The Web App (docs/behaviour.md §7), wired in one place: sessions, sign-in,
 * static assets, pages. Always on: with no sign-in provider configured it
 * offers the local sign-in to this machine only.
 */
import type { FeatureFactory } from '../feature.js';
import { loadAssets } from './assets.js';
import { OidcSignIn } from './auth/oidc.js';
import { authRoutes } from './auth/routes.js';
import { sessionSecret } from './auth/secret.js';
import { Sessions } from './auth/session.js';
import { page, type WebContext } from './context.js';
import { overviewPage } from './pages/overview.js';

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
  // With an issuer the environment requires CONDUCTOR_SESSION_SECRET (every process must read the flow and the session).
  const issuer = env.signIn ? new OidcSignIn({ issuer: env.signIn, publicUrl: env.publicUrl, secret, sessions: web.sessions, log: ctx.log }) : null;
  return {
    name: 'web',
    routes(router) {
      web.assets.routes(router);
      authRoutes(router, web, issuer);
      router.add(
        'GET',
        '/',
        page(web, () => overviewPage(web)),
      );
    },
  };
};
