// The webhook handler wired as the lead wires it: record = recordCommits with the delivery key, on a real database.

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCommits } from '../../../src/engine/inputs.js';
import { githubWebhookHandler } from '../../../src/http/github-webhook.js';
import { startHttpServer } from '../../../src/http/server.js';
import { engineHarness, fakeSha } from '../../support/engine-harness.js';
import { pushPayload, signedPush } from '../../support/fake-github.js';

const SECRET = 's3cret';
let h: Awaited<ReturnType<typeof engineHarness>>;
let server: Awaited<ReturnType<typeof startHttpServer>>;
const fetches: string[] = [];

beforeAll(async () => {
  h = await engineHarness({ lines: [{ name: 'web', mode: 'manual' }] });
  server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    engine: h.engine,
    pool: {} as never,
    log: pino({ level: 'silent' }),
    extend: (router) =>
      router.add(
        'POST',
        '/webhooks/github',
        githubWebhookHandler({
          secret: SECRET,
          lines: [{ name: 'web', repo: 'acme/web', branch: 'main' }],
          record: (line, sinceSha, found, inputKey) => recordCommits(h.engine, line, sinceSha, found, { inputKey }),
          fetchNow: async (line) => void fetches.push(line),
          log: pino({ level: 'silent' }),
        }),
      ),
  });
});
afterAll(async () => {
  await server?.close();
  await h?.close();
});

const post = (req: { body: string; headers: Record<string, string> }) => fetch(`http://127.0.0.1:${server.port}/webhooks/github`, { method: 'POST', body: req.body, headers: req.headers });

describe('GitHub push → recordCommits', () => {
  it('puts pushed commits on the platform once, whatever the number of deliveries', async () => {
    const root = fakeSha('web-root');
    const commits = [1, 2].map((i) => ({ sha: fakeSha(`gh-${i}`), authorName: `Dev ${i}`, authorEmail: `Dev${i}@Example.com`, message: `change ${i}` }));
    const payload = pushPayload({ repo: 'acme/web', branch: 'main', before: root, after: commits[1]!.sha, commits });

    const first = signedPush(SECRET, payload, 'delivery-A');
    expect((await post(first)).status).toBe(200);
    expect((await post(first)).status).toBe(200); // redelivery
    expect((await post(signedPush(SECRET, payload, 'delivery-B'))).status).toBe(200); // same push, another delivery

    const status = await h.status('web');
    expect(status.platform).toEqual([
      { sha: commits[0]!.sha, authorEmail: 'dev1@example.com', message: 'change 1' },
      { sha: commits[1]!.sha, authorEmail: 'dev2@example.com', message: 'change 2' },
    ]);
    expect(await h.db.prisma.commit.count()).toBe(2);
    expect(await h.db.prisma.processedInput.findUnique({ where: { key: 'github:delivery-A' } })).not.toBeNull();
    const line = await h.db.prisma.line.findUnique({ where: { name: 'web' }, select: { knownHeadSha: true } });
    expect(line?.knownHeadSha).toBe(commits[1]!.sha);
    expect(fetches).toEqual([]);
  });
});
