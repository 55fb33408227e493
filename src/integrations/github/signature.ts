import { createHmac, timingSafeEqual } from 'node:crypto';

const HEADER = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Checks GitHub's `X-Hub-Signature-256: sha256=<hex>` header: an HMAC-SHA256 of
 * the RAW request body with the webhook secret. Compared in constant time; any
 * malformed header (missing, other algorithm, wrong length, not hex) is false.
 */
export function verifyGithubSignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (typeof header !== 'string' || secret.length === 0) return false;
  const m = HEADER.exec(header.trim());
  if (!m) return false;
  const given = Buffer.from(m[1]!.toLowerCase(), 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The header value GitHub would send for `rawBody` (tests, fakes). */
export function githubSignature(rawBody: Buffer | string, secret: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(rawBody).digest('hex');
}
