import path from 'node:path';
import type { Logger } from 'pino';
import type { Defer } from '../cleanup.js';
import type { AppConfig, JobConfig, LineConfig } from '../config/index.js';
import type { Db } from '../engine/db.js';
import type { LinePorts } from '../engine/deliver.js';
import { ensureLine } from '../engine/inputs.js';
import type { BuildRunner, JobKind, JobResult } from '../engine/ports/build-runner.js';
import type { TicketDesk } from '../engine/ports/ticket-desk.js';
import { ensureDemoRepository } from './git/demo-repo.js';
import { createLocalCodeHost } from './git/local-code-host.js';
import { createJenkinsRunner, type JenkinsRunner } from './jenkins/jenkins-runner.js';
import { createJiraDesk } from './jira/jira-desk.js';
import { createRoutedRunner } from './runner/routed-runner.js';
import { createShellRunner } from './runner/shell-runner.js';
import { createBuiltinDesk } from './tickets/builtin-desk.js';

/** The integrations of every line, and the shared clients the features need (Jenkins callbacks, Jira poll). */
export interface Lines {
  ports: Map<string, LinePorts>;
  jenkinsRunners: JenkinsRunner[];
  /** Jira desks by project, one per project whatever the number of lines. */
  jiraDesks: Map<string, TicketDesk>;
}

interface LinesContext {
  config: AppConfig;
  log: Logger;
  db: Db;
  /** Where runners hand job results (to the engine, once it is built). */
  onResult: (r: JobResult) => Promise<void>;
  defer: Defer;
}

/** One code host, runner and ticket desk per line, and the line's row in the database. */
export async function createLines(ctx: LinesContext): Promise<Lines> {
  const { config, log } = ctx;
  const lines: Lines = { ports: new Map(), jenkinsRunners: [], jiraDesks: new Map() };
  for (const line of config.file.lines) {
    if (config.source === 'demo') await ensureDemoRepository(line.repo, log);
    const codeHost = createLocalCodeHost({
      repo: line.repo,
      branch: line.branch,
      workDir: path.join(config.env.dataDir, 'git', line.name),
      lineName: line.name,
      httpToken: config.env.github?.token,
      log, // the code host names the line in its own log fields
    });
    const runner = lineRunner(line, ctx, lines.jenkinsRunners);
    ctx.defer(`runner ${line.name}`, () => runner.close());
    lines.ports.set(line.name, { codeHost, runner, tickets: ticketDesk(line, ctx, lines.jiraDesks) });
    await ensureLine(ctx.db, { name: line.name, repo: line.repo, branch: line.branch, mode: line.mode, autoTime: line.autoTime, freezes: line.freeze, timezone: line.timezone }, () =>
      codeHost.head(),
    );
  }
  return lines;
}

/**
 * The runner of one line: each job kind runs where its config says — a shell
 * command in a work tree of the head, or a Jenkins job (config validation
 * already required the JENKINS_* variables for those).
 */
function lineRunner(line: LineConfig, ctx: LinesContext, jenkinsRunners: JenkinsRunner[]): BuildRunner {
  const { env, file } = ctx.config;
  const jobs: Record<Exclude<JobKind, 'bisect'>, JobConfig> = { build: line.build, deploy: line.deploy, rollback: line.rollback };
  const commandOf = (j: JobConfig) => (j.kind === 'command' ? j.command : 'false');
  const shell = createShellRunner({
    commands: { build: commandOf(jobs.build), deploy: commandOf(jobs.deploy), rollback: commandOf(jobs.rollback) },
    codeHostRepo: line.repo,
    httpToken: env.github?.token,
    workRoot: path.join(env.dataDir, 'jobs', line.name),
    log: ctx.log, // each job's log names its line and train
    onResult: ctx.onResult,
  });
  const jenkinsJobs = Object.values(jobs).filter((j) => j.kind === 'jenkins');
  if (jenkinsJobs.length === 0) return shell;
  const j = env.jenkins;
  if (!j) throw new Error(`line ${line.name}: Jenkins jobs need JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN`);
  const nameOf = (job: JobConfig) => (job.kind === 'jenkins' ? job.job : '');
  const jenkins = createJenkinsRunner({
    url: j.url,
    user: j.user,
    apiToken: j.apiToken,
    jobs: { build: nameOf(jobs.build), deploy: nameOf(jobs.deploy), rollback: nameOf(jobs.rollback) },
    pollSeconds: file.jenkins.pollSeconds,
    log: ctx.log.child({ line: line.name }),
    onResult: ctx.onResult,
  });
  jenkinsRunners.push(jenkins);
  const pick = (kind: Exclude<JobKind, 'bisect'>) => (jobs[kind].kind === 'jenkins' ? jenkins : shell);
  return createRoutedRunner({ build: pick('build'), deploy: pick('deploy'), rollback: pick('rollback'), bisect: pick('build') });
}

/** Built-in tickets, or Jira (one desk per project, reused so its memory of created issues helps retries). */
function ticketDesk(line: LineConfig, ctx: LinesContext, desks: Map<string, TicketDesk>): TicketDesk {
  if (line.tickets.kind === 'builtin') return createBuiltinDesk();
  const jira = ctx.config.env.jira;
  if (!jira) throw new Error(`line ${line.name}: Jira tickets need JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN`);
  const project = line.tickets.project;
  let desk = desks.get(project);
  if (!desk) {
    desk = createJiraDesk({ url: jira.url, email: jira.email, apiToken: jira.apiToken, project, doneStatus: ctx.config.file.jira.doneStatus, log: ctx.log.child({ jira: project }) });
    desks.set(project, desk);
  }
  return desk;
}
