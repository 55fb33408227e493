import type { Logger } from 'pino';
import type { AppOptions } from './app-types.js';
import type { Defer } from './cleanup.js';
import type { AppConfig } from './config/index.js';
import type { EffectHandlers } from './engine/effects.js';
import type { Engine } from './engine/engine.js';
import type { Chat } from './engine/ports/chat.js';
import type { Metrics } from './http/metrics.js';
import type { Router } from './http/router.js';
import type { Lines } from './integrations/lines.js';
import type { Leader } from './scheduler/leader.js';
import type { Scheduler } from './scheduler/scheduler.js';

/** What a feature may use: built by the composition root before the features. */
export interface FeatureContext {
  config: AppConfig;
  log: Logger;
  engine: Engine;
  lines: Lines;
  scheduler: Scheduler;
  leader: Leader;
  /** The database the app runs on: for a feature that needs a dedicated connection (the Web App's LISTEN). */
  databaseUrl: string;
  /** Test and benchmark knobs of the startApp call (live-update heartbeat, replay buffer). */
  options: Pick<AppOptions, 'live'>;
  /** For cleanups that must run at this point of the stop order (e.g. after the HTTP server closed). */
  defer: Defer;
}

/**
 * One integration or user interface, registered in one place (probot's
 * `load(appFn)`): its HTTP routes and metrics gauges, its outbox handlers by
 * effect kind, and its start and stop hooks. Everything is optional: a feature
 * that is not configured returns `null` from its factory (or only the handlers
 * of its kinds, so the registry stays complete).
 */
export interface Feature {
  name: string;
  /** Routes (webhooks) and metrics gauges. */
  routes?(router: Router, metrics: Metrics): void;
  /** Handlers of the outbox kinds this feature delivers. */
  effects?: Partial<EffectHandlers>;
  /** The chat that replaces the log chat (Slack). */
  chat?: Chat;
  /** Called once everything else runs; its stop is called first at shutdown. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export type FeatureFactory = (ctx: FeatureContext) => Feature | null;
