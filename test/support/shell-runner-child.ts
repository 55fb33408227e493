// A Conductor-like process that starts one local job and then idles, for the
// kill -9 tests of the shell runner (test/integrations/runner/shell-runner-adopt.test.ts):
//
//   node --import tsx test/support/shell-runner-child.ts <json: {workRoot, repo, command, request}>
//
// It prints `started <jobId>` once `start` has returned, and any result it
// gets as `result <json>` (the tests kill it before that).
import pino from 'pino';
import type { JobRequest } from '../../src/engine/ports/build-runner.js';
import { createShellRunner } from '../../src/integrations/runner/shell-runner.js';

const arg = process.argv[2];
if (!arg) {
  process.stderr.write('usage: shell-runner-child.ts <json>\n');
  process.exit(2);
}
const { workRoot, repo, command, request } = JSON.parse(arg) as { workRoot: string; repo: string; command: string; request: JobRequest };
const runner = createShellRunner({
  commands: { build: command, deploy: command, rollback: command },
  codeHostRepo: repo,
  workRoot,
  log: pino({ level: 'silent' }),
  onResult: (r) => {
    process.stdout.write(`result ${JSON.stringify(r)}\n`);
  },
});
await runner.start(request);
process.stdout.write(`started ${request.jobId}\n`);
setInterval(() => undefined, 60_000);
