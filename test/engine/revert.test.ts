/**
 * `revert` on real git repositories (behaviour.md §10): a revert that cannot be made is
 * refused at once with its one-sentence reason; one that fails later is told
 * once, after the "is reverting" announcement, and the requester gets a DM; the
 * revert commit carries the requester's name, never their email as a name.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeEffectHandler } from '../../src/engine/deliver.js';
import { recordCommits } from '../../src/engine/inputs.js';
import type { CodeHost } from '../../src/engine/ports/code-host.js';
import { createLogChat } from '../../src/integrations/chat/log-chat.js';
import { createLocalCodeHost } from '../../src/integrations/git/local-code-host.js';
import { ALICE, BOB, Fixture, git, silentLog } from '../integrations/git/git-fixtures.js';
import { ADMIN, engineHarness, type Harness } from '../support/engine-harness.js';

let h: Harness | undefined;
const fixtures: Fixture[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const f of fixtures.splice(0)) f.cleanup();
});

async function setup() {
  const fx = new Fixture();
  fixtures.push(fx);
  fx.commit(BOB, 'Initial commit', { 'app.txt': 'one\ntwo\nthree\n' });
  fx.push();
  const host: CodeHost = createLocalCodeHost({ repo: fx.bare, branch: 'main', workDir: fx.workDir(), lineName: 'web', log: silentLog });
  h = await engineHarness({ codeHosts: { web: host }, lines: [{ name: 'web', mode: 'manual' }] });
  const harness = h;
  let since = await host.head();
  /** Records what was pushed, as a fetch would. */
  const fetchNow = async () => {
    const found = await host.newCommits(since);
    await recordCommits(harness.engine, 'web', since, found);
    since = found.headSha;
  };
  const chat = createLogChat(silentLog);
  const handle = makeEffectHandler({
    engine: harness.engine,
    chat,
    ports: () => ({ codeHost: host, runner: undefined as never, tickets: undefined as never }),
    fetchNow: async () => fetchNow(),
    publicUrl: 'http://localhost:3000',
    log: silentLog,
  });
  /** Delivers the outbox in order, as the worker does, until nothing is left. */
  const drain = async () => {
    for (;;) {
      const items = await harness.db.prisma.outboxItem.findMany({ where: { doneAt: null }, orderBy: { id: 'asc' } });
      if (items.length === 0) return;
      for (const it of items) {
        await handle({ id: it.id, kind: it.kind, payload: it.payload as Record<string, unknown>, idempotencyKey: it.idempotencyKey, attempts: 1 });
        await harness.db.prisma.outboxItem.update({ where: { id: it.id }, data: { doneAt: new Date() } });
      }
    }
  };
  return { fx, host, h: harness, fetchNow, chat, drain };
}

const reverts = async (hh: Harness) => (await hh.outbox('git.revert')).length;

describe('revert on a real repository', () => {
  it('a revert that would change nothing is refused at once, with the reason in one sentence', async () => {
    const { fx, h, fetchNow } = await setup();
    const bad = fx.pushCommit(ALICE, 'Bad', { 'bad.txt': 'b\n' });
    git(fx.dev, ['revert', '--no-edit', bad], { who: ALICE });
    fx.push();
    await fetchNow();
    const reply = await h.cmd(ALICE.email, `revert ${bad.slice(0, 10)}`);
    expect(reply).toEqual({ ok: false, text: `Reverting ${bad.slice(0, 10)} would change nothing: its changes are no longer on main.` });
    expect(await reverts(h)).toBe(0);
  });

  it('a revert that conflicts is refused at once, naming the files', async () => {
    const { fx, h, fetchNow } = await setup();
    const bad = fx.pushCommit(ALICE, 'Change line two', { 'app.txt': 'one\nTWO\nthree\n' });
    fx.pushCommit(BOB, 'Change line two again', { 'app.txt': 'one\nZWEI\nthree\n' });
    await fetchNow();
    expect(await h.cmd(ALICE.email, `revert ${bad}`)).toEqual({
      ok: false,
      text: `Reverting ${bad.slice(0, 10)} conflicts with later changes on main (app.txt): revert it by hand.`,
    });
    // Permission comes before the state of the repository: Bob may not revert Alice's commit at all.
    expect((await h.cmd(BOB.email, `revert ${bad}`)).text).toContain("only admins may revert someone else's");
    expect(await reverts(h)).toBe(0);
  });

  it("a revert that can be made: announced first, then pushed, authored with the name on the requester's latest commit", async () => {
    const { fx, h, fetchNow, chat, drain } = await setup();
    const bad = fx.pushCommit(ALICE, 'Add the blue button', { 'blue.txt': 'b\n' });
    await fetchNow();
    const reply = await h.cmd(ALICE.email, `revert ${bad}`);
    expect(reply).toEqual({ ok: true, text: `Reverting ${bad.slice(0, 8)}; the revert commit will appear on the platform shortly.` });
    const kinds = (await h.outbox()).map((e) => e.kind);
    expect(kinds.indexOf('chat.announce')).toBeLessThan(kinds.indexOf('git.revert'));
    expect(await h.outbox('git.revert')).toEqual([expect.objectContaining({ requestedBy: ALICE.email, requestedByName: 'Alice Archer' })]);

    await drain();
    expect(git(fx.bare, ['log', '-n1', '--format=%an <%ae>|%s', 'main'])).toBe('Alice Archer <alice@example.com>|Revert "Add the blue button"');
    expect(chat.messages.filter((m) => m.kind === 'announce').map((m) => m.text)).toContain(
      `${ALICE.email} is reverting ${bad.slice(0, 8)} (Add the blue button). The revert will land on the platform; then extend the train. :warning: The line is in manual mode: trains start only by hand.`,
    );
  });

  it('someone with no commit on the line is named by the local part of their email, never the email', async () => {
    const { fx, h, fetchNow, drain } = await setup();
    const bad = fx.pushCommit(ALICE, 'Bad', { 'bad.txt': 'b\n' });
    await fetchNow();
    expect((await h.cmd(ADMIN, `revert ${bad}`)).ok).toBe(true);
    await drain();
    expect(git(fx.bare, ['log', '-n1', '--format=%an <%ae>', 'main'])).toBe(`admin <${ADMIN}>`);
  });

  it('when the code host cannot tell (its remote is gone), the revert is accepted and attempted later rather than refused', async () => {
    const { fx, h, fetchNow } = await setup();
    const bad = fx.pushCommit(ALICE, 'Bad', { 'bad.txt': 'b\n' });
    await fetchNow();
    rmSync(fx.bare, { recursive: true, force: true });
    expect(await h.cmd(ALICE.email, `revert ${bad}`)).toEqual({ ok: true, text: `Reverting ${bad.slice(0, 8)}; the revert commit will appear on the platform shortly.` });
    expect(await reverts(h)).toBe(1);
  });

  it('a revert that fails after it was accepted is told once, after the announcement, and the requester gets a DM', async () => {
    const { fx, h, fetchNow, chat, drain } = await setup();
    const bad = fx.pushCommit(ALICE, 'Change line two', { 'app.txt': 'one\nTWO\nthree\n' });
    await fetchNow();
    expect((await h.cmd(ALICE.email, `revert ${bad}`)).ok).toBe(true);
    // Between the answer and the push, someone changes the same line.
    fx.pushCommit(BOB, 'Change line two again', { 'app.txt': 'one\nZWEI\nthree\n' });
    await drain();

    const reason = `Reverting ${bad.slice(0, 10)} conflicts with later changes on main (app.txt): revert it by hand.`;
    const manual = ' :warning: The line is in manual mode: trains start only by hand.';
    const all = chat.messages.filter((m) => m.kind !== 'card').map((m) => [m.kind, m.to, m.text]);
    const told = all.slice(all.findIndex((m) => m[2]!.includes('is reverting')));
    expect(told).toEqual([
      ['announce', null, `${ALICE.email} is reverting ${bad.slice(0, 8)} (Change line two). The revert will land on the platform; then extend the train.${manual}`],
      ['announce', null, `The revert of ${bad.slice(0, 8)} that ${ALICE.email} asked for was not made. ${reason}${manual}`],
      ['dm', ALICE.email, `Your revert of ${bad.slice(0, 8)} was not made. ${reason}`],
    ]);
    const audit = await h.db.prisma.auditEntry.findMany({ where: { action: 'commit.revert-failed' } });
    expect(audit).toHaveLength(1);
  });
});
