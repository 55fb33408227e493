import { spawn } from 'node:child_process';
import type { HealthResult } from '../../domain/health.js';
import { type HealthTarget, unknown } from './probe.js';

/** The last characters of a check's output worth showing in a message. */
const TAIL = 300;

/**
 * A `{command}` health check: run in a shell, exit 0 is healthy, any other exit is a failure.
 * A command that cannot start, is killed by a signal or outlives `timeoutMs` could not say
 * how production is: unknown. The process group is killed on timeout (a check must not linger).
 */
export function runCommandCheck(command: string, target: HealthTarget, timeoutMs: number): Promise<HealthResult> {
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn('/bin/sh', ['-c', command], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LINE: target.line, TRAIN: String(target.train), SHA: target.sha },
      });
    } catch (err) {
      resolve(unknown(`the check command could not start: ${(err as Error).message}`));
      return;
    }
    const keep = (b: Buffer): void => {
      output = (output + b.toString('utf8')).slice(-4 * TAIL);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(unknown(`the check command could not start: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = output.replace(/\s+/g, ' ').trim().slice(-TAIL);
      const said = tail ? `: ${tail}` : '';
      if (timedOut) resolve(unknown(`the check command did not finish within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`));
      else if (code === null) resolve(unknown(`the check command was killed (${signal ?? 'signal'})`));
      else if (code === 0) resolve({ outcome: 'healthy', value: null, exitCode: 0, message: `exit code 0${said}` });
      else resolve({ outcome: 'failed', value: null, exitCode: code, message: `exit code ${code}${said}` });
    });
  });
}
