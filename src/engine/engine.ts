import type { Logger } from 'pino';
import type { CommitRef, Context, Decision, LineState } from '../domain/index.js';
import type { Db, Tx } from './db.js';
import type { EngineConfig, LineRuntimeConfig } from './line-config.js';
import { loadLine, type Loaded } from './load.js';
import { saveDecision } from './save.js';

export type Clock = () => Date;

export interface EngineDeps {
  db: Db;
  config: EngineConfig;
  clock: Clock;
  /** Uniform in [0, 1): the engineer draw. Injected so tests are deterministic. */
  random: () => number;
  log: Logger;
  /** Called after a transaction that wrote outbox rows commits (wakes the worker). */
  onEffects?: () => void;
}

export interface Reply {
  ok: boolean;
  text: string;
}

export interface UseCaseInput {
  tx: Tx;
  loaded: Loaded;
  state: LineState;
  ctx: Context;
}

export interface UseCaseOutcome {
  decision: Decision;
  newCommits?: CommitRef[];
}

export interface RunOptions {
  /** Idempotency key of an external input (GitHub delivery, Slack retry, job callback): a replay is a no-op. */
  inputKey?: string;
  /** Trains besides the live ones the use case needs (rollback target). */
  extraTrains?: number[];
}

export class UnknownLineError extends Error {}

/** Carries a refusal out of the transaction so that it rolls back. */
class Refused extends Error {}

/**
 * Runs use cases: each input is ONE transaction that locks the line row,
 * loads the line's state, lets the pure domain decide, and writes the new
 * state, the audit entries and the outbox rows before committing.
 */
export class Engine {
  readonly lines: Map<string, LineRuntimeConfig>;

  constructor(readonly deps: EngineDeps) {
    this.lines = new Map(deps.config.lines.map((l) => [l.name, l]));
  }

  lineConfig(name: string): LineRuntimeConfig {
    const cfg = this.lines.get(name);
    if (!cfg) throw new UnknownLineError(`unknown line ${name}`);
    return cfg;
  }

  context(actor: string): Context {
    return { now: this.deps.clock(), actor, policy: this.deps.config.policy, random: this.deps.random };
  }

  async run(
    lineName: string,
    actor: string,
    useCase: (input: UseCaseInput) => Promise<UseCaseOutcome> | UseCaseOutcome,
    opts: RunOptions = {},
  ): Promise<Reply> {
    const cfg = this.lineConfig(lineName);
    let wroteEffects = false;
    const reply = await this.deps.db
      .$transaction(
      async (tx) => {
        if (opts.inputKey) {
          const claimed = await tx.$queryRaw<{ key: string }[]>`
            INSERT INTO processed_input (key, processed_at) VALUES (${opts.inputKey}, now())
            ON CONFLICT (key) DO NOTHING RETURNING key`;
          if (claimed.length === 0) {
            const prior = await tx.processedInput.findUnique({ where: { key: opts.inputKey } });
            const r = (prior?.reply ?? null) as Reply | null;
            return { ok: r?.ok ?? true, text: r?.text ?? 'Already done.', duplicate: true };
          }
        }
        const loaded = await loadLine(tx, cfg, { lock: true, extraTrains: opts.extraTrains });
        if (!loaded) throw new UnknownLineError(`line ${lineName} is not in the database`);
        const ctx = this.context(actor);
        const { decision, newCommits } = await useCase({ tx, loaded, state: loaded.state, ctx });
        let out: Reply;
        if (!decision.ok) {
          // Nothing changed: roll back instead of committing, so a refusal never waits for a WAL
          // flush behind the writes on this line (unless its idempotency key must be kept).
          if (!opts.inputKey) throw new Refused(decision.reply);
          out = { ok: false, text: decision.reply };
        } else {
          await saveDecision(tx, loaded, decision.state, decision.audit, decision.effects, {
            actor,
            now: ctx.now,
            newCommits,
          });
          wroteEffects = decision.effects.length > 0;
          out = { ok: true, text: decision.reply };
        }
        if (opts.inputKey) {
          await tx.processedInput.update({ where: { key: opts.inputKey }, data: { lineId: loaded.ids.lineId, reply: out as object } });
        }
        return out;
      },
      { timeout: 60_000, maxWait: 60_000 },
    )
      .catch((err: unknown) => {
        if (err instanceof Refused) return { ok: false, text: err.message };
        throw err;
      });
    if (wroteEffects) this.deps.onEffects?.();
    const { ok, text } = reply;
    this.deps.log.debug({ line: lineName, actor, ok, inputKey: opts.inputKey }, 'input applied');
    return { ok, text };
  }

  /** Read-only view of a line (no lock): live trains plus the newest train and any named ones. */
  async read(lineName: string, opts: { extraTrains?: number[]; newestTrain?: boolean } = {}): Promise<Loaded> {
    const cfg = this.lineConfig(lineName);
    const loaded = await this.deps.db.$transaction((tx) => loadLine(tx, cfg, { lock: false, ...opts }), {
      isolationLevel: 'RepeatableRead',
      timeout: 30_000,
      maxWait: 30_000,
    });
    if (!loaded) throw new UnknownLineError(`line ${lineName} is not in the database`);
    return loaded;
  }
}
