import { enqueueEffect } from '../engine/enqueue.js';
import type { Feature, FeatureContext } from '../feature.js';
import { createSlack, type SlackParts } from './app.js';
import { slackEventsHandler } from './events-route.js';

export interface SlackFeature extends Feature {
  parts: SlackParts | null;
}

/**
 * Slack, when both its token and signing secret are set (config checks the
 * pair). Without it, App Home refreshes (none are written then) are dropped.
 */
export function slackFeature(ctx: FeatureContext): SlackFeature {
  const { engine, log, config } = ctx;
  const env = config.env.slack;
  if (!env) return { name: 'slack', parts: null, effects: { 'slack.home': async () => {} } };
  const slack = createSlack({
    env,
    engine,
    db: engine.deps.db,
    log,
    lineChannels: new Map(config.file.lines.map((l) => [l.name, l.channel])),
    publicUrl: config.env.publicUrl,
    enqueue: (kind, payload, key) => enqueueEffect(engine, kind, payload, key),
  });
  // Deferred now, so it runs after the HTTP server closed: requests already acked finish their work before the database closes.
  ctx.defer('slack requests', () => slack.drain(10_000));
  return {
    name: 'slack',
    parts: slack,
    chat: slack.chat,
    effects: slack.handlers,
    routes(router) {
      const listener = slack.requestListener;
      // Signature, timestamp (both ways) and payload shape are checked before Bolt parses and acks.
      if (listener) router.add('POST', '/slack/events', slackEventsHandler({ signingSecret: env.signingSecret, listener }));
    },
    // Last: in Socket Mode this waits for Slack's WebSocket, which may take retries; trains keep moving meanwhile.
    start: () => slack.start(),
    stop: () => slack.stop(),
  };
}
