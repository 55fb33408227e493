/**
 * The outcome of a form sent without JavaScript (an action, a schedule change):
 * the POST answers 303 back to the page, and the page shows the reply once. It
 * crosses the redirect in a short-lived cookie sealed with the session secret
 * (iron-session), never in the URL, so nobody can make a page show words of
 * their choosing; the page that shows it clears it. Preact escapes the text.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sealData, unsealData } from 'iron-session';

export const FLASH_COOKIE = 'conductor_flash';
const SECONDS = 120;
/** Browsers drop a cookie over 4 KB: a longer reply (a long list of freeze dates) is cut; sealed, it grows by about a third. */
const MAX_TEXT = 1500;

export interface Flash {
  ok: boolean;
  text: string;
  /** The line it is about, when one page must not show another line's reply (the schedule editor). */
  line?: string;
}

export interface FlashKeys {
  secret: string;
  publicUrl: string;
}

function cookie(value: string, seconds: number, keys: FlashKeys): string {
  return `${FLASH_COOKIE}=${value}; Path=/; Max-Age=${seconds}; HttpOnly; SameSite=Lax${keys.publicUrl.startsWith('https:') ? '; Secure' : ''}`;
}

function cookieValue(req: IncomingMessage): string | null {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === FLASH_COOKIE) return v.join('=');
  }
  return null;
}

export async function setFlash(res: ServerResponse, keys: FlashKeys, flash: Flash): Promise<void> {
  const text = flash.text.length > MAX_TEXT ? `${flash.text.slice(0, MAX_TEXT - 1)}…` : flash.text;
  const sealed = await sealData({ ...flash, text }, { password: keys.secret, ttl: SECONDS });
  res.appendHeader('set-cookie', cookie(sealed, SECONDS, keys));
}

/** The flash of this request, if any (a bad or expired seal is none); clears the cookie either way, so it is shown once. */
export async function takeFlash(req: IncomingMessage, res: ServerResponse, keys: FlashKeys): Promise<Flash | null> {
  const sealed = cookieValue(req);
  if (!sealed) return null;
  res.appendHeader('set-cookie', cookie('', 0, keys));
  const v = await unsealData<Partial<Flash>>(sealed, { password: keys.secret, ttl: SECONDS }).catch(() => ({}) as Partial<Flash>);
  if (typeof v.ok !== 'boolean' || typeof v.text !== 'string') return null;
  return { ok: v.ok, text: v.text.slice(0, MAX_TEXT), ...(typeof v.line === 'string' ? { line: v.line } : {}) };
}
