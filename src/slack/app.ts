import { App, HTTPReceiver } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { SlackEnv } from '../config/env.js';
import { confirmRefusal } from '../domain/allowed-actions.js';
import { type ConfirmCommand, confirmCommandOf } from '../domain/confirmation.js';
import { backupRef, type CommandRequest, prepareCommand, runPrepared } from '../engine/commands.js';
import type { Db } from '../engine/db.js';
import type { EffectHandlers, EffectKind, OutboxPayloads } from '../engine/effects.js';
import type { Engine, Reply } from '../engine/engine.js';
import { AfterAck } from './after-ack.js';
import { boltLogger } from './bolt-logger.js';
import { parseActionValue, pressButton } from './buttons.js';
import { SlackChat } from './chat.js';
import { SlackDirectory } from './directory.js';
import { slackCall } from './errors.js';
import { loadHomeData } from './home-data.js';
import { ACTIONS, type ActionId, type ConfirmMetadata, SLASH_COMMAND, VIEWS } from './registrations.js';
import { confirmModal, describeConfirmation } from './views/confirm.js';
import { homeView } from './views/home.js';
import { escapeMrkdwn } from './views/text.js';

export interface SlackOptions {
  env: SlackEnv;
  engine: Engine;
  db: Db;
  log: Logger;
  /** line name → its Slack channel id (or null). */
  lineChannels: Map<string, string | null>;
  publicUrl: string;
  /** Writes an outbox row and wakes the worker (App Home refreshes). */
  enqueue: <K extends EffectKind>(kind: K, payload: OutboxPayloads[K], idempotencyKey: string) => Promise<void>;
}

export interface SlackParts {
  app: InstanceType<typeof App>;
  /** HTTP mode: the listener for POST /slack/events (absent in Socket Mode). */
  requestListener?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
  chat: SlackChat;
  directory: SlackDirectory;
  client: WebClient;
  /** Outbox handlers for Slack-only effects. */
  handlers: Pick<EffectHandlers, 'slack.home'>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Waits (at most timeoutMs) for the work of requests already acked: answers, engine inputs. */
  drain(timeoutMs: number): Promise<void>;
}

/** Commands that change a lot at once: in Slack they ask for confirmation in a modal first. */

// Over 80 lines on purpose: Bolt's listeners are registered on one App and share its client, directory and after-ack queue; each listener is short.
export function createSlack(o: SlackOptions): SlackParts {
  const logger = boltLogger(o.log);
  const clientOptions = {
    slackApiUrl: o.env.apiUrl,
    // The outbox retries on its own schedule; the interactive paths must never hang on retries.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // A Slack call that never answers must not stall the outbox worker.
    timeout: 15_000,
    logger,
  };
  const socketMode = !!o.env.appToken;
  const receiver = socketMode
    ? undefined
    : new HTTPReceiver({
        signingSecret: o.env.signingSecret,
        endpoints: '/slack/events',
        processBeforeResponse: false,
        unhandledRequestTimeoutMillis: 2_500,
        logger,
      });
  const app = new App({
    token: o.env.botToken,
    ...(receiver
      ? { receiver }
      : {
          socketMode: true,
          appToken: o.env.appToken,
          signingSecret: o.env.signingSecret,
          // Bolt gives the Socket Mode client `installerOptions.clientOptions` (by default the App's
          // clientOptions) for apps.connections.open, which it calls again on every reconnect. Without
          // `retries: 0` / `rejectRateLimitedCalls` it keeps @slack/socket-mode's own retry policy: with
          // ours, one 5xx during a reconnect ends Socket Mode for good (an unhandled rejection inside
          // the library). See test/slack/socket-mode.test.ts.
          installerOptions: { clientOptions: socketClientOptions(clientOptions) },
        }),
    clientOptions,
    logger,
    extendedErrorHandler: true,
  });
  const client = app.client;
  const directory = new SlackDirectory(o.db, client, o.log, () => o.engine.deps.clock());
  const channelLines = (channel: string): string[] => [...o.lineChannels.entries()].filter(([, c]) => c === channel).map(([l]) => l);
  const chat = new SlackChat({
    client,
    db: o.db,
    directory,
    channelOf: (line) => o.lineChannels.get(line) ?? null,
    log: o.log,
    clock: () => o.engine.deps.clock(),
  });
  const say = (reply: Reply) => escapeMrkdwn(reply.text);
  // Post-ack work of commands and clicks, a few at a time (after-ack.ts says why). The confirmation
  // modals are not queued: trigger_id expires 3 s after the click.
  const afterAck = new AfterAck(4);

  // ---- /conductor ---------------------------------------------------------
  app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    const log = o.log.child({ slack: 'command', user: command.user_id, channel: command.channel_id });
    const base: Omit<CommandRequest, 'user'> = {
      text: command.text ?? '',
      channelLines: channelLines(command.channel_id),
      // A retried delivery of this request carries the same trigger id.
      inputKey: `slack:cmd:${command.trigger_id}`,
      resolveSlackUser: (id) => directory.emailOf(id),
      displayName: () => directory.displayNameOf(command.user_id),
    };
    const prepared = prepareCommand(o.engine, { ...base, user: 'nobody@slack' });
    if (!prepared.ok) {
      // Usage and help need no database: they are the ack itself.
      await ack({ response_type: 'ephemeral', text: say(prepared.reply) });
      return;
    }

    const confirmKind = confirmCommandOf(prepared.command);
    if (confirmKind) {
      await ack(); // first: the modal must open within trigger_id's 3 s
      const email = await directory.emailOf(command.user_id);
      if (!email) {
        await respond({ response_type: 'ephemeral', text: noEmail });
        return;
      }
      const refusal = await dryRun(o.engine, prepared.line, email, confirmKind, prepared.command);
      if (refusal) {
        await respond({ response_type: 'ephemeral', text: escapeMrkdwn(refusal) });
        return;
      }
      const { state } = await o.engine.read(prepared.line, { extraTrains: prepared.command.name === 'rollback' ? [prepared.command.train] : [] });
      const what = describeConfirmation(state, confirmKind, confirmArgs(prepared.command, prepared.line, o.engine.deps.clock()));
      await slackCall(() =>
        client.views.open({
          trigger_id: command.trigger_id,
          view: confirmModal({ ...what, command: command.text.trim(), line: prepared.line, channel: command.channel_id }),
        }),
      ).catch((err) => log.warn({ err }, 'could not open the confirmation'));
      return;
    }
    // Everything else acks at once, before any database work, and answers through response_url:
    // the ack then costs what a bare Bolt app's costs (measured by `npm run bench -- slack-ack`).
    await ack();
    await afterAck.run(async () => {
      const email = await directory.emailOf(command.user_id);
      if (!email) {
        await respond({ response_type: 'ephemeral', text: noEmail });
        return;
      }
      const reply = await runPrepared(o.engine, { ...prepared, actor: email }, { ...base, user: email });
      await respond({ response_type: 'ephemeral', text: say(reply) }).catch((err: Error) => log.warn({ err }, 'could not answer the command'));
    });
  });

  // ---- buttons -------------------------------------------------------------
  for (const id of Object.values(ACTIONS)) {
    app.action(id, async ({ ack, body, action, respond }) => {
      await ack();
      const value = parseActionValue((action as { value?: string }).value);
      const log = o.log.child({ slack: 'action', action: id, user: body.user.id });
      // A value naming no configured line is malformed too: acting on it would throw after the ack.
      if (!value || !o.engine.lines.has(value.line)) {
        log.warn({ value: (action as { value?: string }).value }, 'button with a malformed value ignored');
        return;
      }
      await afterAck.run(async () => {
        const email = await directory.emailOf(body.user.id);
        if (!email) {
          await respond({ response_type: 'ephemeral', replace_original: false, text: noEmail });
          return;
        }
        const trigger = (body as { trigger_id?: string }).trigger_id ?? (action as { action_ts?: string }).action_ts;
        const reply = await pressButton(o.engine, id as ActionId, value, email, `slack:action:${trigger}`);
        log.info({ line: value.line, train: value.train, ok: reply.ok }, 'button pressed');
        const inHome = (body as { view?: { type?: string } }).view?.type === 'home';
        if (inHome) {
          await o.enqueue('slack.home', { user: body.user.id, line: value.line }, `slack:home:${trigger}`);
          if (!reply.ok) await dmText(client, body.user.id, say(reply));
          return;
        }
        // The answer is a courtesy: the action happened (or was refused) whatever respond() does.
        await respond({ response_type: 'ephemeral', replace_original: false, text: say(reply) }).catch((err: Error) => log.warn({ err }, 'could not answer the button press'));
      });
    });
  }

  // ---- confirmation modal --------------------------------------------------
  app.view(VIEWS.confirm, async ({ ack, view, body }) => {
    await ack(); // closes the modal
    let meta: ConfirmMetadata;
    try {
      meta = JSON.parse(view.private_metadata) as ConfirmMetadata;
    } catch {
      o.log.warn({ view: view.id }, 'confirmation with malformed metadata ignored');
      return;
    }
    const email = await directory.emailOf(body.user.id);
    if (!email) {
      await dmText(client, body.user.id, noEmail);
      return;
    }
    const req: CommandRequest = { user: email, line: meta.line, text: meta.text, inputKey: `slack:view:${view.id}`, resolveSlackUser: (id) => directory.emailOf(id) };
    const prepared = prepareCommand(o.engine, req);
    const reply = prepared.ok ? await runPrepared(o.engine, prepared, req) : prepared.reply;
    if (meta.channel && o.lineChannels.get(meta.line) === meta.channel) {
      await slackCall(() => client.chat.postEphemeral({ channel: meta.channel!, user: body.user.id, text: say(reply) })).catch(() => dmText(client, body.user.id, say(reply)));
    } else {
      await dmText(client, body.user.id, say(reply));
    }
  });

  // ---- App Home -------------------------------------------------------------
  app.event('app_home_opened', async ({ event, body }) => {
    if (event.tab !== 'home') return;
    // Slack retries carry the same event id: the outbox key makes the refresh happen once.
    await o.enqueue('slack.home', { user: event.user }, `slack:home:${(body as { event_id?: string }).event_id ?? event.event_ts}`);
  });

  app.error(async (args) => {
    o.log.error({ err: (args as unknown as { error: Error }).error }, 'Slack listener failed');
  });

  const handlers: SlackParts['handlers'] = {
    'slack.home': async (item) => {
      const { user } = item.payload;
      const email = await slackCall(() => directory.emailOf(user));
      if (!email) return;
      const data = await loadHomeData(o.db, email, o.engine.deps.clock());
      await slackCall(() => client.views.publish({ user_id: user, view: homeView(data) }));
    },
  };

  return {
    app,
    requestListener: receiver?.requestListener,
    chat,
    directory,
    client,
    handlers,
    start: async () => {
      if (socketMode) await app.start();
    },
    stop: async () => {
      if (socketMode) await app.stop();
    },
    drain: async (timeoutMs) => {
      if (!(await afterAck.idle(timeoutMs))) o.log.warn({ left: afterAck.pending }, 'stopping with Slack requests still being answered');
    },
  };
}

/** The App's client options without the no-retry policy meant for interactive calls. */
function socketClientOptions<T extends { retryConfig?: unknown; rejectRateLimitedCalls?: boolean }>(options: T): Omit<T, 'retryConfig' | 'rejectRateLimitedCalls'> {
  const { retryConfig: _retries, rejectRateLimitedCalls: _rejectRateLimited, ...rest } = options;
  return rest;
}

const noEmail =
  'I cannot read a usable email address from your Slack profile, so I cannot tell who you are in Conductor. Ask an admin to check the app has the users:read.email scope and that your profile email is a plain address.';

async function dmText(client: WebClient, user: string, text: string): Promise<void> {
  const im = await client.conversations.open({ users: user });
  if (im.channel?.id) await client.chat.postMessage({ channel: im.channel.id, text });
}

/** Would the command be refused? Checked before a confirmation is shown, so nobody confirms in vain. */
async function dryRun(engine: Engine, line: string, actor: string, kind: ConfirmCommand, command: { name: string } & Record<string, unknown>): Promise<string | null> {
  const extra = command.name === 'rollback' ? [command.train as number] : [];
  const { state } = await engine.read(line, { extraTrains: extra });
  // The same dry run as the web's confirm page (src/domain/allowed-actions.ts).
  return confirmRefusal(state, engine.context(actor), kind, {
    reason: command.reason as string | undefined,
    train: command.train as number | undefined,
    sha: command.sha as string | undefined,
  });
}

function confirmArgs(command: { name: string } & Record<string, unknown>, line: string, now: Date) {
  return {
    reason: command.reason as string | undefined,
    train: command.train as number | undefined,
    sha: command.sha as string | undefined,
    backupRefPreview: backupRef(line, now),
    now,
  };
}
