import path from 'node:path';
import pino from 'pino';
import { simpleGit } from 'simple-git';
import type { AppOptions } from '../../src/app.js';
import { ensureDemoRepository } from '../../src/integrations/git/demo-repo.js';
import { type RunningApp, startTestApp } from './app-harness.js';
import { type FakeGithub, pushPayload, signedPush, startFakeGithub } from './fake-github.js';
import { FakeJenkins } from './fake-jenkins.js';
import { FakeJira } from './fake-jira.js';
import { type FakeMessage, type FakeSlack, startFakeSlack } from './fake-slack.js';
import { blockAction, type SendResult, send, TEST_SIGNING_SECRET } from './slack-requests.js';
import { makeTempDir } from './temp-dirs.js';

export const GITHUB_SECRET = 'gh-webhook-secret';
export const JENKINS_HOOK_TOKEN = 'jenkins-callback-token';
export const JIRA_SECRET = 'jira-hook-secret';
export const CHANNEL = 'C0WEB';
export const LINE = 'web';

/** The people: in Slack (id, email) and, for carol and dave, in Jira. */
export const PEOPLE = {
  carol: { id: 'U0CAROL', email: 'carol@example.com', jira: 'acc-carol' },
  dave: { id: 'U0DAVE', email: 'dave@example.com', jira: 'acc-dave' },
  erin: { id: 'U0ERIN', email: 'erin@example.com', jira: 'acc-erin' },
  admin: { id: 'U0ADMIN', email: 'admin@example.com', jira: null },
} as const;
export type Person = keyof typeof PEOPLE;

export interface IntegrationsApp {
  t: RunningApp;
  slack: FakeSlack;
  gh: FakeGithub;
  jenkins: FakeJenkins;
  jira: FakeJira;
  repo: string;
  base: string;
  /** Commits (by person) pushed to the bare repository, then the signed GitHub push webhook for them; resolves with the shas. */
  pushViaWebhook(commits: [Person, string][]): Promise<{ shas: string[]; status: number }>;
  /** A signed Slack button press on train `n` in the line's channel. */
  click(who: Person, actionId: string, n: number): Promise<SendResult>;
  /** The train card: the top-level message in the channel for train `n`. */
  card(n: number): FakeMessage | undefined;
  /** The person with this email. */
  personOf(email: string): Person;
  /** `state: description` of every accepted status call for `sha`, in order. */
  statusesOf(sha: string): string[];
  /** The last accepted status of `sha`. */
  finalStatusOf(sha: string): string | undefined;
  stop(): Promise<void>;
}

/** ONE app with every integration on: Slack, GitHub webhook + statuses, Jenkins build and deploy, Jira tickets. */
/** `app`: extra app options (e.g. a capturing `log`). */
export async function startIntegrationsApp(tmpPrefix: string, app: Partial<AppOptions> = {}): Promise<IntegrationsApp> {
  const slack = await startFakeSlack({ users: Object.values(PEOPLE).map((p) => ({ id: p.id, email: p.email })) });
  const gh = await startFakeGithub({ token: 'ghp-test' });
  const jenkins = await FakeJenkins.start({ jobs: ['web-build', 'web-deploy'] });
  const jira = await FakeJira.start({
    users: Object.values(PEOPLE).flatMap((p) => (p.jira ? [{ accountId: p.jira, email: p.email, displayName: p.email.split('@')[0]! }] : [])),
  });
  const dir = await makeTempDir(tmpPrefix);
  const repo = path.join(dir, 'web.git');
  await ensureDemoRepository(repo, pino({ level: 'silent' }));
  const t = await startTestApp({
    env: {
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
      GITHUB_TOKEN: gh.token,
      GITHUB_API_URL: gh.url,
      JENKINS_URL: jenkins.url,
      JENKINS_USER: jenkins.user,
      JENKINS_API_TOKEN: jenkins.token,
      JENKINS_WEBHOOK_TOKEN: JENKINS_HOOK_TOKEN,
      JIRA_URL: jira.url,
      JIRA_EMAIL: jira.email,
      JIRA_API_TOKEN: jira.token,
      JIRA_WEBHOOK_SECRET: JIRA_SECRET,
    },
    files: {
      'conductor.yml': `
admins: [${PEOPLE.admin.email}]
jenkins: { pollSeconds: 1 }
jira: { pollSeconds: 1, doneStatus: Done }
lines:
  - name: ${LINE}
    repo: ${repo}
    github: acme/web
    channel: ${CHANNEL}
    pollSeconds: 3600
    build: { jenkins: web-build }
    deploy: { jenkins: web-deploy }
    tickets: { jira: WEB }
`,
    },
    app,
  });
  const base = `http://127.0.0.1:${t.app.port}`;
  const git = simpleGit(repo);
  const head = async () => (await git.raw(['rev-parse', 'main'])).trim();
  const accepted = (sha: string) => gh.statuses.filter((c) => c.sha === sha && c.injected === undefined).map((c) => `${c.state}: ${c.description}`);
  let delivery = 0;

  return {
    t,
    slack,
    gh,
    jenkins,
    jira,
    repo,
    base,
    async pushViaWebhook(commits) {
      const before = await head();
      const dev = await t.developer(repo);
      for (const [who, message] of commits) await dev.commit(PEOPLE[who].email, message);
      await dev.push();
      const after = await head();
      const log = await git.raw(['log', '--reverse', '--format=%H%x1f%an%x1f%ae%x1f%s', `${before}..${after}`]);
      const pushed = log
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [sha, authorName, authorEmail, message] = l.split('\x1f') as [string, string, string, string];
          return { sha, authorName, authorEmail, message };
        });
      const req = signedPush(GITHUB_SECRET, pushPayload({ repo: 'acme/web', branch: 'main', before, after, commits: pushed }), `delivery-${++delivery}`);
      const res = await fetch(`${base}/webhooks/github`, { method: 'POST', body: req.body, headers: req.headers });
      return { shas: pushed.map((c) => c.sha), status: res.status };
    },
    click: (who, actionId, n) =>
      send(base, blockAction({ actionId, value: JSON.stringify({ line: LINE, train: n }), userId: PEOPLE[who].id, channelId: CHANNEL, responseUrl: slack.responseUrl() })),
    card: (n) => slack.messages().find((m) => m.channel === CHANNEL && !m.thread_ts && m.text.startsWith(`Train #${n} on ${LINE}`)),
    personOf(email) {
      const p = (Object.keys(PEOPLE) as Person[]).find((k) => PEOPLE[k].email === email);
      if (!p) throw new Error(`no person with email ${email}`);
      return p;
    },
    statusesOf: accepted,
    finalStatusOf: (sha) => accepted(sha).at(-1),
    async stop() {
      await t?.stop();
      await slack?.close();
      await gh?.close();
      await jenkins?.close();
      await jira?.stop();
    },
  };
}
