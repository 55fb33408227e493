import { type App, startApp } from './app.js';
import { ConfigError } from './config/errors.js';
import { type AppConfig, loadConfig } from './config/index.js';
import { isInterrupted } from './engine/ports/code-host.js';
import { createLogger, logFormatFor } from './log.js';
import { installProcessGuards } from './process-guards.js';
import { handleStopSignals } from './shutdown.js';
import { DatabaseUnreachableError } from './store/database.js';

/** `npm start`: read and validate the configuration, start Conductor, stop cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = await loadConfig({ env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Conductor cannot start: the configuration is invalid.\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.env.logLevel, undefined, logFormatFor(config.env.logFormat));
  if (config.source === 'demo') log.info({ dataDir: config.env.dataDir }, 'no config file: running the demo line');
  // Signals are handled from the start: the HTTP server answers before start-up has finished,
  // and a signal then must still stop everything cleanly (the embedded PostgreSQL included).
  let app: App | null = null;
  const stop = (running: App) =>
    running.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  const signals = handleStopSignals(log, () => {
    if (app) void stop(app); // else: start-up finishes first, then stops (below)
  });
  // Errors outside any request are logged and Conductor keeps serving; when they keep coming it
  // stops the way SIGTERM stops it (one path for every stop).
  installProcessGuards(log, { stop: () => process.kill(process.pid, 'SIGTERM') });

  try {
    app = await startApp({ config, log });
  } catch (err) {
    if (err instanceof DatabaseUnreachableError) {
      // One sentence a person can act on, not a driver's stack trace.
      process.stderr.write(`Conductor cannot start: ${err.message}\n`);
      process.exit(1);
    }
    // A git killed by the same signal (the terminal's process group) may fail start-up before Node
    // has run our handler for that signal: give it a moment to arrive.
    if (isInterrupted(err)) await signalArrives(signals, 2_000);
    if (signals.stopping()) {
      // Ctrl-C during start-up also reaches what runs in the terminal's process group then (initdb on
      // the first start): its failure is the stop that was asked for, not a crash to report.
      log.info({ reason: err instanceof Error ? err.message.split('\n')[0] : String(err) }, 'stopped before start-up finished');
      process.exit(1);
    }
    throw err;
  }
  if (signals.stopping()) {
    await stop(app);
    return;
  }
  log.info({ url: config.env.publicUrl }, 'ready');
  // The demo's repository sits in the data directory: the clone command works from any folder.
  // The one message built from values on purpose: it is an instruction a person copies from the terminal.
  for (const line of config.source === 'demo' ? config.file.lines : []) log.info(`try the demo: git clone ${shellQuote(line.repo)} /tmp/demo`);
}

async function signalArrives(signals: { stopping: () => string | null }, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!signals.stopping() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

main().catch((err) => {
  process.stderr.write(`Conductor failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
