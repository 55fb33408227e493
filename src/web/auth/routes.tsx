/**
 * `GET /auth/login`, `POST /auth/logout` and the local sign-in.
 *
 * Local mode (no issuer configured: the embedded default): a form that takes an
 * email, offered ONLY to requests from the loopback interface (this machine),
 * and saying so. With an issuer, `/auth/login` starts the OpenID Connect code
 * flow instead (./oidc.ts) and the local form does not exist.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { checkEmail } from '../../domain/identity.js';
import { HttpError, type Router } from '../../http/router.js';
import { isLoopback } from '../../http/server.js';
import { readForm, renderPage, type WebContext } from '../context.js';
import { queryOf, redirect, safeNext } from '../respond.js';
import { CALLBACK_PATH, SignInError } from './oidc.js';

export interface SignInMethod {
  /** Shown on the sign-in page's button ("Sign in with Slack"). */
  label: string;
  /** Starts the flow: answers with a redirect to the issuer. Throws `SignInError` (e.g. 502: the issuer is down). */
  start(req: IncomingMessage, res: ServerResponse, next: string): Promise<void>;
  /** `GET /auth/callback`: signs in and redirects, or throws `SignInError` having started no session. */
  finish(req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void>;
}

export function authRoutes(router: Router, web: WebContext, issuer: SignInMethod | null): void {
  router.add('GET', '/auth/login', async ({ req, res, log }) => {
    const next = safeNext(queryOf(req).get('next'));
    const me = await web.sessions.whoIs(req, res);
    if (me) return redirect(res, next);
    if (issuer) return refused(web, res, log, () => issuer.start(req, res, next));
    if (!isLoopback(req.socket.remoteAddress)) {
      return renderPage(web, res, null, { status: 403, title: 'Sign-in is not configured', body: <NotConfigured /> });
    }
    renderPage(web, res, null, { title: 'Sign in', body: <LocalForm next={next} /> });
  });

  if (issuer) {
    router.add('GET', CALLBACK_PATH, ({ req, res, log }) => refused(web, res, log, () => issuer.finish(req, res, log)));
  } else {
    router.add('POST', '/auth/local', async ({ req, res, log }) => {
      if (!isLoopback(req.socket.remoteAddress)) throw new HttpError(403, 'the local sign-in answers this machine only (loopback)');
      web.sessions.checkOrigin(req);
      const form = await readForm(req);
      const next = safeNext(form.get('next'));
      const email = checkEmail(form.get('email') ?? '');
      if (!email.ok) {
        return renderPage(web, res, null, {
          status: 400,
          title: 'Sign in',
          body: <LocalForm next={next} error={`That is not an email address: ${email.reason}.`} value={form.get('email') ?? ''} />,
        });
      }
      await web.sessions.signIn(req, res, email.email);
      log.info({ email: email.email, method: 'local' }, 'signed in');
      redirect(res, next);
    });
  }

  router.add('POST', '/auth/logout', async ({ req, res, log }) => {
    const me = await web.sessions.whoIs(req, res);
    const form = await readForm(req);
    web.sessions.checkPost(req, me, form.get('_csrf') ?? undefined);
    await web.sessions.signOut(req, res);
    log.info({ email: me?.email }, 'signed out');
    redirect(res, '/auth/login');
  });
}

/** A `SignInError` becomes its page (with the way back) and a log line with the reason; anything else is the router's 500. */
async function refused(web: WebContext, res: ServerResponse, log: Logger, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (!(e instanceof SignInError)) throw e;
    log.warn({ status: e.status, reason: e.reason }, 'sign-in refused');
    renderPage(web, res, null, {
      status: e.status,
      title: e.title,
      body: (
        <section class="signin">
          <h1>{e.title}</h1>
          <p role="alert">{e.message}</p>
          <p>
            <a href={e.next === '/' ? '/auth/login' : `/auth/login?next=${encodeURIComponent(e.next)}`}>Try again</a>
          </p>
        </section>
      ),
    });
  }
}

function LocalForm({ next, error, value }: { next: string; error?: string; value?: string }) {
  return (
    <section class="signin">
      <h1>Sign in to Conductor</h1>
      <p class="note">
        <strong>Local mode.</strong> No sign-in provider is configured, so Conductor takes your word for who you are: this form answers only browsers on this machine. Set up Sign in with
        Slack or another OpenID Connect provider before you open Conductor to others (see the README).
      </p>
      <form method="post" action="/auth/local" class="form-stack">
        <input type="hidden" name="next" value={next} />
        <label for="email">Your email (as in your commits)</label>
        <input
          id="email"
          name="email"
          type="email"
          required
          autocomplete="email"
          value={value ?? ''}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'email-error' : undefined}
        />
        {error && (
          <p id="email-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </section>
  );
}

function NotConfigured() {
  return (
    <section class="signin">
      <h1>Sign-in is not configured</h1>
      <p>
        This Conductor has no sign-in provider, and the local sign-in form answers only browsers on the machine Conductor runs on. An administrator can set
        <code>SLACK_CLIENT_ID</code> and <code>SLACK_CLIENT_SECRET</code> (Sign in with Slack), or <code>OIDC_ISSUER_URL</code>, <code>OIDC_CLIENT_ID</code> and{' '}
        <code>OIDC_CLIENT_SECRET</code>.
      </p>
    </section>
  );
}
