/**
 * A signed-in browser without a browser: fetch with the session cookie and the
 * CSRF token, for route tests of the Web App. Signs in through the real local
 * form (loopback), exactly as a person on this machine does.
 */
export interface WebClient {
  base: string;
  email: string;
  cookie: string;
  csrf: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** A form POST from this site (Origin set) with the CSRF token unless `form._csrf` is given. */
  post(path: string, form?: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  /** The HTML of a page that must answer 200. */
  html(path: string): Promise<string>;
}

export function cookieOf(res: Response): string {
  const set = res.headers.getSetCookie();
  const session = set.find((c) => c.startsWith('conductor_session='));
  if (!session) throw new Error(`no session cookie in ${JSON.stringify(set)}`);
  return session.split(';')[0]!;
}

export async function signIn(base: string, email: string): Promise<WebClient> {
  const res = await fetch(`${base}/auth/local`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams({ email, next: '/' }),
  });
  if (res.status !== 303) throw new Error(`local sign-in answered ${res.status}: ${await res.text()}`);
  const cookie = cookieOf(res);
  const home = await fetch(`${base}/`, { headers: { cookie }, redirect: 'manual' });
  const page = await home.text();
  const csrf = /data-csrf="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error(`no CSRF token on the overview (status ${home.status})`);
  const client: WebClient = {
    base,
    email,
    cookie,
    csrf,
    get: (path, headers = {}) => fetch(`${base}${path}`, { headers: { cookie, ...headers }, redirect: 'manual' }),
    post: (path, form = {}, headers = {}) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ _csrf: csrf, ...form }),
      }),
    async html(path) {
      const r = await client.get(path);
      const text = await r.text();
      if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}: ${text.slice(0, 500)}`);
      return text;
    },
  };
  return client;
}
