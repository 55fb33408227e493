import path from 'node:path';
import pino from 'pino';
import { expect } from 'vitest';
import type { AppOptions } from '../../src/app.js';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type RunningApp, startTestApp } from './app-harness.js';
import { type FakeMessage, type FakeSlack, startFakeSlack } from './fake-slack.js';
import { type FakeSocketMode, type PushResult, startFakeSocketMode } from './fake-slack-socket.js';
import { blockAction, type SendResult, send, slashCommand, TEST_SIGNING_SECRET } from './slack-requests.js';
import { makeTempDir } from './temp-dirs.js';

/** A line of the test's conductor.yml: its own bare demo repository `<name>.git`. */
export interface SlackLine<L extends string = string> {
  name: L;
  /** Default: `C0` and the name in capitals (`channelOf`). */
  channel?: string;
  /** Default 1; `null` leaves it out of conductor.yml (the config's default). */
  pollSeconds?: number | null;
  /** The build and deploy commands; default `true`. */
  build?: string;
  deploy?: string;
}

export interface SlackAppOptions<L extends string, W extends string> {
  /** The people in the fake Slack workspace, by the name the test calls them. */
  users: Record<W, { id: string; email: string }>;
  /** One entry per line, by name (defaults) or in full. */
  lines: readonly (L | SlackLine<L>)[];
  admins?: string[];
  robots?: string[];
  /** Passed to `startApp` (e.g. `random`, `log`). */
  app?: Partial<AppOptions>;
  /** The prefix of the temporary directory holding the repositories. */
  tmpPrefix: string;
  /** Socket Mode: the app dials out to a fake Socket Mode server with this app-level token. */
  socket?: { appToken: string };
}

/** What a slash command or button sent from a test returns: the ack, and the response_url it carried. */
export type Sent = SendResult & { responseUrl: string };

/** The default channel of a line: `C0` and its name in capitals. */
const channelOf = (line: string): string => `C0${line.toUpperCase()}`;

/**
 * The whole app with Slack on, against the strict fake Slack Web API (and, with
 * `socket`, a fake Socket Mode server), one bare demo repository per line.
 * Create it in a `describe`, then `beforeAll(() => harness.start(), 60_000)` and
 * `afterAll(() => harness.stop())`; the helpers may be destructured at once and
 * used once it has started.
 */
export function slackApp<L extends string, W extends string>(opts: SlackAppOptions<L, W>) {
  const lines = opts.lines.map((l): Required<Omit<SlackLine<L>, 'pollSeconds'>> & { pollSeconds: number | null } =>
    typeof l === 'string'
      ? { name: l, channel: channelOf(l), pollSeconds: 1, build: 'true', deploy: 'true' }
      : { name: l.name, channel: l.channel ?? channelOf(l.name), pollSeconds: l.pollSeconds === undefined ? 1 : l.pollSeconds, build: l.build ?? 'true', deploy: l.deploy ?? 'true' },
  );
  const channels = new Map(lines.map((l) => [l.name, l.channel]));
  const repos = {} as Record<L, string>;
  let slack: FakeSlack | undefined;
  let sock: FakeSocketMode | undefined;
  let t: RunningApp | undefined;
  let base = '';
  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('slackApp: not started (call start() in beforeAll)');
    return x;
  };
  const emailOf = (author: string): string => (Object.hasOwn(opts.users, author) ? opts.users[author as W].email : author);

  const harness = {
    get slack(): FakeSlack {
      return started(slack);
    },
    get sock(): FakeSocketMode {
      return started(sock);
    },
    get t(): RunningApp {
      return started(t);
    },
    get base(): string {
      return base;
    },
    /** Each line's bare repository (filled by `start`). */
    repos,
    channelOf: (line: L): string => channels.get(line)!,

    async start() {
      slack = await startFakeSlack({ users: Object.values(opts.users) });
      if (opts.socket) sock = await startFakeSocketMode({ appToken: opts.socket.appToken, webApi: slack.url });
      const dir = await makeTempDir(opts.tmpPrefix);
      for (const l of lines) {
        repos[l.name] = path.join(dir, `${l.name}.git`);
        await ensureDemoRepository(repos[l.name], pino({ level: 'silent' }));
      }
      const yml = [
        ...(opts.admins ? [`admins: [${opts.admins.join(', ')}]`] : []),
        ...(opts.robots ? [`robots: [${opts.robots.join(', ')}]`] : []),
        'lines:',
        ...lines.flatMap((l) => [
          `  - name: ${l.name}`,
          `    repo: ${repos[l.name]}`,
          `    channel: ${l.channel}`,
          ...(l.pollSeconds === null ? [] : [`    pollSeconds: ${l.pollSeconds}`]),
          `    build: { command: ${JSON.stringify(l.build)} }`,
          `    deploy: { command: ${JSON.stringify(l.deploy)} }`,
        ]),
      ];
      t = await startTestApp({
        env: {
          SLACK_BOT_TOKEN: 'xoxb-test',
          SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
          ...(opts.socket && sock ? { SLACK_APP_TOKEN: opts.socket.appToken, SLACK_API_URL: sock.apiUrl } : { SLACK_API_URL: slack.url }),
        },
        files: { 'conductor.yml': `\n${yml.join('\n')}\n` },
        ...(opts.app ? { app: opts.app } : {}),
      });
      // A test may stop the app itself; stopping again (in `stop`) is then a no-op.
      const stopApp = t.stop;
      let stopping: Promise<void> | undefined;
      t.stop = () => (stopping ??= stopApp());
      base = `http://127.0.0.1:${t.app.port}`;
      return {
        slack,
        t,
        base,
        /** The fake Socket Mode server (with `socket` only). */
        get sock(): FakeSocketMode {
          return started(sock);
        },
      };
    },
    /** Stops the app, then the fakes (whatever of them was started). */
    async stop() {
      await t?.stop();
      await sock?.close();
      await slack?.close();
    },

    status: (line: L): Promise<any> => started(t).status(line),
    /** A train as the status API shows it, or null when there is no such train. */
    async train(line: L, n: number): Promise<any> {
      const res = await fetch(`${base}/api/lines/${line}/trains/${n}`);
      return res.status === 200 ? ((await res.json()) as any) : null;
    },
    untilTrain: (line: L, n: number, ok: (train: any) => boolean, what = `train #${n} on ${line}`): Promise<any> =>
      started(t).until(
        what,
        async () => {
          const s = await harness.train(line, n);
          return s && ok(s) ? s : null;
        },
        20_000,
      ),
    /** Pushes commits (author — a user's name or an email —, message[, file]) and fetches at once; resolves with their shas. */
    async push(line: L, commits: [author: W | (string & {}), message: string, file?: string][]): Promise<string[]> {
      const app = started(t);
      const dev = await app.developer(repos[line]);
      const shas: string[] = [];
      for (const [author, message, file] of commits) shas.push(await dev.commit(emailOf(author), message, file));
      await dev.push();
      await app.app.scheduler.fetchNow(line);
      return shas;
    },
    /** The train card: the top-level message in the line's channel for train `n`. */
    card: (line: L, n: number): FakeMessage | undefined =>
      started(slack)
        .messages()
        .find((m) => m.channel === harness.channelOf(line) && !m.thread_ts && m.text.startsWith(`Train #${n} on ${line}`)),
    /** The texts of the replies in the thread of train `n`'s card. */
    threadOf(line: L, n: number): string[] {
      const c = harness.card(line, n);
      return c
        ? started(slack)
            .thread(c.ts, harness.channelOf(line))
            .map((m) => m.text)
        : [];
    },

    /** `/conductor <text>` by `who` in the line's channel (or `channelId`), signed, over HTTP. */
    async cmd(who: W, line: L, text: string, extra: { channelId?: string; triggerId?: string; responseUrl?: string } = {}): Promise<Sent> {
      const responseUrl = extra.responseUrl ?? started(slack).responseUrl();
      const res = await send(base, slashCommand({ text, userId: opts.users[who].id, channelId: extra.channelId ?? harness.channelOf(line), responseUrl, triggerId: extra.triggerId }));
      return { ...res, responseUrl };
    },
    /**
     * Presses a button of train `n` (value `{ line, train }` unless `value` is given) in a message
     * in the line's channel (or `channelId`); with `view`, in App Home or a modal: no channel, no response_url.
     */
    async click(
      who: W,
      actionId: string,
      line: L,
      n: number,
      extra: { value?: string; channelId?: string; responseUrl?: string; messageTs?: string; view?: any } = {},
    ): Promise<SendResult & { responseUrl?: string }> {
      const value = extra.value ?? JSON.stringify({ line, train: n });
      const userId = opts.users[who].id;
      if (extra.view) return send(base, blockAction({ actionId, value, userId, view: extra.view }));
      const responseUrl = extra.responseUrl ?? started(slack).responseUrl();
      const channelId = extra.channelId ?? harness.channelOf(line);
      const res = await send(base, blockAction({ actionId, value, userId, channelId, responseUrl, ...(extra.messageTs ? { messageTs: extra.messageTs } : {}) }));
      return { ...res, responseUrl };
    },
    /** The body the app posted to `responseUrl`, once it has (within `ms`). */
    async reply(responseUrl: string, ms = 10_000): Promise<any> {
      const fake = started(slack);
      await fake.waitFor(() => fake.responses.some((x) => x.url === responseUrl), ms);
      return fake.responses.find((x) => x.url === responseUrl)!.body;
    },
    /**
     * What the person reads: the ack's ephemeral text, or (after a bare ack) what was posted to
     * the request's response_url (within `ms`, default the fake's 5 s). HTTP requests must be acked 200.
     */
    async answer(request: () => Promise<Sent | (PushResult & { responseUrl: string })>, ms = 5000): Promise<string> {
      const r = await request();
      let acked: unknown;
      if ('ack' in r) acked = r.ack.payload?.text;
      else {
        expect(r.status).toBe(200);
        acked = r.json?.text;
      }
      if (acked) return String(acked);
      return String((await harness.reply(r.responseUrl, ms)).text);
    },
  };
  return harness;
}

export type SlackApp<L extends string = string, W extends string = string> = ReturnType<typeof slackApp<L, W>>;
