import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoRepository } from '../../../src/integrations/git/demo-repo.js';
import { createLocalCodeHost } from '../../../src/integrations/git/local-code-host.js';
import { startGitHttpServer } from '../../support/git-http-server.js';
import { makeTempDir } from '../../support/temp-dirs.js';

const TOKEN = 'ghs_SECRETtoken1234567890';

/** Reverts and resets push over HTTPS with GITHUB_TOKEN, which never lands on disk or in a log line. */
describe('git over HTTP(S) with a token', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startGitHttpServer>>;
  beforeAll(async () => {
    dir = await makeTempDir('conductor-git-http-');
    await ensureDemoRepository(path.join(dir, 'remote', 'web.git'), pino({ level: 'silent' }));
    await simpleGit(path.join(dir, 'remote', 'web.git')).raw(['config', 'http.receivepack', 'true']);
    server = await startGitHttpServer({ root: path.join(dir, 'remote'), token: TOKEN });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused without the token', async () => {
    const host = createLocalCodeHost({ repo: `${server.url}/web.git`, branch: 'main', workDir: path.join(dir, 'no-token'), lineName: 'web', log: pino({ level: 'silent' }) });
    await expect(host.head()).rejects.toThrow();
    expect(server.requests.every((r) => !r.authorized)).toBe(true);
  });

  it('clones, fetches and pushes a revert with the token, keeping it off disk and out of the log', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
    const workDir = path.join(dir, 'with-token');
    const host = createLocalCodeHost({ repo: `${server.url}/web.git`, branch: 'main', workDir, lineName: 'web', log, httpToken: TOKEN });
    const head = await host.head();
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    const log1 = await simpleGit(path.join(dir, 'remote', 'web.git')).raw(['log', '--format=%H', '-2', 'main']);
    const target = log1.trim().split('\n')[0]!;
    const reverted = await host.revert(target, { idempotencyKey: 'k-1', requestedBy: { name: 'Carol', email: 'carol@example.com' } });
    expect(reverted.ok).toBe(true);
    const remoteHead = (await simpleGit(path.join(dir, 'remote', 'web.git')).raw(['rev-parse', 'main'])).trim();
    expect(remoteHead).not.toBe(head); // the revert reached the server over HTTP

    expect(await readFile(path.join(workDir, '.git', 'config'), 'utf8')).not.toContain(TOKEN);
    expect(await readFile(path.join(workDir, '.git', 'config'), 'utf8')).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'));
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(server.requests.some((r) => r.authorized && r.path.endsWith('git-receive-pack'))).toBe(true);
  });
});
