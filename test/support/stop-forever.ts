// A process whose stop never finishes, for the test of what repeated Ctrl-C does (src/shutdown.ts).
import { createLogger } from '../../src/log.js';
import { handleStopSignals } from '../../src/shutdown.js';

const log = createLogger('debug');
handleStopSignals(log, () => {
  log.info('stop started (and never ends)');
});
setInterval(() => undefined, 60_000);
log.info('ready');
