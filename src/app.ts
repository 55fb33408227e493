import path from 'node:path';
import type { Logger } from 'pino';
import type { AppConfig, JobConfig, LineConfig } from './config/index.js';
import { secretValues } from './config/env.js';
import type { Clock, Reply } from './engine/engine.js';
import type { Db } from './engine/db.js';
import { Engine } from './engine/engine.js';
import { ensureLine, jobFinished, NOT_CONTIGUOUS, recordPushes, type PushInput } from './engine/inputs.js';
import { Coalescer } from './engine/coalescer.js';
import { githubWebhookHandler } from './http/github-webhook.js';
import { createGithubStatuses, PermanentGithubError } from './integrations/github/statuses.js';
import type { OutboxItem } from './engine/outbox.js';
import { makeEffectHandler, type LinePorts } from './engine/deliver.js';
import { OutboxWorker } from './engine/outbox.js';
import type { LineRuntimeConfig } from './engine/line-config.js';
import type { JobResult } from './engine/ports/build-runner.js';
import { startHttpServer } from './http/server.js';
import type { Router } from './http/router.js';
import { createLogChat } from './integrations/chat/log-chat.js';
import { ensureDemoRepository } from './integrations/git/demo-repo.js';
import { createLocalCodeHost } from './integrations/git/local-code-host.js';
import { createShellRunner } from './integrations/runner/shell-runner.js';
import { createRoutedRunner } from './integrations/runner/routed-runner.js';
import { createJenkinsRunner, type JenkinsRunner } from './integrations/jenkins/jenkins-runner.js';
import { jenkinsWebhookHandler } from './http/jenkins-webhook.js';
import type { BuildRunner, JobKind } from './engine/ports/build-runner.js';
import type { TicketDesk } from './engine/ports/ticket-desk.js';
import { createJiraDesk } from './integrations/jira/jira-desk.js';
import { jiraWebhookHandler } from './http/jira-webhook.js';
import { pollTickets, ticketChangedOutside } from './engine/tickets-outside.js';
import { createSlack, type SlackParts } from './slack/app.js';
import { slackEventsHandler } from './slack/events-route.js';
import type { Chat } from './engine/ports/chat.js';
import { createBuiltinDesk } from './integrations/tickets/builtin-desk.js';
import { Leader } from './scheduler/leader.js';
import { Scheduler } from './scheduler/scheduler.js';
import { assertDatabaseReachable, openDatabase } from './store/database.js';
import { startEmbeddedPostgres } from './store/embedded-postgres.js';
import { MIGRATIONS_DIR, migrate } from './store/migrate.js';

export interface AppOptions {
  config: AppConfig;
  log: Logger;
  clock?: Clock;
  random?: () => number;
  /** Listen address; default all interfaces. */
  host?: string;
  /** node-cron expression of the scheduler tick (default every 15 s). */
  tickCron?: string;
  outbox?: { leaseMs?: number; pollMs?: number };
  /** Routes added by later parts (Slack, webhooks). */
  extendRoutes?: (router: Router) => void;
}

export interface App {
  port: number;
  url: string;
  engine: Engine;
  scheduler: Scheduler;
  outbox: OutboxWorker;
  /** What Conductor said, when Slack is not configured (the log chat). */
  chat: ReturnType<typeof createLogChat>;
  slack: SlackParts | null;
  databaseUrl: string;
  stop(): Promise<void>;
}

/**
 * The composition root: database (embedded unless DATABASE_URL), migrations,
 * one set of integrations per line, the engine, the outbox worker, the
 * scheduler and the HTTP server. `stop()` undoes it in reverse order.
 */
export async function startApp(opts: AppOptions): Promise<App> {
  const { config, log } = opts;
  const { env, file } = config;
  const clock = opts.clock ?? (() => new Date());
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch((err) => log.error({ err }, 'error while stopping'));
    cleanups.length = 0;
  };
  try {
    let databaseUrl = env.databaseUrl;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({ dataDir: env.dataDir, log });
      cleanups.push(() => pg.stop());
      databaseUrl = pg.url;
    } else {
      await assertDatabaseReachable(databaseUrl);
    }
    await migrate({ databaseUrl, migrationsDir: MIGRATIONS_DIR, log });
    const db = openDatabase(databaseUrl, { log, poolSize: 20 });
    cleanups.push(() => db.close());

    const logChat = createLogChat(log);
    const ports = new Map<string, LinePorts>();
    const jenkinsRunners: JenkinsRunner[] = [];
    const jiraDesks = new Map<string, TicketDesk>();
    let engineRef: Engine | undefined;
    const onResult = async (r: JobResult) => deliverJobResult(() => engineRef, r, log);
    for (const line of file.lines) {
      if (config.source === 'demo') await ensureDemoRepository(line.repo, log);
      const codeHost = createLocalCodeHost({
        repo: line.repo,
        branch: line.branch,
        workDir: path.join(env.dataDir, 'git', line.name),
        lineName: line.name,
        httpToken: env.github?.token,
        log, // the code host names the line in its own log fields
      });
      const runner = lineRunner(line, { env, file, log, onResult, jenkinsRunners });
      cleanups.push(() => runner.close());
      ports.set(line.name, { codeHost, runner, tickets: ticketDesk(line, env, file, log, jiraDesks) });
      await ensureLine(
        db.prisma,
        { name: line.name, repo: line.repo, branch: line.branch, mode: line.mode, autoTime: line.autoTime, freezes: line.freeze, timezone: line.timezone },
        () => codeHost.head(),
      );
    }

    const outboxRef: { worker?: OutboxWorker } = {};
    const engine = new Engine({
      db: db.prisma,
      pool: db.pool,
      config: { lines: file.lines.map((l) => runtimeConfig(l, env)), policy: { admins: file.admins, robots: file.robots }, publicUrl: env.publicUrl, secrets: secretValues(env) },
      clock,
      random: opts.random ?? Math.random,
      log,
      codeHost: (name) => ports.get(name)?.codeHost,
      onEffects: () => outboxRef.worker?.wake(),
    });
    engineRef = engine;
    await resumeRunningJobs(db.prisma, ports, log);

    // Slack, when both its token and signing secret are set (config checks the pair).
    const slack = env.slack
      ? createSlack({
          env: env.slack,
          engine,
          db: db.prisma,
          log,
          lineChannels: new Map(file.lines.map((l) => [l.name, l.channel])),
          publicUrl: env.publicUrl,
          enqueue: async (kind, payload, idempotencyKey) => {
            await db.prisma.outboxItem.createMany({ data: [{ kind, payload: payload as object, idempotencyKey, nextAttemptAt: clock() }], skipDuplicates: true });
            outboxRef.worker?.wake();
          },
        })
      : null;
    const chat: Chat = slack?.chat ?? logChat;

    const leader = new Leader(databaseUrl, log);
    cleanups.push(() => leader.release());
    const scheduler = new Scheduler({
      engine,
      leader,
      log,
      tickCron: opts.tickCron,
      lines: file.lines.map((l) => ({ name: l.name, pollSeconds: l.pollSeconds, codeHost: ports.get(l.name)!.codeHost })),
    });
    const worker = new OutboxWorker({
      pool: db.pool,
      log,
      clock,
      leaseMs: opts.outbox?.leaseMs,
      pollMs: opts.outbox?.pollMs,
      handle: makeEffectHandler({
        engine,
        chat,
        ports: (name) => ports.get(name)!,
        fetchNow: (name) => scheduler.fetchNow(name),
        publicUrl: env.publicUrl,
        log,
        extra: { ...slack?.handlers, ...githubStatusHandler(file.lines, env, log, db.prisma) },
      }),
    });
    outboxRef.worker = worker;
    const http = await startHttpServer({
      engine,
      pool: db.pool,
      log,
      apiToken: env.apiToken,
      port: env.port,
      host: opts.host,
      extend: (router, metrics) => {
        const listener = slack?.requestListener;
        if (listener && env.slack) {
          // Signature, timestamp (both ways) and payload shape are checked before Bolt parses and acks.
          router.add('POST', '/slack/events', slackEventsHandler({ signingSecret: env.slack.signingSecret, listener }));
        }
        if (env.github?.webhookSecret) {
          const github = log.child({ route: 'github-webhook' });
          const pushes = new Coalescer<PushInput, Reply>((line, batch) => recordPushes(engine, line, batch));
          metrics.gauge('conductor_github_pushes_waiting', 'Push deliveries waiting for the transaction in hand on their line.', () => pushes.pending);
          router.add('POST', '/webhooks/github', githubWebhookHandler({
            secret: env.github.webhookSecret,
            lines: file.lines.flatMap((l) => (l.github ? [{ name: l.name, repo: l.github.fullName, branch: l.branch }] : [])),
            record: async (line, sinceSha, found, inputKey) => {
              // Deliveries for one line that arrive while its transaction runs are recorded together in the next one.
              const reply = await pushes.submit(line, { sinceSha, found, inputKey });
              // Missed or out-of-order delivery: git fetch reconciles (in the background, the answer stays fast).
              if (!reply.ok && reply.text === NOT_CONTIGUOUS) void scheduler.fetchNow(line).catch((err) => github.warn({ err, line }, 'fetch after webhook failed'));
              return reply;
            },
            fetchNow: (line) => scheduler.fetchNow(line),
            log: github,
          }));
        }
        const jenkinsToken = env.jenkins?.webhookToken;
        if (jenkinsToken && jenkinsRunners.length > 0) {
          router.add('POST', '/webhooks/jenkins', jenkinsWebhookHandler({
            token: jenkinsToken,
            log: log.child({ route: 'jenkins-webhook' }),
            // A callback names the job Conductor passed as CONDUCTOR_JOB_ID (or its build URL).
            runner: {
              async handleCallback(body) {
                let outcome: 'accepted' | 'unknown' | 'finished' = 'unknown';
                for (const r of jenkinsRunners) {
                  const o = await r.handleCallback(body);
                  if (o === 'accepted') return o;
                  if (o === 'finished') outcome = o;
                }
                return outcome;
              },
            },
          }));
        }
        const jiraSecret = env.jira?.webhookSecret;
        if (jiraSecret && jiraDesks.size > 0) {
          router.add('POST', '/webhooks/jira', jiraWebhookHandler({
            secret: jiraSecret,
            doneStatus: file.jira.doneStatus,
            log: log.child({ route: 'jira-webhook' }),
            onChange: ({ key, done }) => ticketChangedOutside(engine, key, done),
          }));
        }
        opts.extendRoutes?.(router);
      },
    });

    // Runs after the HTTP server closed: Slack requests already acked finish their work before the database closes.
    if (slack) cleanups.push(() => slack.drain(10_000));
    cleanups.push(() => http.close());
    worker.start();
    cleanups.push(() => worker.stop());
    await scheduler.start();
    cleanups.push(() => scheduler.stop());
    // Jira's safety net: poll the open tickets (the leader only), in case a webhook was lost.
    const jiraLines = file.lines.filter((l) => l.tickets.kind === 'jira');
    if (jiraLines.length > 0) {
      const poll = setInterval(() => {
        void (async () => {
          if (!(await leader.tryAcquire())) return;
          for (const l of jiraLines) await pollTickets(engine, l.name, ports.get(l.name)!.tickets).catch((err) => log.warn({ err, line: l.name }, 'Jira poll failed'));
        })();
      }, file.jira.pollSeconds * 1000);
      cleanups.push(async () => clearInterval(poll));
    }
    // Last: in Socket Mode this waits for Slack's WebSocket, which may take retries; trains keep moving meanwhile.
    if (slack) {
      await slack.start();
      cleanups.push(() => slack.stop());
    }
    log.info({ port: http.port, lines: file.lines.map((l) => l.name), source: config.source, slack: slack ? (env.slack?.appToken ? 'socket mode' : 'http') : 'off' }, 'conductor is running');
    return { port: http.port, url: `http://127.0.0.1:${http.port}`, engine, scheduler, outbox: worker, chat: logChat, slack, databaseUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function runtimeConfig(l: LineConfig, env: AppConfig['env']): LineRuntimeConfig {
  return {
    commitStatuses: !!(l.github && env.github?.token),
    name: l.name,
    branch: l.branch,
    maxCommits: l.maxCommits ?? null,
    reminderMinutes: l.reminderMinutes,
    timeouts: { build: l.build.timeoutMinutes, deploy: l.deploy.timeoutMinutes, rollback: l.rollback.timeoutMinutes },
  };
}

/**
 * The runner of one line: each job kind runs where its config says — a shell
 * command in a work tree of the head, or a Jenkins job (config validation
 * already required the JENKINS_* variables for those).
 */
function lineRunner(
  line: LineConfig,
  ctx: { env: AppConfig['env']; file: AppConfig['file']; log: Logger; onResult: (r: JobResult) => Promise<void>; jenkinsRunners: JenkinsRunner[] },
): BuildRunner {
  const jobs: Record<JobKind, JobConfig> = { build: line.build, deploy: line.deploy, rollback: line.rollback };
  const commandOf = (j: JobConfig) => (j.kind === 'command' ? j.command : 'false');
  const shell = createShellRunner({
    commands: { build: commandOf(jobs.build), deploy: commandOf(jobs.deploy), rollback: commandOf(jobs.rollback) },
    codeHostRepo: line.repo,
    httpToken: ctx.env.github?.token,
    workRoot: path.join(ctx.env.dataDir, 'jobs', line.name),
    log: ctx.log, // each job's log names its line and train
    onResult: ctx.onResult,
  });
  const jenkinsJobs = Object.values(jobs).filter((j) => j.kind === 'jenkins');
  if (jenkinsJobs.length === 0) return shell;
  const j = ctx.env.jenkins;
  if (!j) throw new Error(`line ${line.name}: Jenkins jobs need JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN`);
  const nameOf = (job: JobConfig) => (job.kind === 'jenkins' ? job.job : '');
  const jenkins = createJenkinsRunner({
    url: j.url,
    user: j.user,
    apiToken: j.apiToken,
    jobs: { build: nameOf(jobs.build), deploy: nameOf(jobs.deploy), rollback: nameOf(jobs.rollback) },
    pollSeconds: ctx.file.jenkins.pollSeconds,
    log: ctx.log.child({ line: line.name }),
    onResult: ctx.onResult,
  });
  ctx.jenkinsRunners.push(jenkins);
  const pick = (kind: JobKind) => (jobs[kind].kind === 'jenkins' ? jenkins : shell);
  return createRoutedRunner({ build: pick('build'), deploy: pick('deploy'), rollback: pick('rollback') });
}

/** Built-in tickets, or Jira (one desk per project, reused so its memory of created issues helps retries). */
function ticketDesk(line: LineConfig, env: AppConfig['env'], file: AppConfig['file'], log: Logger, desks: Map<string, TicketDesk>): TicketDesk {
  if (line.tickets.kind === 'builtin') return createBuiltinDesk();
  const jira = env.jira;
  if (!jira) throw new Error(`line ${line.name}: Jira tickets need JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN`);
  const project = line.tickets.project;
  let desk = desks.get(project);
  if (!desk) {
    desk = createJiraDesk({ url: jira.url, email: jira.email, apiToken: jira.apiToken, project, doneStatus: file.jira.doneStatus, log: log.child({ jira: project }) });
    desks.set(project, desk);
  }
  return desk;
}

/** GitHub commit statuses (context `conductor`) for lines that name a repository, when GITHUB_TOKEN is set. */
function githubStatusHandler(lines: LineConfig[], env: AppConfig['env'], log: Logger, db: Db): Record<string, (item: OutboxItem) => Promise<void>> {
  const token = env.github?.token;
  if (!token) return { 'code.status': async () => {} };
  const statuses = createGithubStatuses({ token, apiUrl: env.github!.apiUrl, log });
  const repos = new Map(lines.flatMap((l) => (l.github ? [[l.name, l.github] as const] : [])));
  return {
    'code.status': async (item) => {
      const p = item.payload as { line: string; shas: string[]; state: 'pending' | 'success' | 'error'; description: string };
      const repo = repos.get(p.line);
      if (!repo) return;
      // A retried status must not overwrite a newer one already delivered for the same commit
      // (e.g. "on train #4" failing while "deployed with train #4" got through).
      const newer = await db.outboxItem.findMany({
        where: { kind: 'code.status', id: { gt: item.id }, doneAt: { not: null }, lastError: null, payload: { path: ['line'], equals: p.line } },
        select: { payload: true },
      });
      const superseded = new Set(newer.flatMap((n) => (n.payload as { shas?: string[] }).shas ?? []));
      for (const sha of p.shas) {
        if (superseded.has(sha)) continue;
        try {
          await statuses.set({ owner: repo.owner, name: repo.name }, sha, { state: p.state, description: p.description });
        } catch (err) {
          // 404/422: GitHub does not know this commit (yet, or any more): retrying cannot help.
          if (err instanceof PermanentGithubError) log.warn({ err: err.message, sha, line: p.line }, 'commit status refused by GitHub');
          else throw err;
        }
      }
    },
  };
}

/**
 * Jobs outlive the process (Jenkins builds, and local jobs through their
 * record on disk): the jobs the database records as running (with the
 * `<job>#<number>` or `local-<id>` their start returned) go back to their
 * line's runner, so that polling, callbacks, stop and the timeout work again;
 * one whose outcome nobody can tell is reported as unknown (SPEC §9). A failure
 * here leaves those jobs to the engine's timeout, never fails the start-up.
 */
async function resumeRunningJobs(db: Db, ports: Map<string, LinePorts>, log: Logger): Promise<void> {
  try {
    const rows = await db.job.findMany({
      where: { state: 'running', externalId: { not: null }, train: { line: { name: { in: [...ports.keys()] } } } },
      select: { id: true, kind: true, externalId: true, url: true, startedAt: true, timeoutAt: true, train: { select: { line: { select: { name: true } } } } },
    });
    for (const [line, p] of ports) {
      const running = rows
        .filter((r) => r.train.line.name === line)
        .map((r) => ({ jobId: r.id, kind: r.kind, externalId: r.externalId!, url: r.url, startedAt: r.startedAt, timeoutAt: r.timeoutAt }));
      if (running.length > 0 && p.runner.resume) await p.runner.resume(running);
    }
    if (rows.length > 0) log.info({ jobs: rows.map((r) => r.id) }, 'running jobs handed back to their runners');
  } catch (err) {
    log.error({ err }, 'could not resume the running jobs; they will end by timeout');
  }
}

/** Job results are inputs like any other; retry while the database is unreachable. */
async function deliverJobResult(engine: () => Engine | undefined, r: JobResult, log: Logger): Promise<void> {
  for (let attempt = 1; attempt <= 30; attempt++) {
    const e = engine();
    try {
      if (!e) throw new Error('engine not ready');
      const reply = await jobFinished(e, r);
      log.info({ jobId: r.jobId, succeeded: r.succeeded, timedOut: r.timedOut, applied: reply.ok }, 'job finished');
      return;
    } catch (err) {
      log.warn({ err: (err as Error).message, jobId: r.jobId, attempt }, 'could not record a job result; retrying');
      await new Promise((res) => setTimeout(res, Math.min(30_000, 500 * 2 ** attempt)));
    }
  }
  log.error({ jobId: r.jobId }, 'gave up recording a job result; the job will time out');
}
