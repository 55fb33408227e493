import { describe, expect, it } from 'vitest';
import { MalformedPushError, parsePushEvent } from '../../../src/integrations/github/push.js';
import { fakeSha, pushPayload, ZERO_SHA } from '../../support/fake-github.js';

const before = fakeSha(1, 'a');
const after = fakeSha(3);

function commits(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    sha: fakeSha(i + 1),
    authorName: `Dev ${i + 1}`,
    authorEmail: `Dev${i + 1}@Example.com`,
    message: `change ${i + 1}\n\nbody ${i + 1}\n`,
  }));
}

describe('parsePushEvent', () => {
  it('parses a normal push, oldest commit first', () => {
    const e = parsePushEvent(pushPayload({ repo: 'Acme/Web', branch: 'main', before, after, commits: commits(3) }));
    expect(e).toEqual({
      repo: 'acme/web',
      ref: 'refs/heads/main',
      branch: 'main',
      before,
      after,
      forced: false,
      deleted: false,
      created: false,
      truncated: false,
      commits: [1, 2, 3].map((i) => ({
        sha: fakeSha(i),
        authorName: `Dev ${i}`,
        authorEmail: `Dev${i}@Example.com`,
        message: `change ${i}\n\nbody ${i}`,
      })),
    });
  });

  it('keeps slashes in branch names', () => {
    expect(parsePushEvent(pushPayload({ repo: 'a/b', branch: 'release/2026-01', before, after, commits: commits(1) })).branch).toBe('release/2026-01');
  });

  it('marks 20 commits (GitHub’s cap) as truncated, 19 as complete', () => {
    expect(parsePushEvent(pushPayload({ repo: 'a/b', before, after, commits: commits(19) })).truncated).toBe(false);
    expect(parsePushEvent(pushPayload({ repo: 'a/b', before, after, commits: commits(20) })).truncated).toBe(true);
  });

  it('marks a payload whose distinct_size exceeds its commits as truncated', () => {
    const p = { ...pushPayload({ repo: 'a/b', before, after, commits: commits(2) }), distinct_size: 5 };
    expect(parsePushEvent(p).truncated).toBe(true);
  });

  it('reads a forced push', () => {
    const e = parsePushEvent(pushPayload({ repo: 'a/b', before, after, commits: commits(1), forced: true }));
    expect(e.forced).toBe(true);
  });

  it('reads a branch deletion', () => {
    const e = parsePushEvent(pushPayload({ repo: 'a/b', before, after: ZERO_SHA, commits: [], deleted: true }));
    expect(e).toMatchObject({ deleted: true, after: ZERO_SHA, commits: [], branch: 'main' });
  });

  it('reads a branch creation', () => {
    expect(parsePushEvent(pushPayload({ repo: 'a/b', before: ZERO_SHA, after, commits: commits(1), created: true })).created).toBe(true);
  });

  it('gives no branch for a tag', () => {
    const e = parsePushEvent(pushPayload({ repo: 'a/b', ref: 'refs/tags/v1.0', before: ZERO_SHA, after, commits: [], created: true }));
    expect(e.branch).toBeNull();
    expect(e.ref).toBe('refs/tags/v1.0');
  });

  it('accepts a null author email (GitHub’s schema allows it)', () => {
    const p = pushPayload({ repo: 'a/b', before, after, commits: commits(1) });
    ((p.commits as any[])[0].author as any).email = null;
    expect(parsePushEvent(p).commits[0]!.authorEmail).toBe('');
  });

  const base = () => pushPayload({ repo: 'a/b', before, after, commits: commits(2) }) as Record<string, any>;
  it.each<[string, (p: Record<string, any>) => unknown, RegExp]>([
    ['not an object', () => [], /JSON object/],
    ['null', () => null, /JSON object/],
    ['no repository', (p) => ({ ...p, repository: undefined }), /repository must be an object/],
    ['repository name not owner/name', (p) => ({ ...p, repository: { full_name: 'web' } }), /owner\/name/],
    ['ref not a string', (p) => ({ ...p, ref: 7 }), /ref must be a string/],
    ['before missing', (p) => ({ ...p, before: undefined }), /before must be a string/],
    ['after not a SHA', (p) => ({ ...p, after: 'main' }), /after must be a commit SHA/],
    ['forced missing', (p) => ({ ...p, forced: undefined }), /forced must be a boolean/],
    ['deleted a string', (p) => ({ ...p, deleted: 'false' }), /deleted must be a boolean/],
    ['commits not an array', (p) => ({ ...p, commits: {} }), /commits must be an array/],
    ['a commit without id', (p) => ({ ...p, commits: [{ ...p.commits[0], id: undefined }] }), /commits\[0\]\.id must be a string/],
    ['a commit without author', (p) => ({ ...p, commits: [p.commits[0], { ...p.commits[1], author: null }] }), /commits\[1\]\.author must be an object/],
    ['an author name not a string', (p) => ({ ...p, commits: [{ ...p.commits[0], author: { email: 'x@y' } }] }), /commits\[0\]\.author\.name must be a string/],
    ['a message not a string', (p) => ({ ...p, commits: [{ ...p.commits[0], message: 1 }] }), /commits\[0\]\.message must be a string/],
    ['distinct_size negative', (p) => ({ ...p, distinct_size: -1 }), /distinct_size/],
  ])('refuses a malformed payload: %s', (_, change, message) => {
    const bad = change(base());
    expect(() => parsePushEvent(bad)).toThrow(MalformedPushError);
    expect(() => parsePushEvent(bad)).toThrow(message);
  });
});
