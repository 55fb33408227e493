// Conductor (startApp) for the GitHub webhook benchmark, on 127.0.0.1: a
// conductor.yml with GITHUB_WEBHOOK_SECRET set and lines watching branches of
// one bare repository (github: acme/<line>), pollSeconds 3600 (only explicit
// or fallback fetches), and a lean keep-alive HTTP client for
// POST /webhooks/github.
import fs from 'node:fs/promises';
import path from 'node:path';
import { type App, startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { pushPayload, signedPush } from '../../test/support/fake-github.js';
import { freePort } from './app.js';
import type { ScratchDatabase } from './database.js';
import type { ChainCommit } from './github-chains.js';
import { KeepAlivePoster } from './http-poster.js';
import type { BenchContext } from './types.js';

export type { PostResult } from './http-poster.js';

export const GITHUB_SECRET = 'bench-github-webhook-secret';
export const GITHUB_ADMIN = 'admin@example.com';
export const GITHUB_ROBOT = 'bot@example.com';

export interface GithubBenchLine {
  name: string;
  /** Branch of the chain repository the line watches. */
  branch: string;
  mode: 'schedule' | 'manual';
  build?: string;
  deploy?: string;
}

export interface GithubConductor {
  app: App;
  db: ScratchDatabase;
  poster: GithubPoster;
  /** `/api/command` as `user` on `line` (loopback: no token). */
  api(user: string, line: string, text: string): Promise<{ ok: boolean; text: string }>;
  stop(): Promise<void>;
}

export async function startGithubConductor(ctx: BenchContext, o: { label: string; repo: string; lines: GithubBenchLine[] }): Promise<GithubConductor> {
  const db = await ctx.server.scratch(o.label, { poolSize: 4 });
  try {
    const configPath = path.join(ctx.tmpDir, 'conductor.yml');
    const yml = [`admins: [${GITHUB_ADMIN}]`, `robots: [${GITHUB_ROBOT}]`, 'lines:'];
    for (const l of o.lines) {
      yml.push(
        `  - name: ${l.name}`,
        `    repo: ${JSON.stringify(o.repo)}`,
        `    github: acme/${l.name}`,
        `    branch: ${l.branch}`,
        `    mode: ${l.mode}`,
        '    pollSeconds: 3600',
        `    build: { command: ${JSON.stringify(l.build ?? 'true')} }`,
        `    deploy: { command: ${JSON.stringify(l.deploy ?? 'true')} }`,
      );
    }
    await fs.writeFile(configPath, `${yml.join('\n')}\n`);
    const config = await loadConfig({
      env: {
        CONDUCTOR_DATA_DIR: path.join(ctx.tmpDir, 'data'),
        CONDUCTOR_CONFIG: configPath,
        DATABASE_URL: db.url,
        PORT: String(await freePort()),
        LOG_LEVEL: 'info',
        GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
      },
      cwd: ctx.tmpDir,
    });
    const app = await startApp({ config, log: ctx.appLog, host: '127.0.0.1' });
    const poster = new GithubPoster(app.url);
    return {
      app,
      db,
      poster,
      async api(user, line, text) {
        const res = await fetch(`${app.url}/api/command`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user, line, text }),
        });
        return (await res.json()) as { ok: boolean; text: string };
      },
      async stop() {
        poster.close();
        await app.stop();
        await db.drop();
      },
    };
  } catch (err) {
    await db.drop();
    throw err;
  }
}

export interface SignedPush {
  body: Buffer;
  headers: Record<string, string>;
}

/** The signed webhook of a push of one commit (`before` → `commit.sha`) to `acme/<line>` on `branch`. */
export function signedCommitPush(line: string, branch: string, before: string, commit: ChainCommit, delivery: string): SignedPush {
  const payload = pushPayload({
    repo: `acme/${line}`,
    branch,
    before,
    after: commit.sha,
    commits: [{ sha: commit.sha, authorName: commit.authorName, authorEmail: commit.authorEmail, message: commit.message }],
  });
  const s = signedPush(GITHUB_SECRET, payload, delivery);
  return { body: Buffer.from(s.body, 'utf8'), headers: s.headers };
}

/** Posts signed push webhooks to `/webhooks/github` (the shared keep-alive poster). */
export class GithubPoster extends KeepAlivePoster {
  constructor(baseUrl: string) {
    super(baseUrl, '/webhooks/github', 15_000);
  }
}
