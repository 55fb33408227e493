import { pollTickets, ticketChangedOutside } from '../../engine/tickets-outside.js';
import type { Feature, FeatureContext } from '../../feature.js';
import { jiraWebhookHandler } from '../../http/jira-webhook.js';
import { type Poll, startPoll } from '../../scheduler/poll.js';

/** Jira: its webhook (when JIRA_WEBHOOK_SECRET is set) and, as a safety net for lost webhooks, a poll of open tickets. */
export function jiraFeature(ctx: FeatureContext): Feature | null {
  const { engine, lines, log } = ctx;
  const { env, file } = ctx.config;
  const jiraLines = file.lines.filter((l) => l.tickets.kind === 'jira');
  if (jiraLines.length === 0) return null;
  const secret = env.jira?.webhookSecret;
  let poll: Poll | null = null;
  return {
    name: 'jira',
    routes: secret
      ? (router) => {
          router.add(
            'POST',
            '/webhooks/jira',
            jiraWebhookHandler({
              secret,
              doneStatus: file.jira.doneStatus,
              log: log.child({ route: 'jira-webhook' }),
              onChange: ({ key, done }) => ticketChangedOutside(engine, key, done),
            }),
          );
        }
      : undefined,
    async start() {
      poll = startPoll({
        name: 'jira',
        everyMs: file.jira.pollSeconds * 1000,
        log,
        // The leader only; a round still running (a slow Jira) makes the next tick skip rather than overlap.
        round: async (signal) => {
          if (!(await ctx.leader.tryAcquire())) return;
          for (const l of jiraLines) {
            if (signal.aborted) return;
            await pollTickets(engine, l.name, lines.ports.get(l.name)!.tickets).catch((err) => log.warn({ err, line: l.name }, 'Jira poll failed'));
          }
        },
      });
    },
    async stop() {
      await poll?.stop();
    },
  };
}
