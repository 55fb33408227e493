/**
 * The app for the Web App's page tests: two lines over fresh bare
 * repositories with local build and deploy commands that succeed at once.
 * `web` runs in schedule mode all week (a push starts a train), `api` in
 * manual mode. `push` commits as the given authors and makes Conductor fetch
 * at once.
 */
import path from 'node:path';
import pino from 'pino';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type RunningApp, startTestApp } from './app-harness.js';
import { makeTempDir } from './temp-dirs.js';

export const ADMIN = 'admin@example.com';

const CONFIG = `
timezone: UTC
admins: [${ADMIN}]
robots: [bot@example.com]
lines:
  - name: web
    repo: $REPOS/web.git
    mode: schedule
    build: { command: "true" }
    deploy: { command: "true" }
  - name: api
    repo: $REPOS/api.git
    mode: manual
    build: { command: "true" }
    deploy: { command: "true" }
`;

export interface PagesApp {
  t: RunningApp;
  base: string;
  /** Commits one change per author (with `message`) to `line` and pushes them; returns their SHAs. */
  push(line: 'web' | 'api', authors: string[], message: string): Promise<string[]>;
  /** Waits until train #n of the line is in `state` (`verifying` = built, tickets open). */
  trainIs(line: 'web' | 'api', n: number, state: string): Promise<void>;
}

export async function startPagesApp(): Promise<PagesApp> {
  const repos = await makeTempDir('conductor-pages-repos-');
  const log = pino({ level: 'silent' });
  await ensureDemoRepository(path.join(repos, 'web.git'), log);
  await ensureDemoRepository(path.join(repos, 'api.git'), log);
  const t = await startTestApp({ files: { 'conductor.yml': CONFIG.replaceAll('$REPOS', repos) } });
  const devs = new Map<string, Awaited<ReturnType<RunningApp['developer']>>>();
  return {
    t,
    base: `http://127.0.0.1:${t.app.port}`,
    async push(line, authors, message) {
      let dev = devs.get(line);
      if (!dev) devs.set(line, (dev = await t.developer(path.join(repos, `${line}.git`))));
      const shas: string[] = [];
      for (const a of authors) shas.push(await dev.commit(a, message));
      await dev.push();
      await t.app.scheduler.fetchNow(line);
      return shas;
    },
    async trainIs(line, n, state) {
      const url = `http://127.0.0.1:${t.app.port}/api/lines/${line}/trains/${n}`;
      await t.until(`${line} train #${n} ${state}`, async () => {
        const res = await fetch(url);
        return res.status === 200 && ((await res.json()) as { state: string }).state === state;
      });
    },
  };
}
