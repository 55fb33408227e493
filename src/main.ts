import { loadConfig } from './config/index.js';
import { ConfigError } from './config/errors.js';
import { createLogger } from './log.js';
import { startApp, type App } from './app.js';
import { installProcessGuards } from './process-guards.js';

/** `npm start`: read and validate the configuration, start Conductor, stop cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = await loadConfig({ env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Conductor cannot start: the configuration is invalid.\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.env.logLevel);
  if (config.source === 'demo') log.info({ dataDir: config.env.dataDir }, 'no config file: running the demo line');
  // Signals are handled from the start: the HTTP server answers before start-up has finished,
  // and a signal then must still stop everything cleanly (the embedded PostgreSQL included).
  let app: App | null = null;
  let stopping: string | null = null;
  const stop = (running: App) =>
    running.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = signal;
    log.info({ signal }, 'stopping');
    if (app) void stop(app); // else: start-up finishes first, then stops (below)
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  installProcessGuards(log, { stop: shutdown });

  app = await startApp({ config, log });
  if (stopping) {
    await stop(app);
    return;
  }
  log.info({ url: config.env.publicUrl }, 'ready');
}

main().catch((err) => {
  process.stderr.write(`Conductor failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
