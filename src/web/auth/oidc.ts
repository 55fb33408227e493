/**
 * OpenID Connect sign-in (docs/behaviour.md §7): Sign in with Slack, or any
 * issuer (Google Workspace, Okta, Keycloak), with the authorization code flow.
 *
 * - Discovery happens on first use and is retried on the next sign-in after a
 *   failure: an issuer that is down costs a 502 page, never a crash or a start.
 * - `state` and `nonce` always; PKCE (S256) when the issuer offers it.
 * - The client authenticates with `client_secret_basic`, or `client_secret_post`
 *   when the discovery document offers only that (Slack does).
 * - The flow's secrets (state, nonce, PKCE verifier) and where to go afterwards
 *   travel in a sealed cookie of their own, valid 10 minutes, limited to the
 *   callback path and cleared there: nothing is kept in memory, so any process
 *   sharing CONDUCTOR_SESSION_SECRET can finish what another started.
 * - The identity is the verified email: from the ID token, or from userinfo
 *   when the token has none. Codes and tokens are never logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sealData, unsealData } from 'iron-session';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import type { SignInEnv } from '../../config/env.js';
import { checkEmail } from '../../domain/identity.js';
import { queryOf, redirect, safeNext } from '../respond.js';
import type { Sessions } from './session.js';

export const FLOW_COOKIE = 'conductor_oidc';
export const FLOW_SECONDS = 600;
export const CALLBACK_PATH = '/auth/callback';
/** What sign-in asks for (and the user scopes of the Slack app in manifest.yml). */
export const SIGN_IN_SCOPES = ['openid', 'email', 'profile'] as const;
const SCOPE = SIGN_IN_SCOPES.join(' ');

/** A sign-in that cannot go on: shown as a page with `status`, logged with `reason` (never a code or a token). */
export class SignInError extends Error {
  constructor(
    readonly status: 400 | 403 | 502,
    readonly title: string,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
  /** Where "Try again" brings the person back to (the `next` of the failed sign-in, once known). */
  next = '/';
}

interface Flow {
  state: string;
  nonce: string;
  verifier?: string;
  next: string;
}

export interface OidcOptions {
  issuer: SignInEnv;
  /** `CONDUCTOR_PUBLIC_URL`: the redirect URI is `<publicUrl>/auth/callback`. */
  publicUrl: string;
  /** The session secret: seals the flow cookie too. */
  secret: string;
  sessions: Sessions;
  log: Logger;
  /** Seconds per request to the issuer (default 10). */
  timeoutSeconds?: number;
}

export class OidcSignIn {
  readonly label: string;
  readonly redirectUri: string;
  private readonly issuerName: string;
  private readonly insecure: boolean;
  private readonly secure: boolean;
  private config: Promise<client.Configuration> | null = null;

  constructor(private readonly opts: OidcOptions) {
    const issuerUrl = new URL(opts.issuer.issuerUrl);
    this.issuerName = opts.issuer.kind === 'slack' ? 'Slack' : issuerUrl.host;
    this.label = opts.issuer.kind === 'slack' ? 'Sign in with Slack' : `Sign in with ${issuerUrl.host}`;
    this.redirectUri = `${opts.publicUrl}${CALLBACK_PATH}`;
    // The environment allows http:// only on loopback hosts (tests, a local Keycloak).
    this.insecure = issuerUrl.protocol === 'http:';
    this.secure = opts.publicUrl.startsWith('https:');
  }

  /** Redirects to the issuer, with the flow sealed in a cookie for the callback. */
  async start(_req: IncomingMessage, res: ServerResponse, next: string): Promise<void> {
    const config = await this.discover();
    const flow: Flow = { state: client.randomState(), nonce: client.randomNonce(), next: safeNext(next) };
    const params: Record<string, string> = { redirect_uri: this.redirectUri, scope: SCOPE, state: flow.state, nonce: flow.nonce };
    if (config.serverMetadata().supportsPKCE('S256')) {
      flow.verifier = client.randomPKCECodeVerifier();
      params.code_challenge = await client.calculatePKCECodeChallenge(flow.verifier);
      params.code_challenge_method = 'S256';
    }
    const sealed = await sealData(flow, { password: this.opts.secret, ttl: FLOW_SECONDS });
    this.setFlowCookie(res, sealed, FLOW_SECONDS);
    redirect(res, client.buildAuthorizationUrl(config, params).href);
  }

  /** `GET /auth/callback`: checks everything, then signs in and redirects to where the sign-in started. Throws `SignInError`. */
  async finish(req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
    // Single use: whatever happens next, this flow is over.
    this.setFlowCookie(res, '', 0);
    const query = queryOf(req);
    const flow = await this.flowOf(req);
    try {
      await this.complete(req, res, log, query, flow);
    } catch (e) {
      if (e instanceof SignInError && flow) e.next = flow.next;
      throw e;
    }
  }

  private async complete(req: IncomingMessage, res: ServerResponse, log: Logger, query: URLSearchParams, flow: Flow | null): Promise<void> {
    if (!flow) throw new SignInError(400, 'Sign-in expired', 'This sign-in was started more than 10 minutes ago, or in another browser.', 'no flow cookie (missing, expired or not ours)');
    if (query.get('state') !== flow.state)
      throw new SignInError(400, 'Sign-in not recognised', 'This answer from the sign-in provider does not belong to the sign-in this browser started.', 'state mismatch');
    // After the state check: only the issuer's own answer gets its words on our page.
    const error = query.get('error');
    if (error !== null) {
      const description = query.get('error_description');
      throw new SignInError(
        403,
        'Sign-in refused',
        `${this.issuerName} did not sign you in: ${error.slice(0, 100)}${description ? ` (${description.slice(0, 300)})` : ''}.`,
        `issuer error ${error.slice(0, 100)}`,
      );
    }

    const config = await this.discover();
    const current = new URL(this.redirectUri);
    current.search = query.toString();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
        ...(flow.verifier ? { pkceCodeVerifier: flow.verifier } : {}),
      });
    } catch (e) {
      throw this.refusal(e);
    }
    const claims = tokens.claims();
    if (!claims) throw new SignInError(403, 'Sign-in refused', `${this.issuerName} sent no ID token.`, 'no id_token');
    let email: unknown = claims.email;
    let verified: unknown = claims.email_verified;
    if (typeof email !== 'string' || verified === undefined) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        if (typeof email !== 'string') email = info.email;
        if (email === info.email) verified = info.email_verified;
      } catch (e) {
        throw this.refusal(e);
      }
    }
    if (typeof email !== 'string')
      throw new SignInError(403, 'No email address', `${this.issuerName} did not tell us your email address, and Conductor knows people by their email.`, 'no email claim');
    const checked = checkEmail(email);
    if (!checked.ok) throw new SignInError(403, 'No usable email address', `The email address ${this.issuerName} gave is not usable: ${checked.reason}.`, `bad email: ${checked.reason}`);
    // Some issuers send the claim as a string.
    if (verified !== true && verified !== 'true') {
      throw new SignInError(403, 'Email not verified', `${this.issuerName} has not verified your email address ${checked.email}: verify it there, then try again.`, 'email not verified');
    }
    await this.opts.sessions.signIn(req, res, checked.email);
    log.info({ email: checked.email, method: this.opts.issuer.kind }, 'signed in');
    redirect(res, safeNext(flow.next));
  }

  private async flowOf(req: IncomingMessage): Promise<Flow | null> {
    const raw = cookieValue(req.headers.cookie, FLOW_COOKIE);
    if (!raw) return null;
    const data = await unsealData<Partial<Flow>>(raw, { password: this.opts.secret, ttl: FLOW_SECONDS }).catch(() => ({}) as Partial<Flow>);
    if (typeof data.state !== 'string' || typeof data.nonce !== 'string' || typeof data.next !== 'string') return null;
    return { state: data.state, nonce: data.nonce, next: data.next, ...(typeof data.verifier === 'string' ? { verifier: data.verifier } : {}) };
  }

  private setFlowCookie(res: ServerResponse, value: string, maxAge: number): void {
    const cookie = `${FLOW_COOKIE}=${value}; Path=${CALLBACK_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`;
    const existing = res.getHeader('set-cookie');
    const list = Array.isArray(existing) ? existing : typeof existing === 'string' ? [existing] : [];
    res.setHeader('set-cookie', [...list.filter((c) => !c.startsWith(`${FLOW_COOKIE}=`)), cookie]);
  }

  /** The issuer's configuration, discovered once; a failure is forgotten so the next sign-in tries again. */
  private discover(): Promise<client.Configuration> {
    this.config ??= this.runDiscovery().catch((e: unknown) => {
      this.config = null;
      const reason = e instanceof Error ? e.message : String(e);
      this.opts.log.warn({ issuer: this.opts.issuer.issuerUrl, reason }, 'sign-in: discovery failed');
      throw new SignInError(
        502,
        'Sign-in provider unavailable',
        `Conductor could not reach ${this.issuerName} (${this.opts.issuer.issuerUrl}) to sign you in. Try again in a moment; if it persists, tell an administrator.`,
        `discovery failed: ${reason}`,
      );
    });
    return this.config;
  }

  private async runDiscovery(): Promise<client.Configuration> {
    const { issuerUrl, clientId, clientSecret } = this.opts.issuer;
    const execute = this.insecure ? [client.allowInsecureRequests] : [];
    const timeout = this.opts.timeoutSeconds ?? 10;
    const found = await client.discovery(new URL(issuerUrl), clientId, undefined, client.ClientSecretBasic(clientSecret), { execute, timeout });
    const server = found.serverMetadata();
    const methods = server.token_endpoint_auth_methods_supported;
    // client_secret_basic is the default (and assumed when the document names none); post only when that is all the issuer takes.
    const post = Array.isArray(methods) && !methods.includes('client_secret_basic') && methods.includes('client_secret_post');
    const config = new client.Configuration(server, clientId, undefined, post ? client.ClientSecretPost(clientSecret) : client.ClientSecretBasic(clientSecret));
    for (const run of execute) run(config);
    config.timeout = timeout;
    this.opts.log.info({ issuer: issuerUrl, pkce: server.supportsPKCE('S256'), clientAuth: post ? 'client_secret_post' : 'client_secret_basic' }, 'sign-in: issuer discovered');
    return config;
  }

  private refusal(e: unknown): SignInError {
    if (e instanceof client.ResponseBodyError) {
      // e.g. invalid_grant: a code used twice, expired, or not for this client.
      return new SignInError(403, 'Sign-in refused', `${this.issuerName} did not accept this sign-in (${e.error}). A sign-in link works once: start again.`, `token endpoint: ${e.error}`);
    }
    if (e instanceof client.AuthorizationResponseError) {
      return new SignInError(403, 'Sign-in refused', `${this.issuerName} did not sign you in (${e.error}).`, `authorization response: ${e.error}`);
    }
    // The issuer answered, but not with OAuth JSON (a 5xx, a proxy's error page): it is the issuer's trouble.
    if (e instanceof client.ClientError && e.code !== 'OAUTH_RESPONSE_IS_NOT_CONFORM' && e.code !== 'OAUTH_RESPONSE_IS_NOT_JSON') {
      return new SignInError(400, 'Sign-in not accepted', `The answer from ${this.issuerName} did not pass Conductor's checks (${e.message}).`, `check failed: ${e.code ?? ''} ${e.message}`);
    }
    const reason = e instanceof Error ? e.message : String(e);
    return new SignInError(502, 'Sign-in provider unavailable', `Conductor could not complete the sign-in with ${this.issuerName}. Try again in a moment.`, `request failed: ${reason}`);
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
