import * as domain from '../domain/index.js';
import type { Engine } from './engine.js';
import type { TicketDesk } from './ports/ticket-desk.js';

/**
 * A ticket changed outside Conductor (moved to Done, or reopened, in Jira):
 * apply it as its author would have in Slack, so both sides agree. A change
 * that is already true here is refused by the rules and changes nothing.
 */
export async function ticketChangedOutside(engine: Engine, externalKey: string, done: boolean): Promise<'applied' | 'unknown'> {
  // Our own change on its way out (or its echo coming back) must not be undone by the outside's older view.
  if ((await pendingSyncs(engine)).has(externalKey)) return 'applied';
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

/** The polling safety net: compare the desk's view of a line's open tickets with ours. */
export async function pollTickets(engine: Engine, line: string, desk: TicketDesk): Promise<number> {
  const tickets = await engine.deps.db.ticket.findMany({
    where: { line: { name: line }, externalKey: { not: null }, train: { state: { in: ['delivering', 'verifying'] } } },
    select: { externalKey: true, state: true },
  });
  if (tickets.length === 0) return 0;
  const ours = new Map(tickets.map((t) => [t.externalKey!, t.state === 'verified']));
  let changed = 0;
  const pending = await pendingSyncs(engine);
  for (const { key, done } of await desk.states([...ours.keys()])) {
    if (ours.get(key) === done || pending.has(key)) continue;
    await ticketChangedOutside(engine, key, done);
    changed++;
  }
  return changed;
}

/** External keys with a verify/reopen still waiting in the outbox to be mirrored outside. */
async function pendingSyncs(engine: Engine): Promise<Set<string>> {
  const rows = await engine.deps.db.outboxItem.findMany({ where: { kind: 'ticket.sync', doneAt: null }, select: { payload: true } });
  return new Set(rows.map((r) => String((r.payload as { externalKey?: string }).externalKey)));
}
