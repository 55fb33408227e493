// The Slack benchmarks' fixtures, all on 127.0.0.1:
//  - the strict fake Slack Web API (test/support/fake-slack.ts) with bench users;
//  - Conductor itself (startApp) with Slack on (HTTPReceiver on POST /slack/events
//    of its one server), from a real conductor.yml with one line on a throwaway
//    bare repository (ensureDemoRepository) mapped to channel C0BENCH;
//  - a BARE Bolt app (its own HTTPReceiver, same signing secret) whose
//    `/conductor` handler only acks: the floor Conductor is compared with.

import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { App as BoltApp, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';
import { type App, startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type FakeSlack, type FakeSlackUser, startFakeSlack } from '../../test/support/fake-slack.js';
import { TEST_SIGNING_SECRET } from '../../test/support/slack-requests.js';
import { freePort, waitFor } from './app.js';
import type { ScratchDatabase } from './database.js';
import { git } from './git.js';
import type { BenchContext } from './types.js';

export const BENCH_CHANNEL = 'C0BENCH';
export const BOT_TOKEN = 'xoxb-bench';
export const SIGNING_SECRET = TEST_SIGNING_SECRET;
export const ADMIN = { id: 'U0ADMIN', email: 'admin@example.com', name: 'Admin' };

export interface BenchUser extends FakeSlackUser {
  name: string;
}

/** `count` Slack users `U0<PREFIX>01…` with emails `<prefix>01@example.com…`. */
export function benchUsers(prefix: string, count: number): BenchUser[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return { id: `U0${prefix.toUpperCase()}${n}`, email: `${prefix.toLowerCase()}${n}@example.com`, name: `${prefix}${n}` };
  });
}

export interface Pusher {
  bare: string;
  /** Empty commits by `author`, pushed to main; returns their SHAs. */
  push(author: { name: string; email: string }, messages: string[]): Promise<string[]>;
}

/** A throwaway bare repository seeded like the demo line's (ensureDemoRepository), and a clone to push from. */
export async function demoRepository(dir: string, log: Logger): Promise<Pusher> {
  const bare = path.join(dir, 'web.git');
  const work = path.join(dir, 'pusher');
  await ensureDemoRepository(bare, log);
  await git(dir, ['clone', '--quiet', bare, work]);
  return {
    bare,
    async push(author, messages) {
      const shas: string[] = [];
      for (const m of messages) {
        await git(work, ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, 'commit', '--quiet', '--no-verify', '--allow-empty', '-m', m]);
        shas.push(await git(work, ['rev-parse', 'HEAD']));
      }
      await git(work, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
      return shas;
    },
  };
}

export interface SlackConductor {
  fake: FakeSlack;
  app: App;
  db: ScratchDatabase;
  line: string;
  repo: Pusher;
  /** `/api/command` as `user` (loopback: no token), for setting the scene. */
  api(user: string, text: string): Promise<{ ok: boolean; text: string }>;
  trainState(n: number): Promise<string | undefined>;
  /** Resolves once no outbox item is waiting (every Slack call that followed has been made). */
  outboxIdle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface SlackConductorOptions {
  label: string;
  users: BenchUser[];
  /** Shell commands standing in for Jenkins (no Jenkins adapter exists yet). */
  build: string;
  deploy: string;
}

/**
 * Fake Slack first (Bolt calls auth.test when the App is built), then
 * Conductor from a conductor.yml, with SLACK_* pointing at the fake.
 */
export async function startSlackConductor(ctx: BenchContext, o: SlackConductorOptions): Promise<SlackConductor> {
  const fake = await startFakeSlack({ token: BOT_TOKEN, users: [ADMIN, ...o.users] });
  let db: ScratchDatabase | undefined;
  try {
    db = await ctx.server.scratch(o.label);
    const repo = await demoRepository(ctx.tmpDir, ctx.log);
    const configPath = path.join(ctx.tmpDir, 'conductor.yml');
    await fs.writeFile(
      configPath,
      [
        `admins: [${ADMIN.email}]`,
        'robots: [bot@example.com]',
        'lines:',
        '  - name: web',
        `    repo: ${JSON.stringify(repo.bare)}`,
        `    channel: ${BENCH_CHANNEL}`,
        '    mode: schedule',
        '    pollSeconds: 3600', // only explicit fetchNow calls fetch
        `    build: { command: ${JSON.stringify(o.build)} }`,
        `    deploy: { command: ${JSON.stringify(o.deploy)} }`,
        '',
      ].join('\n'),
    );
    const config = await loadConfig({
      env: {
        CONDUCTOR_DATA_DIR: path.join(ctx.tmpDir, 'data'),
        CONDUCTOR_CONFIG: configPath,
        DATABASE_URL: db.url,
        PORT: String(await freePort()),
        LOG_LEVEL: 'info',
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: fake.url,
      },
      cwd: ctx.tmpDir,
    });
    const app = await startApp({ config, log: ctx.appLog, host: '127.0.0.1' });
    const line = config.file.lines[0]!.name;
    const scratch = db;
    return {
      fake,
      app,
      db: scratch,
      line,
      repo,
      async api(user, text) {
        const res = await fetch(`${app.url}/api/command`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user, line, text }),
        });
        return (await res.json()) as { ok: boolean; text: string };
      },
      async trainState(n) {
        return (await scratch.prisma.train.findFirst({ where: { number: n, line: { name: line } } }))?.state;
      },
      async outboxIdle(timeoutMs = 30_000) {
        await waitFor('the outbox to be idle', async () => (await scratch.prisma.outboxItem.count({ where: { doneAt: null } })) === 0, timeoutMs, 5);
      },
      async stop() {
        await app.stop();
        await fake.close();
        await scratch.drop();
      },
    };
  } catch (err) {
    await fake.close();
    await db?.drop();
    throw err;
  }
}

export interface BareBolt {
  url: string;
  stop(): Promise<void>;
}

/**
 * The floor: a Bolt App with its own HTTPReceiver (signature and timestamp
 * checked, body parsed, listener dispatched like Conductor's) whose
 * `/conductor` handler only calls ack().
 */
export async function startBareBolt(apiUrl: string): Promise<BareBolt> {
  const receiver = new HTTPReceiver({ signingSecret: SIGNING_SECRET, endpoints: '/slack/events', processBeforeResponse: false, logLevel: LogLevel.ERROR });
  // botId/botUserId given: no auth.test call at construction.
  const app = new BoltApp({ token: BOT_TOKEN, botId: 'B0BARE', botUserId: 'U0BARE', receiver, clientOptions: { slackApiUrl: apiUrl }, logLevel: LogLevel.ERROR });
  app.command('/conductor', async ({ ack }) => {
    await ack();
  });
  const port = await freePort();
  const server = (await receiver.start({ port, host: '127.0.0.1' })) as Server;
  server.keepAliveTimeout = 65_000; // as Conductor's server
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await receiver.stop().catch(() => undefined);
    },
  };
}
