// The Jira polling safety net and the webhook path (src/engine/tickets-outside.ts) against a real
// PostgreSQL database: which of Conductor's own `ticket.sync` outbox items make them leave a ticket alone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TicketDesk } from '../../src/engine/ports/ticket-desk.js';
import { pollTickets, ticketChangedOutside } from '../../src/engine/tickets-outside.js';
import { engineHarness, type Harness } from '../support/engine-harness.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/** A desk that says every ticket is open (not done) in Jira. */
const allOpen: TicketDesk = {
  open: async () => [],
  setDone: async () => undefined,
  states: async (keys) => keys.map((key) => ({ key, done: false })),
};

describe('tickets changed outside: the poll and the webhook against our own syncs', () => {
  let h: Harness;
  const aliceState = async () => (await h.db.prisma.ticket.findFirstOrThrow({ where: { authorEmail: ALICE } })).state;
  const syncs = () => h.db.prisma.outboxItem.findMany({ where: { kind: 'ticket.sync' }, orderBy: { id: 'asc' } });
  /** Closes every ticket.sync as the outbox would: delivered, or given up. */
  const closeSyncs = (lastError: string | null) => h.db.prisma.outboxItem.updateMany({ where: { kind: 'ticket.sync', doneAt: null }, data: { doneAt: h.now(), lastError } });

  beforeEach(async () => {
    h = await engineHarness();
    await h.push('web', [ALICE, BOB]);
    await h.finishJob('web', 1, 'build');
    await h.db.prisma.ticket.updateMany({ where: { authorEmail: ALICE }, data: { externalKey: 'WEB-2' } });
    await h.db.prisma.ticket.updateMany({ where: { authorEmail: BOB }, data: { externalKey: 'WEB-3' } });
    expect((await h.cmd(ALICE, 'verify')).ok).toBe(true);
    expect(await syncs()).toHaveLength(1); // Alice's verification, on its way to Jira
  });
  afterEach(async () => {
    await h.close();
  });

  it('the poll leaves a ticket alone while its sync is pending, and after it gave up', async () => {
    expect(await pollTickets(h.engine, 'web', allOpen)).toBe(0);
    expect(await aliceState()).toBe('verified');

    await closeSyncs('gave up: WEB-2 (status In Review) has no transition to "Done"');
    expect(await pollTickets(h.engine, 'web', allOpen)).toBe(0);
    expect(await pollTickets(h.engine, 'web', allOpen)).toBe(0);
    expect(await aliceState()).toBe('verified');
  });

  it('the poll acts again once the newest sync was delivered (a give-up counts only while it is the newest)', async () => {
    await closeSyncs('gave up: no transition');
    // Alice reopens and verifies again; both syncs are delivered: Jira followed, so it was Done.
    expect((await h.cmd(ALICE, 'reopen')).ok).toBe(true);
    expect((await h.cmd(ALICE, 'verify')).ok).toBe(true);
    await closeSyncs(null);
    expect(await syncs()).toHaveLength(3);
    // Now Jira says open: a reopen made in Jira whose webhook was lost.
    expect(await pollTickets(h.engine, 'web', allOpen)).toBe(1);
    expect(await aliceState()).toBe('pending');
  });

  it('the webhook (a person’s transition in Jira) is skipped while a sync is pending, but applied after a give-up', async () => {
    expect(await ticketChangedOutside(h.engine, 'WEB-2', false)).toBe('applied');
    expect(await aliceState()).toBe('verified'); // our verification was still on its way out

    await closeSyncs('gave up: no transition');
    expect(await ticketChangedOutside(h.engine, 'WEB-2', false)).toBe('applied');
    expect(await aliceState()).toBe('pending');
    expect(await ticketChangedOutside(h.engine, 'WEB-404', false)).toBe('unknown');
  });
});
