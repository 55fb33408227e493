/**
 * Who a person is, in Conductor: an email address. Every email that enters
 * (the command API's `user`, a Slack profile, a commit author, an `engineer`
 * target) passes `checkEmail` once, at the edge; what fails is not a person
 * Conductor acts for or names as engineer.
 *
 * The rule (deliberately narrower than RFC 5321, which allows quoted local
 * parts and address literals nobody uses for a work identity):
 * - at most 254 characters (the SMTP path limit), after trimming spaces;
 * - no control characters (C0, DEL, C1: a NUL is refused by PostgreSQL too) and
 *   no invisible format characters (Unicode category Cf: the bidirectional
 *   overrides, isolates and marks U+202A–U+202E, U+2066–U+2069, U+200E/F,
 *   U+061C, zero-width spaces and joiners, the BOM): they make an address read
 *   as another one in Slack and in the log;
 * - no whitespace; exactly one `@`;
 * - a local part of 1 to 64 characters without `<`, `>`, `"`, `,`, `;`, `(`, `)`;
 * - a domain of dot-separated labels (letters of any script, digits, inner
 *   hyphens; 1 to 63 characters each) with at least one dot, or `localhost`
 *   (git's default identities on a developer machine use it).
 */
export type EmailCheck = { ok: true; email: string } | { ok: false; reason: string };

export const MAX_EMAIL_LENGTH = 254;

const CONTROL = /\p{Cc}/u;
const FORMAT = /\p{Cf}/u;
const LOCAL = /^[^\s@<>",;()]{1,64}$/u;
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/** Pure: `raw` as a person's email (trimmed, lower-cased), or why it is not one, in a sentence. */
export function checkEmail(raw: string): EmailCheck {
  // Before trimming: a newline or NUL at either end is no more acceptable than inside.
  if (CONTROL.test(raw)) return { ok: false, reason: 'the email contains a control character' };
  if (FORMAT.test(raw)) return { ok: false, reason: 'the email contains an invisible or text-direction character' };
  const email = raw.trim();
  if (email.length === 0) return { ok: false, reason: 'the email is empty' };
  if (email.length > MAX_EMAIL_LENGTH) return { ok: false, reason: `the email is longer than ${MAX_EMAIL_LENGTH} characters` };
  if (/\s/u.test(email)) return { ok: false, reason: 'the email contains a space' };
  const at = email.split('@');
  if (at.length !== 2) return { ok: false, reason: 'an email has exactly one @' };
  const [local, domain] = at as [string, string];
  if (!LOCAL.test(local)) return { ok: false, reason: 'the part before @ must be 1 to 64 characters, without <>",;()' };
  const lower = domain.toLowerCase();
  if (lower !== 'localhost') {
    const labels = lower.split('.');
    if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return { ok: false, reason: 'the part after @ must be a domain name such as example.com' };
  }
  return { ok: true, email: email.toLowerCase() };
}

/** True when `raw` is a person's email Conductor accepts. */
export const isValidEmail = (raw: string): boolean => checkEmail(raw).ok;
