import { describe, expect, it } from 'vitest';
import { githubSignature, verifyGithubSignature } from '../../../src/integrations/github/signature.js';

const secret = "It's a Secret to Everybody";
const body = Buffer.from('Hello, World!');

describe('verifyGithubSignature', () => {
  it('accepts GitHub’s documented example', () => {
    // From GitHub's "Validating webhook deliveries" docs.
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(verifyGithubSignature(body, header, secret)).toBe(true);
    expect(githubSignature(body, secret)).toBe(header);
  });

  it('accepts upper-case hex and surrounding spaces', () => {
    const header = githubSignature(body, secret);
    expect(verifyGithubSignature(body, ' sha256=' + header.slice(7).toUpperCase() + ' ', secret)).toBe(true);
  });

  it('refuses a signature made with another secret', () => {
    expect(verifyGithubSignature(body, githubSignature(body, 'other'), secret)).toBe(false);
  });

  it('refuses a tampered body, even by one byte', () => {
    const header = githubSignature(body, secret);
    expect(verifyGithubSignature(Buffer.from('Hello, World?'), header, secret)).toBe(false);
    expect(verifyGithubSignature(Buffer.concat([body, Buffer.from('\n')]), header, secret)).toBe(false);
  });

  it('works on the raw bytes, not a re-encoding', () => {
    const raw = Buffer.from('{"a": "é",  "b":1}', 'utf8');
    const header = githubSignature(raw, secret);
    expect(verifyGithubSignature(raw, header, secret)).toBe(true);
    expect(verifyGithubSignature(Buffer.from(JSON.stringify(JSON.parse(raw.toString()))), header, secret)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['sha1 scheme', 'sha1=' + 'a'.repeat(40)],
    ['no prefix', githubSignature(body, secret).slice(7)],
    ['too short', githubSignature(body, secret).slice(0, -2)],
    ['too long', githubSignature(body, secret) + '00'],
    ['not hex', 'sha256=' + 'z'.repeat(64)],
    ['two values', `${githubSignature(body, secret)},${githubSignature(body, secret)}`],
  ])('refuses a malformed header (%s)', (_, header) => {
    expect(verifyGithubSignature(body, header, secret)).toBe(false);
  });

  it('refuses everything with an empty secret', () => {
    expect(verifyGithubSignature(body, githubSignature(body, ''), '')).toBe(false);
  });
});
