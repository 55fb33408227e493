import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { simpleGit } from 'simple-git';
import { type App, type AppOptions, startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { makeTempDir } from './temp-dirs.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningApp {
  app: App;
  dir: string;
  db: TestDatabase;
  api(user: string, text: string, line?: string): Promise<{ ok: boolean; text: string }>;
  status(line: string): Promise<any>;
  /** Waits until `check` returns a truthy value (polling the app), or fails after `ms`. */
  until<T>(what: string, check: () => Promise<T | undefined | null | false>, ms?: number): Promise<T>;
  /** A developer's clone of the line's repository, for pushing commits. */
  developer(repo: string): Promise<{ commit(author: string, message: string, file?: string): Promise<string>; push(): Promise<void> }>;
  /** Stops the app and starts it again on the same database, directory and port (a process restart); `app` is the new one. */
  restart(between?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the whole app (HTTP, scheduler, outbox, local git and runner) on a
 * temporary data directory and a fresh test database. `files` are written
 * into the directory first (e.g. conductor.yml); without one it runs the demo line.
 */
export async function startTestApp(
  opts: {
    env?: Record<string, string>;
    files?: Record<string, string>;
    app?: Partial<AppOptions>;
    /** Another app's database: a second Conductor process on the same data (that app drops it). */
    db?: TestDatabase;
  } = {},
): Promise<RunningApp> {
  const dir = await makeTempDir('conductor-e2e-');
  const { writeFile } = await import('node:fs/promises');
  for (const [name, text] of Object.entries(opts.files ?? {})) await writeFile(path.join(dir, name), text.replaceAll('$DIR', dir));
  const db = opts.db ?? (await createTestDatabase());
  const port = await freePort();
  const config = await loadConfig({
    env: { CONDUCTOR_DATA_DIR: path.join(dir, 'data'), PORT: String(port), DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...opts.env },
    cwd: dir,
  });
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const boot = () => startApp({ config, log, host: '127.0.0.1', outbox: { pollMs: 200 }, ...opts.app });
  const app = await boot();
  const base = `http://127.0.0.1:${app.port}`;
  const running: RunningApp = {
    app,
    dir,
    db,
    async api(user, text, line) {
      const res = await fetch(`${base}/api/command`, { method: 'POST', body: JSON.stringify({ user, text, ...(line ? { line } : {}) }) });
      if (res.status !== 200) throw new Error(`POST /api/command answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { ok: boolean; text: string };
    },
    async status(line) {
      const res = await fetch(`${base}/api/lines/${line}/status`);
      if (res.status !== 200) throw new Error(`status answered ${res.status}`);
      return res.json();
    },
    async until(what, check, ms = 20_000) {
      const end = Date.now() + ms;
      for (;;) {
        const v = await check();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async developer(repo) {
      const work = await mkdtemp(path.join(dir, 'dev-'));
      const git = simpleGit(work);
      await git.clone(repo, work);
      let n = 0;
      return {
        async commit(author, message, file) {
          const { writeFile: wf } = await import('node:fs/promises');
          n++;
          const name = file ?? `change-${n}-${Math.random().toString(36).slice(2)}.txt`;
          await wf(path.join(work, name), `${message}\n`);
          await git.add(name);
          const who = author.split('@')[0]!;
          await git.raw(['-c', `user.name=${who}`, '-c', `user.email=${author}`, 'commit', '-q', '-m', message]);
          return (await git.revparse(['HEAD'])).trim();
        },
        async push() {
          await git.pull('origin', 'main', ['--rebase']).catch(() => undefined);
          await git.push('origin', 'main');
        },
      };
    },
    async restart(between) {
      await running.app.stop();
      await between?.();
      running.app = await boot();
    },
    async stop() {
      await running.app.stop();
      if (!opts.db) await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return running;
}

/** The app running one line over a fresh bare demo repository. */
export interface DemoLineApp {
  t: RunningApp;
  /** The line's bare repository (`web.git` in a temporary directory of its own). */
  repo: string;
  /** The app's HTTP address. */
  base: string;
}

/**
 * Creates the demo repository, then starts the app with the conductor.yml that
 * `conductorYml` writes around its path: the setup of a test about one line
 * and one integration (see jira-app.ts, jenkins-app.ts).
 */
export async function startDemoLineApp(opts: {
  /** The prefix of the temporary directory holding the repository. */
  tmpPrefix: string;
  conductorYml: (repo: string) => string;
  env?: Record<string, string>;
  app?: Partial<AppOptions>;
  /** A second process of another DemoLineApp: its repository and database. */
  shareWith?: DemoLineApp;
}): Promise<DemoLineApp> {
  let repo = opts.shareWith?.repo;
  if (!repo) {
    repo = path.join(await makeTempDir(opts.tmpPrefix), 'web.git');
    await ensureDemoRepository(repo, pino({ level: 'silent' }));
  }
  const t = await startTestApp({ env: opts.env, files: { 'conductor.yml': opts.conductorYml(repo) }, app: opts.app, db: opts.shareWith?.t.db });
  return { t, repo, base: `http://127.0.0.1:${t.app.port}` };
}
