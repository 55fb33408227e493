import type { App, AppOptions } from './app-types.js';
import { CleanupStack } from './cleanup.js';
import { engineConfig } from './config/index.js';
import { engineEffectHandlers } from './engine/deliver.js';
import { dispatchEffects, effectRegistry } from './engine/effects.js';
import { Engine } from './engine/engine.js';
import { JobResults } from './engine/job-results.js';
import { OutboxWorker } from './engine/outbox.js';
import { resumeRunningJobs } from './engine/resume.js';
import type { Feature, FeatureContext } from './feature.js';
import { Metrics } from './http/metrics.js';
import type { Router } from './http/router.js';
import { startHttpServer } from './http/server.js';
import { createLogChat } from './integrations/chat/log-chat.js';
import { githubFeature } from './integrations/github/feature.js';
import { realHealthProbe } from './integrations/health/real-probe.js';
import { jenkinsFeature } from './integrations/jenkins/feature.js';
import { jiraFeature } from './integrations/jira/feature.js';
import { createLines } from './integrations/lines.js';
import { HealthWatch } from './scheduler/health-watch.js';
import { Leader } from './scheduler/leader.js';
import { Scheduler } from './scheduler/scheduler.js';
import { slackFeature } from './slack/feature.js';
import { openStore } from './store/open.js';
import { webFeature } from './web/feature.js';

export type { App, AppOptions } from './app-types.js';

/**
 * The composition root, as a table of contents: store, lines, engine,
 * scheduler, features, outbox worker, HTTP, then start. Each step defers its
 * own stop; `stop()` runs them in reverse order. Adding an adapter: a feature
 * folder and one line in the list below.
 */
export async function startApp(opts: AppOptions): Promise<App> {
  const { config, log } = opts;
  const { env, file } = config;
  const cleanups = new CleanupStack(log);
  const { defer } = cleanups,
    stop = () => cleanups.run();
  try {
    const { databaseUrl, db } = await openStore({ databaseUrl: env.databaseUrl, dataDir: env.dataDir, log, defer });

    const results = new JobResults({ log });
    defer('job results', () => results.stop());
    const lines = await createLines({ config, log, db: db.prisma, onResult: results.deliver, defer });

    const worker: { current?: OutboxWorker } = {};
    // This app's registry: counters of what this process did, gauges read from the database at scrape time.
    const metrics = new Metrics({ db: db.prisma, log, lines: file.lines.map((l) => l.name) });
    const engine = new Engine({
      db: db.prisma,
      pool: db.pool,
      config: engineConfig(config),
      clock: opts.clock ?? (() => new Date()),
      random: opts.random ?? Math.random,
      log,
      codeHost: (name) => lines.ports.get(name)?.codeHost,
      onEffects: () => worker.current?.wake(),
      onHappenings: (line, happened) => metrics.record(line, happened),
    });
    results.attach(engine);
    await resumeRunningJobs(db.prisma, lines.ports, log);

    const leader = new Leader(databaseUrl, log);
    defer('scheduler lock', () => leader.release());
    const scheduler = new Scheduler({
      engine,
      leader,
      log,
      tickCron: opts.tickCron,
      lines: file.lines.map((l) => ({ name: l.name, pollSeconds: l.pollSeconds, codeHost: lines.ports.get(l.name)!.codeHost })),
    });

    // behaviour.md §8: the health checks of watched trains, run by the leader like the tick.
    const health = new HealthWatch({
      engine,
      leader,
      log,
      probe: opts.healthProbe ?? realHealthProbe,
      pollMs: opts.healthPollMs,
      lines: file.lines.flatMap((l) => (l.healthCheck ? [{ name: l.name, check: l.healthCheck }] : [])),
    });

    const ctx: FeatureContext = { config, log, engine, lines, scheduler, leader, defer, databaseUrl, options: opts };
    const slack = slackFeature(ctx);
    const features = [githubFeature(ctx), jenkinsFeature(ctx), jiraFeature(ctx), slack, webFeature(ctx)].filter((f): f is Feature => f !== null);

    const logChat = createLogChat(log);
    const deps = {
      engine,
      chat: slack.chat ?? logChat,
      ports: (name: string) => lines.ports.get(name)!,
      fetchNow: (name: string) => scheduler.fetchNow(name),
      publicUrl: env.publicUrl,
      log,
    };
    const handlers = effectRegistry(
      engineEffectHandlers(deps),
      features.map((f) => f.effects),
    );
    worker.current = new OutboxWorker({ pool: db.pool, log, clock: engine.deps.clock, leaseMs: opts.outbox?.leaseMs, pollMs: opts.outbox?.pollMs, handle: dispatchEffects(handlers) });

    const extend = (router: Router, metrics: Metrics) => {
      for (const f of features) f.routes?.(router, metrics);
      opts.extendRoutes?.(router);
    };
    const pushWarnings = {
      publicUrl: env.publicUrl,
      targets: file.lines.map((l) => ({ name: l.name, repo: l.repo, github: l.github?.fullName ?? null, branch: l.branch })),
    };
    const http = await startHttpServer({ engine, pool: db.pool, log, apiToken: env.apiToken, port: env.port, host: opts.host, metrics, extend, pushWarnings });
    defer('http server', () => http.close());

    worker.current.start();
    defer('outbox worker', () => worker.current!.stop());
    await scheduler.start();
    defer('scheduler', () => scheduler.stop());
    health.start();
    defer('health watch', () => health.stop());
    for (const f of features) {
      await f.start?.();
      if (f.stop) defer(f.name, () => f.stop!());
    }
    log.info(
      { port: http.port, lines: file.lines.map((l) => l.name), source: config.source, slack: slack.parts ? (env.slack?.appToken ? 'socket mode' : 'http') : 'off' },
      'conductor is running',
    );
    return { port: http.port, url: `http://127.0.0.1:${http.port}`, engine, scheduler, health, outbox: worker.current, chat: logChat, slack: slack.parts, databaseUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
