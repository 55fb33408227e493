import * as domain from '../domain/index.js';
import { SYSTEM_ACTOR } from '../domain/index.js';
import type { Engine } from './engine.js';
import type { TicketDesk } from './ports/ticket-desk.js';

/**
 * A ticket changed outside Conductor (moved to Done, or reopened, in Jira):
 * apply it as its author would have in Slack, so both sides agree. A change
 * that is already true here is refused by the rules and changes nothing.
 *
 * This is the webhook's path: a person's explicit transition in Jira. It is
 * skipped only while Conductor's own change of the key is still on its way
 * out; after one that gave up (Jira could not follow) the person's transition
 * is taken, unlike the poll's mere difference (see `pollTickets`).
 */
export async function ticketChangedOutside(engine: Engine, externalKey: string, done: boolean): Promise<'applied' | 'unknown'> {
  // Our own change on its way out (or its echo coming back) must not be undone by the outside's older view.
  if ((await syncStatus(engine, [externalKey])).get(externalKey)?.pending) return 'applied';
  return apply(engine, externalKey, done);
}

/**
 * The polling safety net: compare the desk's view of a line's open tickets
 * with ours, and take the desk's where they differ (a lost webhook). Not for a
 * key whose newest sync is still pending (ours is on its way) or gave up: then
 * the desk could not follow Conductor's change (e.g. the Jira workflow has no
 * way to Done), Conductor's state stands and the channel was told
 * (`ticketSyncGaveUp`); taking the desk's view would undo the author's act.
 */
export async function pollTickets(engine: Engine, line: string, desk: TicketDesk): Promise<number> {
  const tickets = await engine.deps.db.ticket.findMany({
    where: { line: { name: line }, externalKey: { not: null }, train: { state: { in: ['delivering', 'verifying'] } } },
    select: { externalKey: true, state: true },
  });
  if (tickets.length === 0) return 0;
  const ours = new Map(tickets.map((t) => [t.externalKey!, t.state === 'verified']));
  // Read before the desk: a sync delivered between the two reads then still counts as pending, never as the desk's own view.
  const syncs = await syncStatus(engine, [...ours.keys()]);
  let changed = 0;
  for (const { key, done } of await desk.states([...ours.keys()])) {
    if (ours.get(key) === done) continue;
    const sync = syncs.get(key);
    if (sync?.pending || sync?.gaveUp) continue;
    await apply(engine, key, done);
    changed++;
  }
  return changed;
}

/**
 * A `ticket.sync` gave up: the desk can never mirror Conductor's change of
 * `externalKey` (no transition to Done in the Jira workflow, no permission,
 * issue deleted). Conductor's state stands; the train's thread is told why,
 * and it is audited.
 *
 * An engine input rather than a direct chat call from the effect handler: the
 * audit entry and the announcement are written in one transaction, and the
 * announcement is delivered by the outbox like any other (retried while Slack
 * is down) instead of being lost with a failed call. `inputKey` (from the
 * outbox item) makes a redelivery of the item (crash before it was closed)
 * announce once. Nothing is said when the ticket moved on meanwhile (its state
 * no longer is the one the sync carried: a newer sync follows).
 */
export async function ticketSyncGaveUp(engine: Engine, gaveUp: { line: string; externalKey: string; done: boolean; reason: string; inputKey: string }): Promise<void> {
  const { line, externalKey, done, reason, inputKey } = gaveUp;
  if (!engine.lines.has(line)) return;
  const row = await engine.deps.db.ticket.findFirst({
    where: { externalKey, line: { name: line } },
    orderBy: { id: 'desc' },
    select: { train: { select: { number: true } } },
  });
  if (!row) return;
  const train = row.train.number;
  await engine.run(
    line,
    SYSTEM_ACTOR,
    ({ state }) => {
      const ticket = state.trains.find((t) => t.number === train)?.tickets.find((k) => k.externalKey === externalKey);
      if (!ticket || (ticket.state === 'verified') !== done) return { decision: domain.refuse(`${externalKey} changed since; nothing to tell.`) };
      const why = reason.replace(/\s+/g, ' ').trim().slice(0, 300);
      const text = done
        ? `Jira could not follow: ${externalKey} could not be moved to done (${why}). Conductor keeps ${ticket.authorEmail}'s verification on train #${train}; move ${externalKey} in Jira by hand or fix its workflow.`
        : `Jira could not follow: ${externalKey} could not be reopened (${why}). Conductor keeps ${ticket.authorEmail}'s changes on train #${train} reopened; the deploy still waits for them.`;
      return {
        decision: {
          ok: true,
          state,
          effects: [{ kind: 'chat.announce', train, text }],
          audit: [{ action: 'ticket.sync_failed', train, details: { externalKey, done, reason: why } }],
          reply: text,
        },
      };
    },
    { inputKey: `${inputKey}:gave-up`, extraTrains: [train] },
  );
}

async function apply(engine: Engine, externalKey: string, done: boolean): Promise<'applied' | 'unknown'> {
  const ticket = await engine.deps.db.ticket.findFirst({
    where: { externalKey, train: { state: { in: ['delivering', 'verifying'] } } },
    include: { train: { select: { number: true } }, line: { select: { name: true } } },
    orderBy: { id: 'desc' },
  });
  if (!ticket || !engine.lines.has(ticket.line.name)) return 'unknown';
  const train = ticket.train.number;
  await engine.run(ticket.line.name, ticket.authorEmail, ({ state, ctx }) => ({
    decision: done ? domain.verify(state, ctx, train) : domain.reopen(state, ctx, train, `reopened in the ticket ${externalKey}`),
  }));
  return 'applied';
}

/**
 * Where Conductor's own changes of these keys stand, from their `ticket.sync`
 * outbox items: `pending` when one is not delivered yet, `gaveUp` when the
 * newest one was closed with "gave up: …" (PermanentEffectError). Keys without
 * any sync are absent. Only the keys asked about are read.
 */
async function syncStatus(engine: Engine, keys: string[]): Promise<Map<string, { pending: boolean; gaveUp: boolean }>> {
  if (keys.length === 0) return new Map();
  const rows = await engine.deps.db.$queryRaw<{ key: string; pending: boolean; gave_up: boolean }[]>`
    SELECT DISTINCT ON (payload->>'externalKey') payload->>'externalKey' AS key,
           bool_or(done_at IS NULL) OVER (PARTITION BY payload->>'externalKey') AS pending,
           (done_at IS NOT NULL AND last_error LIKE 'gave up:%') AS gave_up
    FROM outbox_item
    WHERE kind = 'ticket.sync' AND payload->>'externalKey' = ANY(${keys}::text[])
    ORDER BY payload->>'externalKey', id DESC`;
  return new Map(rows.map((r) => [r.key, { pending: r.pending, gaveUp: r.gave_up }]));
}
