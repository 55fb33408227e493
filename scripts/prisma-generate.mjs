// Generates the Prisma client without network access.
// Every Prisma CLI command first tries to download the native schema engine;
// `generate` does not use it, so any executable satisfies the check (see NOTES.md).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('node_modules/prisma')) {
  // Production installs (--omit=dev) ship a client generated at build time.
  console.log('prisma CLI not installed; skipping client generation');
  process.exit(0);
}
const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/bin/true';
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const r = spawnSync(process.execPath, ['node_modules/prisma/build/index.js', 'generate'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
