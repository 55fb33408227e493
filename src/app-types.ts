import type { Logger } from 'pino';
import type { AppConfig } from './config/index.js';
import type { Clock, Engine } from './engine/engine.js';
import type { OutboxWorker } from './engine/outbox.js';
import type { Router } from './http/router.js';
import type { createLogChat } from './integrations/chat/log-chat.js';
import type { HealthProbe } from './integrations/health/probe.js';
import type { HealthWatch } from './scheduler/health-watch.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { SlackFeature } from './slack/feature.js';
import type { LiveOptions } from './web/live/events.js';

/** What `startApp` takes and gives back (src/app.ts). */
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
  /** Live updates of the Web App (GET /events): heartbeat interval and replay buffer, for tests. */
  live?: LiveOptions;
  /** behaviour.md §8: how health checks run (default: the real shell and Prometheus checks). */
  healthProbe?: HealthProbe;
  /** How often the health watch looks for due checks (default 5 s). */
  healthPollMs?: number;
  /** Routes added by later parts (Slack, webhooks). */
  extendRoutes?: (router: Router) => void;
}

export interface App {
  port: number;
  url: string;
  engine: Engine;
  scheduler: Scheduler;
  /** behaviour.md §8: the health watch; `runDue()` makes one pass at the clock's time. */
  health: HealthWatch;
  outbox: OutboxWorker;
  /** What Conductor said, when Slack is not configured (the log chat). */
  chat: ReturnType<typeof createLogChat>;
  slack: SlackFeature['parts'];
  databaseUrl: string;
  stop(): Promise<void>;
}
