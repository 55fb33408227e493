import type { EffectKind, OutboxPayloads } from './effects.js';
import type { Engine } from './engine.js';

/**
 * Writes one outbox item outside a decision (an adapter's own effect, such as
 * Slack's App Home refresh) and wakes the worker. The key makes it happen once:
 * a second write with the same key is ignored.
 */
export async function enqueueEffect<K extends EffectKind>(engine: Engine, kind: K, payload: OutboxPayloads[K], idempotencyKey: string): Promise<void> {
  await engine.deps.pool.query(
    `INSERT INTO outbox_item (kind, payload, idempotency_key, next_attempt_at) VALUES ($1, $2::jsonb, $3, $4)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [kind, JSON.stringify(payload), idempotencyKey, engine.deps.clock()],
  );
  engine.deps.onEffects?.();
}
