/**
 * A real OpenID Connect issuer for the sign-in tests: `oidc-provider` on
 * 127.0.0.1 (a random port), one confidential client (client_secret_basic),
 * accounts whose id is their email, and its development login and consent
 * pages, which `authorize()` drives like a browser.
 */
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

export interface TestIssuer {
  url: string;
  clientId: string;
  clientSecret: string;
  /** The email_verified claim of an account (default true). */
  unverified: Set<string>;
  /** Follows an authorization URL through login (as `login`) and consent: answers the redirect to the client (the callback URL). */
  authorize(authorizationUrl: string, login: string): Promise<string>;
  stop(): Promise<void>;
}

/** `authMethod`: the client's and the only one discovery offers (default client_secret_basic). `port`: default random. */
export async function startTestIssuer(opts: { redirectUri: string; emailInIdToken?: boolean; authMethod?: string; port?: number }): Promise<TestIssuer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const unverified = new Set<string>();
  const clientId = 'conductor';
  const clientSecret = 'a-client-secret-for-tests-only';
  const provider = new Provider(url, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [opts.redirectUri],
        token_endpoint_auth_method: opts.authMethod ?? 'client_secret_basic',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    clientAuthMethods: [opts.authMethod ?? 'client_secret_basic'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // false: the scope's claims go in the ID token too (like Slack's); true (the default): userinfo only.
    conformIdTokenClaims: !(opts.emailInIdToken ?? true),
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, email: id, email_verified: !unverified.has(id), name: 'Test Person' }),
    }),
    ttl: { AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
    cookies: { keys: ['test-cookie-key-0123456789'] },
    features: { devInteractions: { enabled: true } },
  });
  server.on('request', provider.callback());

  async function authorize(authorizationUrl: string, login: string): Promise<string> {
    const jar = new Map<string, string>();
    let target = authorizationUrl;
    let init: RequestInit = {};
    for (let step = 0; step < 12; step++) {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(target, { ...init, redirect: 'manual', headers: { cookie, ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) } });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair!.indexOf('=');
        jar.set(pair!.slice(0, i), pair!.slice(i + 1));
      }
      const location = res.headers.get('location');
      if (location) {
        const next = new URL(location, target).href;
        if (next.startsWith(opts.redirectUri)) return next;
        target = next;
        init = {};
        continue;
      }
      const html = await res.text();
      const action = /action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      if (!action || !prompt) throw new Error(`the issuer answered ${res.status} without a form: ${html.slice(0, 300)}`);
      target = new URL(action, target).href;
      init = { method: 'POST', body: new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'x' } : { prompt }).toString() };
    }
    throw new Error('the issuer never redirected back');
  }

  return {
    url,
    clientId,
    clientSecret,
    unverified,
    authorize,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
