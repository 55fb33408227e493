/**
 * The outcome of a schedule change, carried across the 303 redirect in a
 * short-lived cookie sealed with the session secret (iron-session), so the
 * page after the redirect can say what happened without putting the reply in
 * the URL (where anyone could write a message for it to show). Read once:
 * the page that shows it clears it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sealData, unsealData } from 'iron-session';
import type { Reply } from '../../engine/engine.js';

export const FLASH_COOKIE = 'conductor_flash';
const FLASH_SECONDS = 120;

export interface Flash extends Reply {
  /** The line it is about: another line's editor does not show it. */
  line: string;
}

function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

const attributes = (path: string, secure: boolean, seconds: number) => `Path=${path}; Max-Age=${seconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;

/** Browsers drop a cookie over 4 KB: a longer reply (a long list of freeze dates) is cut, sealed it grows by about a third. */
const MAX_TEXT = 1500;

export async function setFlash(res: ServerResponse, secret: string, path: string, secure: boolean, flash: Flash): Promise<void> {
  const text = flash.text.length > MAX_TEXT ? `${flash.text.slice(0, MAX_TEXT)}…` : flash.text;
  const sealed = await sealData({ ...flash, text }, { password: secret, ttl: FLASH_SECONDS });
  res.appendHeader('set-cookie', `${FLASH_COOKIE}=${sealed}; ${attributes(path, secure, FLASH_SECONDS)}`);
}

/** The flash for `line`, if any (a bad or expired seal is none); clears the cookie either way. */
export async function takeFlash(req: IncomingMessage, res: ServerResponse, secret: string, path: string, secure: boolean, line: string): Promise<Reply | null> {
  const sealed = cookieValue(req, FLASH_COOKIE);
  if (!sealed) return null;
  res.appendHeader('set-cookie', `${FLASH_COOKIE}=; ${attributes(path, secure, 0)}`);
  const data = await unsealData<Partial<Flash>>(sealed, { password: secret, ttl: FLASH_SECONDS }).catch(() => ({}) as Partial<Flash>);
  if (data.line !== line || typeof data.ok !== 'boolean' || typeof data.text !== 'string') return null;
  return { ok: data.ok, text: data.text };
}
