import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDate } from '../../src/domain/schedule.js';
import { WEEKDAYS } from '../../src/domain/time.js';
import { freePort, type RunningApp, startDemoLineApp } from '../support/app-harness.js';
import { makeTempDir } from '../support/temp-dirs.js';

const run = promisify(execFile);
const ADMIN = 'admin@example.com';
const CAROL = 'carol@example.com';

/**
 * behaviour.md §8, push warnings, end to end: the hook is fetched from the
 * running app over HTTP with the README's command, and real `git push`es run
 * through it (git runs it with /bin/sh, dash on Debian). It warns on stderr and
 * never blocks: every push here must move the remote ref.
 */
describe('end to end: the pre-push hook', () => {
  let t: RunningApp;
  let repo: string;
  let base: string;
  let work: string;

  beforeAll(async () => {
    ({ t, repo, base } = await startDemoLineApp({
      tmpPrefix: 'conductor-prepush-',
      // Auto-time all week: nothing to warn about until a test changes the line.
      conductorYml: (r) => `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${r}
    pollSeconds: 1
    build: { command: "true" }
    deploy: { command: "true" }
`,
    }));
    work = await makeTempDir('conductor-prepush-clones-');
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  const git = (cwd: string, ...args: string[]) => run('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });

  /** A developer's clone of `remote` with the hook installed as the README says. */
  async function cloneWithHook(name: string, remote = repo): Promise<string> {
    const dir = path.join(work, name);
    await git(work, 'clone', '-q', remote, dir);
    await run('sh', ['-c', `curl -fsS ${base}/hooks/pre-push -o .git/hooks/pre-push && chmod +x .git/hooks/pre-push`], { cwd: dir });
    return dir;
  }

  let n = 0;
  /** Commits on top of the remote's main and pushes it to `branch` through the hook; asserts the push went through. */
  async function push(dir: string, branch = 'main'): Promise<{ stderr: string; ms: number; warnings: string[] }> {
    await git(dir, 'fetch', '-q', 'origin');
    await git(dir, 'checkout', '-q', '-B', 'work', 'origin/main');
    n++;
    await writeFile(path.join(dir, `change-${n}.txt`), `change ${n}\n`);
    await git(dir, 'add', '.');
    await git(dir, '-c', 'user.name=carol', '-c', `user.email=${CAROL}`, 'commit', '-q', '-m', `Change ${n}`);
    const head = (await git(dir, 'rev-parse', 'HEAD')).stdout.trim();
    const started = performance.now();
    const { stderr } = await git(dir, 'push', 'origin', `HEAD:refs/heads/${branch}`);
    const ms = performance.now() - started;
    const remoteHead = (await git(dir, 'ls-remote', 'origin', `refs/heads/${branch}`)).stdout.split('\t')[0];
    expect(remoteHead, 'the push moved the remote branch').toBe(head);
    return { stderr, ms, warnings: stderr.split('\n').filter((l) => l.startsWith('conductor:')) };
  }

  it('serves a POSIX sh script that embeds the public URL and passes sh -n and dash -n', async () => {
    const res = await fetch(`${base}/hooks/pre-push`);
    expect(res.status).toBe(200);
    const script = await res.text();
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    // CONDUCTOR_PUBLIC_URL is unset in the harness: the default public URL is localhost on the port.
    expect(script).toContain(`conductor_url='http://localhost:${t.app.port}'`);
    const file = path.join(work, 'pre-push-check');
    await writeFile(file, script);
    await run('sh', ['-n', file]);
    if (existsSync('/bin/dash') || existsSync('/usr/bin/dash')) await run('dash', ['-n', file]);
    // No bash-isms the hook could trip on.
    expect(script).not.toMatch(/^\s*(?:function|local|declare|source)\s|\[\[|\$\{[^}]*\/\/|<<<|\bjq\b|\$'/m);
  });

  it('a push while all is well prints nothing', async () => {
    const dir = await cloneWithHook('well');
    const { warnings } = await push(dir);
    expect(warnings).toEqual([]);
  }, 60_000);

  it('manual mode: warns with the reason and who set it; the push goes through', async () => {
    expect((await t.api(ADMIN, 'mode manual release freeze')).ok).toBe(true);
    const status = await t.status('web');
    expect(status).toMatchObject({ mode: 'manual', manualReason: 'release freeze', manualSetBy: ADMIN, emergency: false });
    const dir = await cloneWithHook('manual');
    const { warnings } = await push(dir);
    expect(warnings.join('\n')).toContain(`Line web (main) is in manual mode (release freeze), set by ${ADMIN}.`);
  }, 60_000);

  it('run directly by dash (and bash when present), the hook exits 0 and says the same', async () => {
    const dir = await cloneWithHook('dash');
    const sha = (await git(dir, 'rev-parse', 'HEAD')).stdout.trim();
    const shells = ['dash', 'bash'].filter((sh) => ['/bin', '/usr/bin'].some((d) => existsSync(path.join(d, sh))));
    expect(shells.length).toBeGreaterThan(0);
    for (const sh of shells) {
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(sh, ['.git/hooks/pre-push', 'origin', repo], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.once('error', reject);
        child.once('close', (c) => resolve({ code: c, stderr: err }));
        child.stdin.end(`refs/heads/work ${sha} refs/heads/main ${'0'.repeat(40)}\n`);
      });
      expect(code, sh).toBe(0);
      expect(stderr, sh).toContain(`conductor: Line web (main) is in manual mode (release freeze), set by ${ADMIN}.`);
    }
  });

  it('one push of several refs: the watched branch is asked about once, tags and other branches say nothing', async () => {
    const dir = await cloneWithHook('several');
    await push(dir, 'feature-y');
    await git(dir, 'tag', 'v-several');
    const head = (await git(dir, 'rev-parse', 'HEAD')).stdout.trim();
    const { stderr } = await git(dir, 'push', 'origin', 'HEAD:refs/heads/main', 'HEAD:refs/heads/feature-z', 'refs/tags/v-several');
    expect((await git(dir, 'ls-remote', 'origin', 'refs/heads/main')).stdout.split('\t')[0]).toBe(head);
    const warnings = stderr.split('\n').filter((l) => l.startsWith('conductor:'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('manual mode (release freeze)');
  }, 60_000);

  it('the lookup and warning endpoints answer scripts too', async () => {
    const q = (p: Record<string, string>) => new URLSearchParams(p).toString();
    const target = async (p: Record<string, string>) => (await (await fetch(`${base}/api/push-target?${q(p)}`)).json()) as { line: string | null };
    expect(await target({ remote: `file://${repo}`, branch: 'refs/heads/main' })).toEqual({ line: 'web' });
    expect(await target({ remote: `${repo}/`, branch: 'main' })).toEqual({ line: 'web' });
    expect(await target({ remote: repo, branch: 'feature-x' })).toEqual({ line: null });
    expect(await target({ remote: 'git@github.com:acme/other.git', branch: 'main' })).toEqual({ line: null });
    expect(await target({ remote: 'anything', line: 'web', branch: 'main' })).toEqual({ line: 'web' });
    expect((await fetch(`${base}/api/push-target?${q({ remote: repo })}`)).status).toBe(400);
    expect((await fetch(`${base}/api/push-warning?${q({ branch: 'main' })}`)).status).toBe(400);
    const quiet = await fetch(`${base}/api/push-warning?${q({ remote: repo, branch: 'feature-x' })}`);
    expect(quiet.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await quiet.text()).toBe('');
  });

  it('a push to a branch no line watches prints nothing', async () => {
    const dir = await cloneWithHook('unwatched');
    const { warnings } = await push(dir, 'feature-x');
    expect(warnings).toEqual([]);
  }, 60_000);

  it('conductor.line names the line when the remote URL does not (a mirror)', async () => {
    const mirror = path.join(work, 'mirror.git');
    await git(work, 'clone', '-q', '--bare', repo, mirror);
    const dir = await cloneWithHook('mirror-clone', mirror);
    expect((await push(dir)).warnings, 'without the override the mirror is no line').toEqual([]);
    await git(dir, 'config', 'conductor.line', 'web');
    expect((await push(dir)).warnings.join('\n')).toContain('manual mode (release freeze)');
    // A line Conductor does not know is said in one line, and the push still goes.
    await git(dir, 'config', 'conductor.line', 'nope');
    expect((await push(dir)).warnings).toEqual(['conductor: git config conductor.line names "nope", but Conductor has no such line.']);
  }, 60_000);

  it('a freeze today (line time zone) warns', async () => {
    expect((await t.api(ADMIN, 'mode schedule')).ok).toBe(true);
    const today = localDate(new Date(), 'UTC');
    expect((await t.api(ADMIN, `freeze add ${today}`)).ok).toBe(true);
    expect((await t.status('web')).frozenToday).toBe(true);
    const dir = await cloneWithHook('freeze');
    const { warnings } = await push(dir);
    expect(warnings.join('\n')).toContain(`today (${today}) is a freeze date`);
    expect((await t.api(ADMIN, `freeze remove ${today}`)).ok).toBe(true);
  }, 60_000);

  it('outside auto-time warns with the next window', async () => {
    // A one-hour window on a day that is not today (UTC).
    const other = WEEKDAYS[(new Date().getUTCDay() + 2) % 7]!;
    expect((await t.api(ADMIN, `autotime set ${other} 09:00-10:00 UTC`)).ok).toBe(true);
    const dir = await cloneWithHook('outside');
    const { warnings } = await push(dir);
    expect(warnings.join('\n')).toMatch(/Line web \(main\) is outside auto-time; the next window opens .*09:00/);
    expect((await t.api(ADMIN, 'autotime set daily 00:00-24:00 UTC')).ok).toBe(true);
    expect((await push(dir)).warnings).toEqual([]);
  }, 60_000);

  it('emergency mode warns; the push goes through once the reset is done', async () => {
    expect((await t.api(ADMIN, 'emergency bad migration')).ok).toBe(true);
    expect(await t.status('web')).toMatchObject({ mode: 'manual', emergency: true, manualSetBy: ADMIN });
    // The reset force-pushes the branch: push after it, or it would take this push's commit off again.
    await t.until('branch reset', async () => {
      const items = await t.db.prisma.outboxItem.findMany({ where: { kind: 'git.reset' } });
      return items.length > 0 && items.every((i) => i.doneAt !== null);
    });
    const dir = await cloneWithHook('emergency');
    const { warnings } = await push(dir);
    expect(warnings.join('\n')).toContain(`Line web (main) is in emergency mode: emergency reset by ${ADMIN}: bad migration.`);
  }, 60_000);

  it('Conductor unreachable (connection refused): one quiet line, the push goes through promptly', async () => {
    const dir = await cloneWithHook('refused');
    const port = await freePort(); // nothing listens there
    await git(dir, 'config', 'conductor.url', `http://127.0.0.1:${port}`);
    const { warnings, ms } = await push(dir);
    expect(warnings).toEqual([`conductor: could not reach http://127.0.0.1:${port}; the push goes ahead.`]);
    expect(ms).toBeLessThan(20_000);
  }, 60_000);

  it('Conductor that never answers: the hook gives up after 3 s and the push goes through', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const addr = silent.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    try {
      const dir = await cloneWithHook('silent');
      await git(dir, 'config', 'conductor.url', `http://127.0.0.1:${port}`);
      const { warnings, ms } = await push(dir);
      expect(warnings).toEqual([`conductor: could not reach http://127.0.0.1:${port}; the push goes ahead.`]);
      expect(held.length).toBeGreaterThan(0);
      expect(ms).toBeGreaterThanOrEqual(2_900);
      expect(ms).toBeLessThan(30_000);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  }, 60_000);
});

describe('end to end: the pre-push hook with CONDUCTOR_API_TOKEN', () => {
  const TOKEN = 'push-hook-token-0123456789';
  let t: RunningApp;
  let repo: string;
  let base: string;

  beforeAll(async () => {
    ({ t, repo, base } = await startDemoLineApp({
      tmpPrefix: 'conductor-prepush-token-',
      env: { CONDUCTOR_API_TOKEN: TOKEN, CONDUCTOR_PUBLIC_URL: 'http://conductor.invalid' },
      // Manual mode from the config file: nobody set it.
      conductorYml: (r) => `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${r}
    mode: manual
    build: { command: "true" }
    deploy: { command: "true" }
`,
    }));
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('embeds CONDUCTOR_PUBLIC_URL, is public, and sends conductor.token as a bearer token', async () => {
    const res = await fetch(`${base}/hooks/pre-push`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("conductor_url='http://conductor.invalid'");
    // The warning endpoint follows the status API's rule.
    expect((await fetch(`${base}/api/push-warning?branch=main&line=web`)).status).toBe(401);

    const work = await makeTempDir('conductor-prepush-token-clones-');
    const dir = path.join(work, 'clone');
    const git = (...args: string[]) => run('git', args, { cwd: dir });
    await run('git', ['clone', '-q', repo, dir]);
    await run('sh', ['-c', `curl -fsS ${base}/hooks/pre-push -o .git/hooks/pre-push && chmod +x .git/hooks/pre-push`], { cwd: dir });
    await git('config', 'conductor.url', base);
    const pushOnce = async (i: number) => {
      await writeFile(path.join(dir, `t-${i}.txt`), `${i}\n`);
      await git('add', '.');
      await git('-c', 'user.name=carol', '-c', `user.email=${CAROL}`, 'commit', '-q', '-m', `T ${i}`);
      const { stderr } = await git('push', 'origin', 'HEAD:refs/heads/main');
      expect((await git('ls-remote', 'origin', 'refs/heads/main')).stdout.split('\t')[0]).toBe((await git('rev-parse', 'HEAD')).stdout.trim());
      return stderr.split('\n').filter((l) => l.startsWith('conductor:'));
    };
    expect(await pushOnce(1)).toEqual([`conductor: ${base} refused the push check (is git config conductor.token set?); the push goes ahead.`]);
    await git('config', 'conductor.token', TOKEN);
    expect((await pushOnce(2)).join('\n')).toContain('conductor: Line web (main) is in manual mode.');
  }, 60_000);
});
