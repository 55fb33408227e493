import { Coalescer } from '../../engine/coalescer.js';
import { newerStatusShas } from '../../engine/code-status.js';
import type { EffectHandler } from '../../engine/effects.js';
import type { Reply } from '../../engine/engine.js';
import { PermanentEffectError } from '../../engine/errors.js';
import { NOT_CONTIGUOUS, type PushInput, recordPushes } from '../../engine/inputs.js';
import type { Feature, FeatureContext } from '../../feature.js';
import { githubWebhookHandler } from '../../http/github-webhook.js';
import { createGithubStatuses } from './statuses.js';

/** GitHub: the push webhook (when GITHUB_WEBHOOK_SECRET is set) and commit statuses (when GITHUB_TOKEN is set). */
export function githubFeature(ctx: FeatureContext): Feature {
  return { name: 'github', routes: webhookRoute(ctx), effects: { 'code.status': statusHandler(ctx) } };
}

function webhookRoute(ctx: FeatureContext): Feature['routes'] {
  const { engine, scheduler } = ctx;
  const secret = ctx.config.env.github?.webhookSecret;
  if (!secret) return undefined;
  const lines = ctx.config.file.lines.flatMap((l) => (l.github ? [{ name: l.name, repo: l.github.fullName, branch: l.branch }] : []));
  return (router, metrics) => {
    const log = ctx.log.child({ route: 'github-webhook' });
    const pushes = new Coalescer<PushInput, Reply>((line, batch) => recordPushes(engine, line, batch));
    metrics.gauge('conductor_github_pushes_waiting', 'Push deliveries waiting for the transaction in hand on their line.', () => pushes.pending);
    router.add(
      'POST',
      '/webhooks/github',
      githubWebhookHandler({
        secret,
        lines,
        record: async (line, sinceSha, found, inputKey) => {
          // Deliveries for one line that arrive while its transaction runs are recorded together in the next one.
          const reply = await pushes.submit(line, { sinceSha, found, inputKey });
          // Missed or out-of-order delivery: git fetch reconciles (in the background, the answer stays fast).
          if (!reply.ok && reply.text === NOT_CONTIGUOUS) void scheduler.fetchNow(line).catch((err) => log.warn({ err, line }, 'fetch after webhook failed'));
          return reply;
        },
        fetchNow: (line) => scheduler.fetchNow(line),
        log,
      }),
    );
  };
}

/** Commit statuses (context `conductor`) for lines that name a repository; without GITHUB_TOKEN they are dropped. */
function statusHandler(ctx: FeatureContext): EffectHandler<'code.status'> {
  const github = ctx.config.env.github;
  if (!github?.token) return async () => {};
  const log = ctx.log;
  const statuses = createGithubStatuses({ token: github.token, apiUrl: github.apiUrl, log });
  const repos = new Map(ctx.config.file.lines.flatMap((l) => (l.github ? [[l.name, l.github] as const] : [])));
  return async (item) => {
    const p = item.payload;
    const repo = repos.get(p.line);
    if (!repo) return;
    const superseded = await newerStatusShas(ctx.engine, p.line, item.id);
    for (const sha of p.shas) {
      if (superseded.has(sha)) continue;
      try {
        await statuses.set({ owner: repo.owner, name: repo.name }, sha, { state: p.state, description: p.description });
      } catch (err) {
        // GitHub does not know this commit (yet, or any more): retrying cannot help, and the other commits still get theirs.
        if (err instanceof PermanentEffectError) log.warn({ err, sha, line: p.line }, 'commit status refused by GitHub');
        else throw err;
      }
    }
  };
}
