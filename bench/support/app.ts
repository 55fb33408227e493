// Starts the whole app (startApp) on 127.0.0.1 and a free port, with the demo
// line's configuration pointed at a throwaway bare repository and a scratch
// database. Jobs are shell commands that finish at once (`true`) unless told.
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { type App, startApp } from '../../src/app.js';
import { type AppConfig, loadConfig } from '../../src/config/index.js';

export interface BenchAppOptions {
  dataDir: string;
  databaseUrl: string;
  repo: string;
  log: Logger;
  build?: string;
  deploy?: string;
  /** How often the scheduler fetches the remote; default 3600 so only explicit fetchNow calls fetch. */
  pollSeconds?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function benchConfig(opts: BenchAppOptions): Promise<AppConfig> {
  const loaded = await loadConfig({
    env: {
      CONDUCTOR_DATA_DIR: opts.dataDir,
      DATABASE_URL: opts.databaseUrl,
      PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    },
    // No conductor.yml there: the demo line's configuration.
    cwd: opts.dataDir,
  });
  if (loaded.source !== 'demo') throw new Error('expected the demo configuration');
  const [demo] = loaded.file.lines;
  if (!demo) throw new Error('the demo configuration has no line');
  const line = {
    ...demo,
    repo: opts.repo,
    pollSeconds: opts.pollSeconds ?? 3600,
    build: { kind: 'command' as const, command: opts.build ?? 'true', timeoutMinutes: 10 },
    deploy: { kind: 'command' as const, command: opts.deploy ?? 'true', timeoutMinutes: 10 },
    rollback: { kind: 'command' as const, command: opts.deploy ?? 'true', timeoutMinutes: 10 },
  };
  return { ...loaded, source: 'file', configPath: path.join(opts.dataDir, 'conductor.yml'), file: { ...loaded.file, lines: [line] } };
}

export async function startBenchApp(opts: BenchAppOptions): Promise<{ app: App; config: AppConfig; line: string }> {
  const config = await benchConfig(opts);
  const app = await startApp({ config, log: opts.log, host: '127.0.0.1' });
  return { app, config, line: config.file.lines[0]!.name };
}

/** Polls `check` every `everyMs` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 5): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
