/**
 * The signed-in person, in a sealed cookie (iron-session: encrypted and
 * authenticated with the session secret, so nothing is stored server-side and
 * every Conductor process can read it). HttpOnly, SameSite=Lax, Secure when the
 * public URL is https, 12 hours.
 *
 * Every state-changing request is a POST that carries the session's CSRF token
 * (form field `_csrf` or header `x-csrf-token`) and an `Origin` that is this
 * site: `checkPost` refuses anything else with 403 before it is read further.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getIronSession, type SessionOptions } from 'iron-session';
import { HttpError } from '../../http/router.js';

export const SESSION_COOKIE = 'conductor_session';
export const SESSION_HOURS = 12;

export interface SignedIn {
  email: string;
  /** The CSRF token of this session (random, sealed in the cookie with the rest). */
  csrf: string;
  /** Epoch milliseconds: the session ends 12 hours after sign-in, however active it is. */
  since: number;
}

type SessionData = Partial<SignedIn>;

export interface SessionsOptions {
  secret: string;
  /** `CONDUCTOR_PUBLIC_URL`: decides the Secure flag and is an allowed Origin. */
  publicUrl: string;
  clock?: () => number;
}

export class Sessions {
  private readonly options: SessionOptions;
  private readonly publicOrigin: string;
  private readonly clock: () => number;

  constructor(opts: SessionsOptions) {
    const secure = opts.publicUrl.startsWith('https:');
    this.publicOrigin = new URL(opts.publicUrl).origin;
    this.clock = opts.clock ?? Date.now;
    this.options = {
      cookieName: SESSION_COOKIE,
      password: opts.secret,
      ttl: SESSION_HOURS * 3600,
      cookieOptions: { httpOnly: true, sameSite: 'lax', secure, path: '/' },
    };
  }

  /** The signed-in person of this request; null without a cookie, with a bad seal, or after 12 hours. */
  async whoIs(req: IncomingMessage, res: ServerResponse): Promise<SignedIn | null> {
    const s = await getIronSession<SessionData>(req, res, this.options);
    if (typeof s.email !== 'string' || typeof s.csrf !== 'string' || typeof s.since !== 'number') return null;
    if (this.clock() - s.since > SESSION_HOURS * 3600_000 || s.since > this.clock() + 60_000) return null;
    return { email: s.email, csrf: s.csrf, since: s.since };
  }

  /** Starts a session for `email` (already checked by the sign-in that calls this). Sets the cookie. */
  async signIn(req: IncomingMessage, res: ServerResponse, email: string): Promise<SignedIn> {
    const s = await getIronSession<SessionData>(req, res, this.options);
    s.email = email.toLowerCase();
    s.csrf = randomBytes(24).toString('base64url');
    s.since = this.clock();
    await s.save();
    return { email: s.email, csrf: s.csrf, since: s.since };
  }

  async signOut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const s = await getIronSession<SessionData>(req, res, this.options);
    s.destroy();
  }

  /**
   * A state-changing POST: the `Origin` must be this site (the public URL, or the
   * host the request was sent to) and the token must be the session's. Throws 403.
   */
  checkPost(req: IncomingMessage, me: SignedIn | null, token: string | undefined): void {
    this.checkOrigin(req);
    if (!me) throw new HttpError(403, 'not signed in');
    const given = Buffer.from(token ?? '');
    const expected = Buffer.from(me.csrf);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpError(403, 'missing or wrong CSRF token');
  }

  /** `Origin` of a POST: missing, `null` or another site is refused (403). */
  checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || origin === 'null') throw new HttpError(403, 'a POST must carry the Origin of this site');
    if (origin === this.publicOrigin) return;
    const host = req.headers.host;
    if (typeof host === 'string' && (origin === `http://${host}` || origin === `https://${host}`)) return;
    throw new HttpError(403, `a POST from another site (${origin.slice(0, 100)}) is refused`);
  }
}
