import { type DemoLineApp, startDemoLineApp } from './app-harness.js';
import { FakeJira, type FakeJiraOptions, type FakeJiraUser } from './fake-jira.js';

/** Carol has a Jira account (her sub-tasks are assigned to her); the other authors of these tests have none. */
export const JIRA_CAROL: FakeJiraUser = { accountId: 'acc-carol', email: 'carol@example.com', displayName: 'Carol' };

export interface JiraApp extends DemoLineApp {
  jira: FakeJira;
  /** Posts Jira's webhook for `key` moved to status `to`, with `secret` (default: the app's). */
  hook(key: string, to: string, secret?: string): Promise<Response>;
}

/**
 * A strict fake Jira and the app with one line `web` whose tickets live in its
 * project WEB (polled every second, `Done` as the done status).
 */
export async function startJiraApp(opts: {
  tmpPrefix: string;
  /** The fake's options; its users default to Carol alone. */
  jira?: FakeJiraOptions;
  /** JIRA_WEBHOOK_SECRET; without it the app takes no Jira webhook. */
  webhookSecret?: string;
}): Promise<JiraApp> {
  const jira = await FakeJira.start({ users: [JIRA_CAROL], ...opts.jira });
  try {
    const started = await startDemoLineApp({
      tmpPrefix: opts.tmpPrefix,
      env: {
        JIRA_URL: jira.url,
        JIRA_EMAIL: jira.email,
        JIRA_API_TOKEN: jira.token,
        ...(opts.webhookSecret ? { JIRA_WEBHOOK_SECRET: opts.webhookSecret } : {}),
      },
      conductorYml: (repo) => `
jira: { pollSeconds: 1, doneStatus: Done }
lines:
  - name: web
    repo: ${repo}
    pollSeconds: 3600
    build: { command: "true" }
    deploy: { command: "true" }
    tickets: { jira: WEB }
`,
    });
    const hook = (key: string, to: string, secret = opts.webhookSecret ?? '') =>
      fetch(`${started.base}/webhooks/jira?secret=${secret}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ webhookEvent: 'jira:issue_updated', issue: { key }, changelog: { items: [{ field: 'status', fromString: 'x', toString: to }] } }),
      });
    return { ...started, jira, hook };
  } catch (err) {
    // Nothing is returned, so the test's afterAll cannot stop this fake: stop it here.
    await jira.stop();
    throw err;
  }
}
