/**
 * The outcome of an action sent without JavaScript: the POST answers 303 back to
 * the page, and the page shows the reply once. It travels in a short-lived
 * cookie (HttpOnly, SameSite=Lax, one minute) that the next page takes and
 * clears. The text is only ever shown as text (Preact escapes it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const FLASH_COOKIE = 'conductor_flash';
const MAX_TEXT = 1500;
const SECONDS = 60;

export interface Flash {
  ok: boolean;
  text: string;
}

function cookie(value: string, maxAge: number, secure: boolean): string {
  return `${FLASH_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

function append(res: ServerResponse, value: string): void {
  const prior = res.getHeader('set-cookie');
  const list = prior === undefined ? [] : Array.isArray(prior) ? prior : [String(prior)];
  res.setHeader('set-cookie', [...list, value]);
}

export function setFlash(res: ServerResponse, flash: Flash, publicUrl: string): void {
  const text = flash.text.length > MAX_TEXT ? `${flash.text.slice(0, MAX_TEXT - 1)}…` : flash.text;
  const value = Buffer.from(JSON.stringify({ ok: flash.ok, text }), 'utf8').toString('base64url');
  append(res, cookie(value, SECONDS, publicUrl.startsWith('https:')));
}

/** The flash of this request, if any; clears it so that it is shown once. */
export function takeFlash(req: IncomingMessage, res: ServerResponse, publicUrl: string): Flash | null {
  const raw = req.headers.cookie
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${FLASH_COOKIE}=`))
    ?.slice(FLASH_COOKIE.length + 1);
  if (!raw) return null;
  append(res, cookie('', 0, publicUrl.startsWith('https:')));
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && typeof (v as Flash).ok === 'boolean' && typeof (v as Flash).text === 'string')
      return { ok: (v as Flash).ok, text: (v as Flash).text.slice(0, MAX_TEXT) };
  } catch {
    // A cookie we did not write: ignored.
  }
  return null;
}
