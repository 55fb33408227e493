// A process that runs an outbox worker, for test/engine/outbox-crash.test.ts:
//
//   node --import tsx test/support/outbox-child.ts <databaseUrl> <sinkFile> [leaseMs] [handlerMs]
//
// Its handler appends `{"key", "id", "attempts", "pid"}` to the sink file for
// each delivery, then takes `handlerMs` (default 300) before returning, so a
// SIGKILL lands between a delivery and the worker marking it done. It prints
// `ready <pid>` once the worker runs.
import pino from 'pino';
import { OutboxWorker } from '../../src/engine/outbox.js';
import { openDatabase } from '../../src/store/database.js';
import { sinkHandler } from './outbox-sink.js';

const [url, sink, leaseArg = '1000', handlerArg = '300'] = process.argv.slice(2);
if (!url || !sink) {
  process.stderr.write('usage: outbox-child.ts <databaseUrl> <sinkFile> [leaseMs] [handlerMs]\n');
  process.exit(2);
}
const db = openDatabase(url, { poolSize: 2 });
const worker = new OutboxWorker({
  pool: db.pool,
  log: pino({ level: 'silent' }),
  clock: () => new Date(),
  leaseMs: Number(leaseArg),
  batchSize: 2,
  pollMs: 50,
  handle: sinkHandler(sink, Number(handlerArg)),
});
worker.start();
process.stdout.write(`ready ${process.pid}\n`);
process.on('SIGTERM', () => {
  void worker
    .stop()
    .then(() => db.close())
    .then(() => process.exit(0));
});
