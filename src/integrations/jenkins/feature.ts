import type { Feature, FeatureContext } from '../../feature.js';
import { jenkinsWebhookHandler } from '../../http/jenkins-webhook.js';

/** Jenkins: the build callback route, when JENKINS_WEBHOOK_TOKEN is set and a line runs Jenkins jobs. */
export function jenkinsFeature(ctx: FeatureContext): Feature | null {
  const token = ctx.config.env.jenkins?.webhookToken;
  const runners = ctx.lines.jenkinsRunners;
  if (!token || runners.length === 0) return null;
  return {
    name: 'jenkins',
    routes(router) {
      router.add(
        'POST',
        '/webhooks/jenkins',
        jenkinsWebhookHandler({
          token,
          log: ctx.log.child({ route: 'jenkins-webhook' }),
          // A callback names the job Conductor passed as CONDUCTOR_JOB_ID (or its build URL).
          runner: {
            async handleCallback(body) {
              let outcome: 'accepted' | 'unknown' | 'finished' = 'unknown';
              for (const r of runners) {
                const o = await r.handleCallback(body);
                if (o === 'accepted') return o;
                if (o === 'finished') outcome = o;
              }
              return outcome;
            },
          },
        }),
      );
    },
  };
}
