import { afterEach, describe, expect, it } from 'vitest';
import { pruneOld } from '../../src/store/retention.js';
import { engineHarness, type Harness } from '../support/engine-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('pruneOld (retention of idempotency keys and finished outbox rows)', () => {
  it('deletes what is past retention and keeps the rest, including the ticket.sync a live ticket still needs', async () => {
    h = await engineHarness();
    await h.push('web', ['alice@example.com']);
    await h.finishJob('web', 1, 'build'); // train #1 verifying: Alice's ticket is live
    await h.db.pool.query(`UPDATE ticket SET external_key = 'WEB-1'`);
    const now = new Date('2026-11-24T12:00:00Z');
    const old = new Date('2026-10-01T00:00:00Z');
    const recent = new Date('2026-11-20T00:00:00Z');
    await h.db.pool.query('DELETE FROM outbox_item');
    await h.db.pool.query(`INSERT INTO processed_input (key, processed_at) VALUES ('old-1', $1), ('old-2', $1), ('recent', $2)`, [old, recent]);
    const outbox = async (key: string, kind: string, doneAt: Date | null, payload: object = {}) =>
      h!.db.pool.query(`INSERT INTO outbox_item (kind, payload, idempotency_key, next_attempt_at, done_at, created_at) VALUES ($1, $2, $3, $4, $5, $4)`, [kind, payload, key, old, doneAt]);
    await outbox('done-old', 'chat.announce', old);
    await outbox('done-recent', 'chat.announce', recent);
    await outbox('pending-old', 'chat.announce', null);
    await outbox('sync-live', 'ticket.sync', old, { externalKey: 'WEB-1' });
    await outbox('sync-gone', 'ticket.sync', old, { externalKey: 'WEB-0' });

    expect(await pruneOld(h.db.pool, now)).toEqual({ inputs: 2, outbox: 2 });
    const keys = (await h.db.pool.query<{ key: string }>('SELECT key FROM processed_input ORDER BY key')).rows.map((r) => r.key);
    expect(keys).toContain('recent');
    expect(keys).not.toContain('old-1');
    const left = (await h.db.pool.query<{ k: string }>('SELECT idempotency_key AS k FROM outbox_item ORDER BY k')).rows.map((r) => r.k);
    expect(left).toEqual(['done-recent', 'pending-old', 'sync-live']);
    // Nothing more to do: a second run deletes nothing.
    expect(await pruneOld(h.db.pool, now)).toEqual({ inputs: 0, outbox: 0 });
  });
});
