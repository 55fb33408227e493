import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathExists } from '../git/git.js';

/**
 * A local job's record on disk, so that its outcome survives the Conductor
 * process that started it (behaviour.md §9: a deploy is never run twice unasked, and
 * its outcome is never silently lost).
 *
 * `<runsDir>/<jobId>/`:
 * - `meta.json`: written before the command is spawned (`pid` null), then again
 *   with the process group leader's pid and its kernel start time, so that a
 *   reused pid is never mistaken for the job.
 * - `output.log`: the command's stdout and stderr. A file, not a pipe: a pipe
 *   to a dead Conductor would kill the job with SIGPIPE at its next write.
 * - `pid`: the wrapper's pid, written by the wrapper itself first thing.
 * - `exit`: the exit status, written (atomically, by rename) by the wrapper
 *   shell once the command has ended, whoever is watching.
 *
 * The record is removed once the result has been handed to the engine.
 */
export interface JobMeta {
  jobId: number;
  kind: string;
  /** The process group leader (the wrapper shell); null while spawning. */
  pid: number | null;
  /** `/proc/<pid>/stat` field 22: tells the job from a later process with the same pid. */
  procStart: string | null;
  workTree: string | null;
  startedAt: string;
  /** When the job's timeout expires (ISO), or null for none. */
  deadline: string | null;
}

export type RecordState =
  | { kind: 'none' }
  | { kind: 'exited'; meta: JobMeta | null; code: number }
  | { kind: 'running'; meta: JobMeta & { pid: number } }
  /** Started, but neither running nor with an exit status: nobody can tell how it ended. */
  | { kind: 'lost'; meta: JobMeta | null };

/**
 * The wrapper shell: runs the job's command, then records its exit status.
 * The command comes through the environment, so no quoting is involved.
 */
export const WRAPPER = [
  // First its own pid: a Conductor killed right after the spawn may not have recorded it yet.
  'echo $$ > "$CONDUCTOR_JOB_PID"',
  '/bin/sh -c "$CONDUCTOR_JOB_COMMAND"',
  'code=$?',
  'printf "%s\\n" "$code" > "$CONDUCTOR_JOB_EXIT.tmp" && mv "$CONDUCTOR_JOB_EXIT.tmp" "$CONDUCTOR_JOB_EXIT"',
  'exit $code',
].join('\n');

export class JobRecord {
  readonly dir: string;
  constructor(
    runsDir: string,
    readonly jobId: number,
  ) {
    this.dir = path.join(runsDir, String(jobId));
  }

  get outputPath(): string {
    return path.join(this.dir, 'output.log');
  }
  get exitPath(): string {
    return path.join(this.dir, 'exit');
  }
  /** The wrapper's own record of its pid (see WRAPPER). */
  get pidPath(): string {
    return path.join(this.dir, 'pid');
  }
  private get metaPath(): string {
    return path.join(this.dir, 'meta.json');
  }

  /** Creates the record before spawning; false when one exists already (an earlier process started it). */
  async create(meta: JobMeta): Promise<boolean> {
    await fs.mkdir(path.dirname(this.dir), { recursive: true });
    try {
      await fs.mkdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    await this.writeMeta(meta);
    return true;
  }

  async writeMeta(meta: JobMeta): Promise<void> {
    const tmp = `${this.metaPath}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(meta));
    await fs.rename(tmp, this.metaPath);
  }

  async meta(): Promise<JobMeta | null> {
    let meta: JobMeta;
    try {
      meta = JSON.parse(await fs.readFile(this.metaPath, 'utf8')) as JobMeta;
    } catch {
      return null;
    }
    if (meta.pid === null) {
      // Spawned, but its Conductor died before writing the pid down: the wrapper wrote it itself.
      const pid = Number((await fs.readFile(this.pidPath, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0) meta = { ...meta, pid };
    }
    return meta;
  }

  async exitCode(): Promise<number | null> {
    try {
      const text = (await fs.readFile(this.exitPath, 'utf8')).trim();
      return /^\d+$/.test(text) ? Number(text) : null;
    } catch {
      return null;
    }
  }

  /** What the record says of the job now. */
  async state(): Promise<RecordState> {
    if (!(await pathExists(this.dir))) return { kind: 'none' };
    const meta = await this.meta();
    const code = await this.exitCode();
    if (code !== null) return { kind: 'exited', meta, code };
    if (meta?.pid && isSameProcess(meta.pid, meta.procStart)) return { kind: 'running', meta: { ...meta, pid: meta.pid } };
    // The wrapper may have written its exit status between the two reads above.
    const late = await this.exitCode();
    if (late !== null) return { kind: 'exited', meta, code: late };
    return { kind: 'lost', meta };
  }

  /** The last `max` bytes of the output, with a marker when the start was dropped. */
  async tail(max: number): Promise<string> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.outputPath, 'r');
    } catch {
      return '';
    }
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - max);
      const buf = Buffer.alloc(size - start);
      await handle.read(buf, 0, buf.length, start);
      // Do not start in the middle of a UTF-8 character.
      let skip = 0;
      while (start + skip > 0 && skip < buf.length && skip < 4 && ((buf[skip] ?? 0) & 0xc0) === 0x80) skip++;
      const text = buf.subarray(skip).toString('utf8');
      const dropped = start + skip;
      return dropped > 0 ? `[conductor] ${dropped} bytes of earlier output dropped\n${text}` : text;
    } finally {
      await handle.close();
    }
  }

  async remove(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** Every record under `runsDir` (job ids). */
export async function listRecords(runsDir: string): Promise<number[]> {
  try {
    return (await fs.readdir(runsDir)).filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

/** The kernel's start time of a process (clock ticks since boot), or null where /proc cannot tell. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

/** The pid is alive and is the very process recorded (not a later one that reused the pid). */
export function isSameProcess(pid: number, procStart: string | null): boolean {
  if (!isAlive(pid)) return false;
  if (procStart === null) return true; // no /proc: liveness is all we can tell
  const now = processStartTime(pid);
  return now === null || now === procStart;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
