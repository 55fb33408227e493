import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { githubWebhookHandler } from '../../src/http/github-webhook.js';
import { startHttpServer } from '../../src/http/server.js';
import { fakeSha, pushPayload, signedPush, ZERO_SHA } from '../support/fake-github.js';

const SECRET = 'deletions-secret';

describe('POST /webhooks/github: deleted refs and hostile commits', () => {
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let url: string;
  const recorded: string[] = [];
  beforeAll(async () => {
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      engine: { deps: {}, lines: new Map() } as unknown as Engine, // not used by this route
      pool: {} as never,
      log: pino({ level: 'silent' }),
      extend: (router) =>
        router.add(
          'POST',
          '/webhooks/github',
          githubWebhookHandler({
            secret: SECRET,
            lines: [{ name: 'web', repo: 'acme/web', branch: 'main' }],
            record: async (line) => (recorded.push(line), { ok: true, text: 'recorded' }),
            fetchNow: async (line) => void recorded.push(`fetch ${line}`),
            log: pino({ level: 'silent' }),
          }),
        ),
    });
    url = `http://127.0.0.1:${server.port}/webhooks/github`;
  });
  afterAll(() => server.close());

  const post = async (ref: string) => {
    const payload = pushPayload({ repo: 'acme/web', ref, before: fakeSha(1), after: ZERO_SHA, commits: [], deleted: true });
    const req = signedPush(SECRET, payload);
    const res = await fetch(url, { method: 'POST', body: req.body, headers: req.headers });
    return { status: res.status, json: await res.json() };
  };

  it.each([
    ['author.email', (c: any) => ({ ...c, author: { ...c.author, email: 'dev\u0000@example.com' } })],
    ['author.name', (c: any) => ({ ...c, author: { ...c.author, name: 'Dev\u0000' } })],
    ['message', (c: any) => ({ ...c, message: 'fix\u0000' })],
  ])('a signed push with a NUL in a commit %s is a 400 naming the field, and nothing is recorded', async (field, edit) => {
    const payload = pushPayload({
      repo: 'acme/web',
      branch: 'main',
      before: fakeSha(1),
      after: fakeSha(2),
      commits: [{ sha: fakeSha(2), authorName: 'Dev', authorEmail: 'dev@example.com', message: 'fix' }],
    });
    (payload as any).commits = (payload as any).commits.map(edit);
    const req = signedPush(SECRET, payload);
    const res = await fetch(url, { method: 'POST', body: req.body, headers: req.headers });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(`commits[0].${field} must not contain a NUL`);
    expect(recorded).toEqual([]);
  });

  it.each([
    ['refs/tags/v1.2.3', 'tag deleted'],
    ['refs/heads/main', 'branch deleted'],
    ['refs/notes/commits', 'not a branch: refs/notes/commits deleted'],
  ])('%s → %s, and nothing is recorded', async (ref, said) => {
    expect(await post(ref)).toEqual({ status: 202, json: { ok: true, ignored: said } });
    expect(recorded).toEqual([]);
  });
});
