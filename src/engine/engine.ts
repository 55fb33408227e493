import type pg from 'pg';
import type { Logger } from 'pino';
import { type Happening, happenings } from '../domain/happenings.js';
import type { CommitRef, Context, Decision, LineState } from '../domain/index.js';
import { inTransaction, type Sql } from '../store/sql.js';
import type { Db } from './db.js';
import type { EngineConfig, LineRuntimeConfig } from './line-config.js';
import { type Loaded, loadLine } from './load.js';
import { notifyChange, trainOf } from './notify.js';
import type { CodeHost } from './ports/code-host.js';
import { saveDecision } from './save.js';

export type Clock = () => Date;

export interface EngineDeps {
  /** The Prisma client: reads outside the engine's transactions. */
  db: Db;
  /** The pool under `db`: the engine's own transactions run on it (src/store/sql.ts). */
  pool: pg.Pool;
  config: EngineConfig;
  clock: Clock;
  /** Uniform in [0, 1): the engineer draw. Injected so tests are deterministic. */
  random: () => number;
  log: Logger;
  /** The line's code host, when the engine may ask it before deciding (revert checks the revert can be made). */
  codeHost?: (line: string) => CodeHost | undefined;
  /** Called after a transaction that wrote outbox rows commits (wakes the worker). */
  onEffects?: () => void;
  /**
   * Called after a transaction commits with what its decision made happen (deploys, derails,
   * jobs ended: src/domain/happenings.ts), in the process that took it: the metrics count them.
   */
  onHappenings?: (line: string, happened: Happening[]) => void;
}

export interface Reply {
  ok: boolean;
  text: string;
}

export interface UseCaseInput {
  tx: Sql;
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
  /**
   * With a caller-chosen `inputKey` (the API's Idempotency-Key): a digest of the request. The key
   * replays only the request it was first used for; another request with it throws
   * IdempotencyKeyReusedError (Stripe's rule) instead of silently answering the first one's reply.
   */
  fingerprint?: string;
  /** Trains besides the live ones the use case needs (rollback target). */
  extraTrains?: number[];
  /**
   * Decide first on an unlocked snapshot and answer a refusal from it, so that
   * refusals never queue behind the writes on the line. Sound: the refusal is
   * what the input got had it arrived at the snapshot's instant. Only for
   * people's commands; a decision that would change something is taken again
   * under the lock.
   */
  precheck?: boolean;
}

/** One of several inputs decided together (`Engine.runBatch`), each with its own idempotency key. */
export interface BatchItem {
  inputKey: string;
}

export interface BatchOutcome<I> extends UseCaseOutcome {
  /** The answer to each fresh item (the decision's own reply is not used). */
  replies: Map<I, Reply>;
}

export class UnknownLineError extends Error {}

/** The idempotency key was first used for another request. */
export class IdempotencyKeyReusedError extends Error {
  constructor() {
    super('this Idempotency-Key was already used for a different request (user, line or text); use a new key for a new request');
  }
}

/** A stored fingerprint that differs from the request's: the key belongs to another request. */
function reusedFor(stored: string | null | undefined, fingerprint: string | undefined): boolean {
  return fingerprint !== undefined && stored != null && stored !== fingerprint;
}

/**
 * Whether an accepted decision changed what a page shows. Most say so by an audit entry, an effect or new
 * commits; the rest (a scheduler tick that found nothing to do, every 15 s per line) are compared whole.
 */
function changedSomething(before: LineState, decision: Extract<Decision, { ok: true }>, newCommits?: CommitRef[]): boolean {
  if (decision.audit.length > 0 || decision.effects.length > 0 || (newCommits?.length ?? 0) > 0) return true;
  return JSON.stringify(before) !== JSON.stringify(decision.state);
}

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

  async run(lineName: string, actor: string, useCase: (input: UseCaseInput) => Promise<UseCaseOutcome> | UseCaseOutcome, opts: RunOptions = {}): Promise<Reply> {
    const cfg = this.lineConfig(lineName);
    if (opts.precheck) {
      const early = await this.refusedOnSnapshot(cfg, actor, useCase, opts);
      if (early) return early;
    }
    let wroteEffects = false;
    let happened: Happening[] = [];
    const reply = await inTransaction(this.deps.pool, async (tx) => {
      if (opts.inputKey) {
        const claimed = await tx.query<{ key: string }>`
          INSERT INTO processed_input (key, fingerprint, processed_at) VALUES (${opts.inputKey}, ${opts.fingerprint ?? null}, now())
          ON CONFLICT (key) DO NOTHING RETURNING key`;
        if (claimed.length === 0) {
          const [prior] = await tx.query<{ reply: Reply | null; fingerprint: string | null }>`SELECT reply, fingerprint FROM processed_input WHERE key = ${opts.inputKey}`;
          if (reusedFor(prior?.fingerprint, opts.fingerprint)) throw new IdempotencyKeyReusedError();
          const r = prior?.reply ?? null;
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
        ({ wroteEffects, happened } = await this.save(tx, cfg, loaded, decision, actor, ctx, newCommits));
        out = { ok: true, text: decision.reply };
      }
      if (opts.inputKey) {
        await tx.execute`UPDATE processed_input SET line_id = ${loaded.ids.lineId}, reply = ${JSON.stringify(out)}::jsonb WHERE key = ${opts.inputKey}`;
      }
      return out;
    }).catch((err: unknown) => {
      if (err instanceof Refused) return { ok: false, text: err.message };
      throw err;
    });
    if (wroteEffects) this.deps.onEffects?.();
    this.tell(lineName, happened);
    const { ok, text } = reply;
    this.deps.log.debug({ line: lineName, actor, ok, inputKey: opts.inputKey }, 'input applied');
    return { ok, text };
  }

  /**
   * Several inputs of one line in ONE transaction (group commit): each item's
   * key is claimed like `run`'s (a replay answers what the first delivery
   * answered), the line is locked and loaded once, and the use case decides
   * for all the fresh items together. Used where inputs arrive faster than
   * one transaction each can keep up with (push webhooks).
   */
  async runBatch<I extends BatchItem>(
    lineName: string,
    actor: string,
    items: I[],
    useCase: (input: UseCaseInput, fresh: I[]) => Promise<BatchOutcome<I>> | BatchOutcome<I>,
  ): Promise<Reply[]> {
    const cfg = this.lineConfig(lineName);
    // The same key twice in one batch (a redelivery racing the first) is one input answered twice.
    const firstOf = new Map<string, I>();
    for (const it of items) if (!firstOf.has(it.inputKey)) firstOf.set(it.inputKey, it);
    const keys = [...firstOf.keys()];
    let wroteEffects = false;
    let happened: Happening[] = [];
    const byKey = await inTransaction(this.deps.pool, async (tx) => {
      const answers = new Map<string, Reply>();
      const claimed = new Set(
        (
          await tx.query<{ key: string }>`
            INSERT INTO processed_input (key, processed_at) SELECT k, now() FROM unnest(${keys}::text[]) AS k
            ON CONFLICT (key) DO NOTHING RETURNING key`
        ).map((r) => r.key),
      );
      const replayed = keys.filter((k) => !claimed.has(k));
      if (replayed.length > 0) {
        const prior = await tx.query<{ key: string; reply: Reply | null }>`
          SELECT key, reply FROM processed_input WHERE key = ANY(${replayed}::text[])`;
        const replies = new Map(prior.map((r) => [r.key, r.reply]));
        for (const k of replayed) {
          const r = replies.get(k) ?? null;
          answers.set(k, { ok: r?.ok ?? true, text: r?.text ?? 'Already done.' });
        }
      }
      const fresh = keys.filter((k) => claimed.has(k)).map((k) => firstOf.get(k)!);
      if (fresh.length === 0) return answers;
      const loaded = await loadLine(tx, cfg, { lock: true });
      if (!loaded) throw new UnknownLineError(`line ${lineName} is not in the database`);
      const ctx = this.context(actor);
      const { decision, newCommits, replies } = await useCase({ tx, loaded, state: loaded.state, ctx }, fresh);
      if (decision.ok) ({ wroteEffects, happened } = await this.save(tx, cfg, loaded, decision, actor, ctx, newCommits));
      for (const it of fresh) {
        answers.set(it.inputKey, replies.get(it) ?? { ok: decision.ok, text: decision.reply });
      }
      const freshKeys = fresh.map((it) => it.inputKey);
      await tx.execute`
        UPDATE processed_input AS p SET line_id = ${loaded.ids.lineId}, reply = v.reply
        FROM unnest(${freshKeys}::text[], ${freshKeys.map((k) => JSON.stringify(answers.get(k)))}::jsonb[]) AS v(key, reply)
        WHERE p.key = v.key`;
      return answers;
    });
    if (wroteEffects) this.deps.onEffects?.();
    this.tell(lineName, happened);
    this.deps.log.debug({ line: lineName, actor, inputs: items.length, fresh: keys.length }, 'inputs applied together');
    return items.map((it) => byKey.get(it.inputKey)!);
  }

  /**
   * Writes an accepted decision; `wroteEffects` when it wrote outbox rows (the worker is then woken after commit),
   * `happened` what it made happen (told to `onHappenings` after commit). A decision that changed something is
   * announced to the live pages (notify.ts), in this transaction.
   */
  private async save(
    tx: Sql,
    cfg: LineRuntimeConfig,
    loaded: Loaded,
    decision: Extract<Decision, { ok: true }>,
    actor: string,
    ctx: Context,
    newCommits?: CommitRef[],
  ): Promise<{ wroteEffects: boolean; happened: Happening[] }> {
    const saved = await saveDecision(tx, loaded, decision.state, decision.audit, decision.effects, {
      actor,
      now: ctx.now,
      newCommits,
      commitStatuses: cfg.commitStatuses,
    });
    if (changedSomething(loaded.state, decision, newCommits)) await notifyChange(tx, cfg.name, trainOf(decision.audit));
    // Before and after as the decision saw them; pure and cheap (the loaded trains' jobs), skipped when nobody listens.
    const happened = this.deps.onHappenings ? happenings(loaded.state, decision.state) : [];
    return { wroteEffects: saved.outboxRows > 0, happened };
  }

  /** Tells the observer what a committed decision made happen; its failure must not turn a committed decision into an error. */
  private tell(line: string, happened: Happening[]): void {
    if (happened.length === 0 || !this.deps.onHappenings) return;
    try {
      this.deps.onHappenings(line, happened);
    } catch (err) {
      this.deps.log.error({ err, line }, 'the happenings observer failed');
    }
  }

  private async refusedOnSnapshot(
    cfg: LineRuntimeConfig,
    actor: string,
    useCase: (input: UseCaseInput) => Promise<UseCaseOutcome> | UseCaseOutcome,
    opts: RunOptions,
  ): Promise<Reply | null> {
    return inTransaction(
      this.deps.pool,
      async (tx) => {
        if (opts.inputKey) {
          // A replay answers what the first delivery answered, whatever the state is now.
          const [prior] = await tx.query<{ reply: Reply | null; fingerprint: string | null }>`SELECT reply, fingerprint FROM processed_input WHERE key = ${opts.inputKey}`;
          if (reusedFor(prior?.fingerprint, opts.fingerprint)) throw new IdempotencyKeyReusedError();
          if (prior?.reply) return prior.reply;
          if (prior) return null; // applied, reply not recorded: let the locked path answer
        }
        const loaded = await loadLine(tx, cfg, { lock: false, extraTrains: opts.extraTrains });
        if (!loaded) return null;
        const { decision } = await useCase({ tx, loaded, state: loaded.state, ctx: this.context(actor) });
        if (decision.ok) return null;
        const reply: Reply = { ok: false, text: decision.reply };
        if (opts.inputKey) {
          // The key is answered once and for all: a retry of a refused request stays refused.
          const stored = await tx.query<{ key: string }>`
            INSERT INTO processed_input (key, line_id, reply, fingerprint, processed_at)
            VALUES (${opts.inputKey}, ${loaded.ids.lineId}, ${JSON.stringify(reply)}::jsonb, ${opts.fingerprint ?? null}, now())
            ON CONFLICT (key) DO NOTHING RETURNING key`;
          if (stored.length === 0) return null; // a twin delivery got there first: the locked path answers
        }
        return reply;
      },
      { isolation: 'repeatable read' },
    ).catch((err: unknown) => {
      if (err instanceof IdempotencyKeyReusedError) throw err;
      // A serialisation conflict with a twin delivery: take the locked path, which is exact.
      this.deps.log.debug({ err, line: cfg.name }, 'refusal pre-check gave way to the locked path');
      return null;
    });
  }

  /** Read-only view of a line (no lock): live trains plus the newest train and any named ones. */
  async read(lineName: string, opts: { extraTrains?: number[]; newestTrain?: boolean; withoutTrainCommits?: boolean } = {}): Promise<Loaded> {
    const cfg = this.lineConfig(lineName);
    const loaded = await inTransaction(this.deps.pool, (tx) => loadLine(tx, cfg, { lock: false, ...opts }), {
      isolation: 'repeatable read',
      readOnly: true,
    });
    if (!loaded) throw new UnknownLineError(`line ${lineName} is not in the database`);
    return loaded;
  }
}
