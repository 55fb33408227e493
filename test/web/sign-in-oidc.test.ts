/**
 * OpenID Connect sign-in against a real issuer (oidc-provider on 127.0.0.1):
 * discovery, the code flow with state, nonce and PKCE, and every refusal.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, type RunningApp, startTestApp } from '../support/app-harness.js';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';

/** What the apps logged (JSON lines), and every code and state the issuer handed back: none of those may reach the log. */
const logged: string[] = [];
const secrets = new Set<string>();
const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });

const SECRET = { CONDUCTOR_SESSION_SECRET: 'a-session-secret-of-at-least-32-characters!' };

/** An app on a fixed port (its public URL must be its callback's) and an issuer that knows that callback. */
async function appWithIssuer(env: (issuer: TestIssuer) => Record<string, string>, issuerOpts: { emailInIdToken?: boolean; authMethod?: string } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const issuer = await startTestIssuer({ redirectUri: `${base}/auth/callback`, ...issuerOpts });
  const app = await startTestApp({ env: { PORT: String(port), CONDUCTOR_PUBLIC_URL: base, ...SECRET, ...env(issuer) }, app: { log } });
  return { base, issuer, app };
}

/** `GET /auth/login?next=…`: the authorization URL and the flow cookie. */
async function begin(base: string, next = '/') {
  const res = await fetch(`${base}/auth/login?next=${encodeURIComponent(next)}`, { redirect: 'manual' });
  expect(res.status).toBe(303);
  const set = res.headers.getSetCookie().find((c) => c.startsWith('conductor_oidc='));
  expect(set).toBeDefined();
  return { authUrl: new URL(res.headers.get('location')!), flowCookie: set!.split(';')[0]!, setCookie: set! };
}

function callback(url: string, flowCookie: string) {
  for (const k of ['code', 'state']) {
    const v = new URL(url).searchParams.get(k);
    if (v && v.length > 10) secrets.add(v);
  }
  return fetch(url, { headers: { cookie: flowCookie }, redirect: 'manual' });
}

const sessionOf = (res: Response) => res.headers.getSetCookie().find((c) => c.startsWith('conductor_session='));

async function expectRefused(res: Response, status: number, text: string) {
  expect(res.status).toBe(status);
  expect(sessionOf(res)).toBeUndefined();
  const html = await res.text();
  expect(html).toContain(text);
  expect(html).toMatch(/href="\/auth\/login(\?next=[^"]*)?">Try again/);
  return html;
}

describe('sign-in with an OpenID Connect issuer', () => {
  let t: Awaited<ReturnType<typeof appWithIssuer>>;
  beforeAll(async () => {
    t = await appWithIssuer((i) => ({ OIDC_ISSUER_URL: i.url, OIDC_CLIENT_ID: i.clientId, OIDC_CLIENT_SECRET: i.clientSecret }));
  });
  afterAll(async () => {
    await t?.app.stop();
    await t?.issuer.stop();
  });

  test('the code flow with state, nonce and PKCE signs in and lands on next, my email on the page', async () => {
    const { authUrl, flowCookie, setCookie } = await begin(t.base, '/?from=oidc');
    expect(authUrl.origin + authUrl.pathname).toBe(`${t.issuer.url}/auth`);
    const q = authUrl.searchParams;
    expect(q.get('redirect_uri')).toBe(`${t.base}/auth/callback`);
    expect(q.get('scope')).toBe('openid email profile');
    expect(q.get('response_type')).toBe('code');
    expect(q.get('state')?.length).toBeGreaterThan(20);
    expect(q.get('nonce')?.length).toBeGreaterThan(20);
    expect(q.get('code_challenge_method')).toBe('S256'); // discovery offers S256
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Path=\/auth\/callback/);
    expect(setCookie).toMatch(/Max-Age=600/);
    expect(setCookie).not.toContain(q.get('state')!); // sealed

    const back = await t.issuer.authorize(authUrl.href, 'Ada@Example.com');
    const res = await callback(back, flowCookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?from=oidc');
    const cleared = res.headers.getSetCookie().find((c) => c.startsWith('conductor_oidc='))!;
    expect(cleared).toMatch(/Max-Age=0/);
    const session = sessionOf(res)!.split(';')[0]!;
    const page = await fetch(`${t.base}/?from=oidc`, { headers: { cookie: session }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('ada@example.com');
  });

  test('a state that is not the flow’s, or no flow cookie, is refused with no session', async () => {
    const { authUrl, flowCookie } = await begin(t.base);
    const back = new URL(await t.issuer.authorize(authUrl.href, 'bob@example.com'));
    back.searchParams.set('state', 'forged');
    await expectRefused(await callback(back.href, flowCookie), 400, 'does not belong to the sign-in this browser started');
    back.searchParams.set('state', authUrl.searchParams.get('state')!);
    await expectRefused(await callback(back.href, ''), 400, 'more than 10 minutes ago');
    await expectRefused(await callback(back.href, 'conductor_oidc=Fe26.2**garbage'), 400, 'more than 10 minutes ago');
  });

  test('a code used twice is refused the second time', async () => {
    const { authUrl, flowCookie } = await begin(t.base);
    const back = await t.issuer.authorize(authUrl.href, 'carol@example.com');
    expect((await callback(back, flowCookie)).status).toBe(303);
    await expectRefused(await callback(back, flowCookie), 403, 'invalid_grant');
  });

  test('an email the issuer has not verified is refused', async () => {
    t.issuer.unverified.add('eve@example.com');
    const { authUrl, flowCookie } = await begin(t.base, '/history?q=x');
    const back = await t.issuer.authorize(authUrl.href, 'eve@example.com');
    const html = await expectRefused(await callback(back, flowCookie), 403, 'has not verified your email address eve@example.com');
    expect(html).toContain('href="/auth/login?next=%2Fhistory%3Fq%3Dx"'); // try again comes back to the same place
  });

  test('an error from the issuer is shown (escaped), with no session', async () => {
    const { authUrl, flowCookie } = await begin(t.base);
    const state = authUrl.searchParams.get('state')!;
    const url = `${t.base}/auth/callback?${new URLSearchParams({ error: 'access_denied', error_description: '<img src=x onerror=alert(1)>', state })}`;
    const html = await expectRefused(await callback(url, flowCookie), 403, 'access_denied');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x');
    // Not without the flow's state: nobody else's words reach our page.
    const forged = await callback(`${t.base}/auth/callback?${new URLSearchParams({ error: 'access_denied', error_description: 'Call +1 555 0100', state: 'x' })}`, flowCookie);
    expect(await expectRefused(forged, 400, 'does not belong')).not.toContain('555 0100');
  });

  test('hostile callback queries get a 4xx page, never a crash', async () => {
    for (const q of ['', '?code=x', '?state=%00&code=%ff', `?code=${'a'.repeat(5000)}&state=x`, '?error=' + encodeURIComponent('<script>')]) {
      const res = await fetch(`${t.base}/auth/callback${q}`, { redirect: 'manual' });
      expect([400, 403]).toContain(res.status);
      expect(sessionOf(res)).toBeUndefined();
    }
    expect((await fetch(`${t.base}/healthz`)).status).toBe(200);
  });

  test('refusals are logged with their reason, and no code or state is ever logged', () => {
    const refusals = logged.map((l) => JSON.parse(l)).filter((e) => e.msg === 'sign-in refused');
    expect(refusals.map((e) => e.reason)).toEqual(expect.arrayContaining(['state mismatch', 'token endpoint: invalid_grant', 'email not verified', 'issuer error access_denied']));
    expect(logged.some((l) => l.includes('"signed in"') && l.includes('ada@example.com'))).toBe(true);
    expect(secrets.size).toBeGreaterThan(4);
    for (const s of secrets) expect(logged.join('\n')).not.toContain(s);
  });

  test('the local form does not exist, and /auth/login from this machine goes to the issuer', async () => {
    const local = await fetch(`${t.base}/auth/local`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.base },
      body: 'email=mallory%40example.com',
    });
    expect(local.status).toBe(404);
    expect(sessionOf(local)).toBeUndefined();
    const login = await fetch(`${t.base}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')!.startsWith(`${t.issuer.url}/auth?`)).toBe(true);
    // A page still sends a stranger to sign in, and next survives the round trip.
    const home = await fetch(`${t.base}/`, { redirect: 'manual' });
    expect(home.headers.get('location')).toBe('/auth/login?next=%2F');
  });
});

describe('Sign in with Slack', () => {
  test('the issuer is the origin of SLACK_API_URL; client_secret_post when that is all discovery offers; the email from userinfo', async () => {
    // Slack's discovery offers client_secret_post only; this issuer keeps the email out of the ID token too (userinfo path).
    const t = await appWithIssuer((i) => ({ SLACK_API_URL: `${i.url}/api/`, SLACK_CLIENT_ID: i.clientId, SLACK_CLIENT_SECRET: i.clientSecret }), {
      authMethod: 'client_secret_post',
      emailInIdToken: false,
    });
    try {
      const { authUrl, flowCookie } = await begin(t.base, '/');
      expect(authUrl.href.startsWith(`${t.issuer.url}/auth?`)).toBe(true);
      const back = await t.issuer.authorize(authUrl.href, 'slacker@example.com');
      const res = await callback(back, flowCookie);
      expect(res.status).toBe(303);
      const page = await fetch(`${t.base}/`, { headers: { cookie: sessionOf(res)!.split(';')[0]! } });
      expect(await page.text()).toContain('slacker@example.com');
    } finally {
      await t.app.stop();
      await t.issuer.stop();
    }
  });
});

describe('an issuer that is down', () => {
  let app: RunningApp;
  let issuer: TestIssuer | undefined;
  afterAll(async () => {
    await app?.stop();
    await issuer?.stop();
  });

  test('gives a clear 502 page, the server still serves, and sign-in works once the issuer is back', async () => {
    const [port, issuerPort] = [await freePort(), await freePort()];
    const base = `http://127.0.0.1:${port}`;
    app = await startTestApp({
      env: {
        PORT: String(port),
        CONDUCTOR_PUBLIC_URL: base,
        ...SECRET,
        OIDC_ISSUER_URL: `http://127.0.0.1:${issuerPort}`,
        OIDC_CLIENT_ID: 'conductor',
        OIDC_CLIENT_SECRET: 'a-client-secret-for-tests-only',
      },
    });
    const down = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    expect(down.status).toBe(502);
    expect(await down.text()).toContain(`could not reach 127.0.0.1:${issuerPort}`);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    issuer = await startTestIssuer({ redirectUri: `${base}/auth/callback`, port: issuerPort });
    const { authUrl, flowCookie } = await begin(base);
    const res = await callback(await issuer.authorize(authUrl.href, 'late@example.com'), flowCookie);
    expect(res.status).toBe(303);
    expect(sessionOf(res)).toBeDefined();
  });
});
