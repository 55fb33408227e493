/**
 * behaviour.md §3 permissions: admins may do everything, and they alone may start,
 * run an emergency reset, change mode/auto-time/freeze, revert someone else's
 * commit and give the engineer role away; the engineer may deploy, extend,
 * derail, block, unblock and roll back; authors verify their own tickets;
 * anyone may claim the engineer role and revert their own commits. Every
 * refusal says who may do it.
 */
import { describe, expect, it } from 'vitest';
import {
  block,
  changeFreeze,
  type Decision,
  deploy,
  derail,
  emergency,
  engineer,
  extend,
  retry,
  revert,
  rollback,
  setAutoTime,
  setMode,
  start,
  unblock,
  verify,
} from '../../../src/domain/index.js';
import { ADMIN, ALICE, aCommit, aLine, BOB, ok, ROBOT, refused, Sim, STRANGER } from '../../support/domain-builders.js';

type Actor = 'admin' | 'engineer' | 'author' | 'stranger' | 'robot';
const EMAIL: Record<Actor, string> = { admin: ADMIN, engineer: ALICE, author: BOB, stranger: STRANGER, robot: ROBOT };
const ALL: Actor[] = ['admin', 'engineer', 'author', 'stranger', 'robot'];

const ADMINS_ONLY = /^Only admins may .+\. Admins: admin@acme\.test\.$/;
const ENGINEER_OR_ADMIN = /^Only the engineer \(alice@acme\.test\) or an admin may /;

/** Train #1 = a1 (Alice, engineer), b1 (Bob), r1 (robot); c1 (Bob) on the platform. */
function going(settings: Parameters<typeof aLine>[0] = {}): Sim {
  const sim = new Sim(aLine(settings));
  ok(sim.push(aCommit('a1', ALICE), aCommit('b1', BOB), aCommit('r1', ROBOT)));
  if (!sim.going) ok(sim.as(ADMIN, start));
  ok(sim.push(aCommit('c1', BOB)));
  expect(sim.goingOrFail.engineer).toBe(ALICE);
  return sim;
}

interface Case {
  what: string;
  arrange: () => Sim;
  act: (sim: Sim, who: string) => Decision;
  allowed: Actor[];
  refusal: RegExp;
}

const cases: Case[] = [
  {
    what: 'start a train',
    arrange: () => {
      const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
      ok(sim.push(aCommit('a1', ALICE)));
      return sim;
    },
    act: (sim, who) => sim.as(who, start),
    allowed: ['admin'],
    refusal: ADMINS_ONLY,
  },
  { what: 'run an emergency reset', arrange: going, act: (sim, who) => sim.as(who, emergency, 'refs/conductor/backup/web/x'), allowed: ['admin'], refusal: ADMINS_ONLY },
  { what: 'change the mode', arrange: going, act: (sim, who) => sim.as(who, setMode, 'manual'), allowed: ['admin'], refusal: ADMINS_ONLY },
  { what: 'change auto-time', arrange: going, act: (sim, who) => sim.as(who, setAutoTime, []), allowed: ['admin'], refusal: ADMINS_ONLY },
  { what: 'add a freeze date', arrange: going, act: (sim, who) => sim.as(who, changeFreeze, 'add', '2026-12-25'), allowed: ['admin'], refusal: ADMINS_ONLY },
  {
    what: "revert someone else's commit (Bob's b1)",
    arrange: going,
    act: (sim, who) => sim.as(who, revert, sim.train(1).commits[1]!, 'b1'),
    allowed: ['admin', 'author'], // Bob is b1's author
    refusal: /only admins may revert someone else's\. Admins: admin@acme\.test\.$/,
  },
  {
    what: 'give the engineer role to Bob',
    arrange: going,
    act: (sim, who) => sim.as(who, engineer, BOB),
    allowed: ['admin', 'author'], // Bob naming himself is a claim
    refusal: ADMINS_ONLY,
  },
  {
    what: 'claim the engineer role',
    arrange: going,
    act: (sim, who) => sim.as(who, engineer, 'me'),
    allowed: ['admin', 'author', 'stranger'],
    refusal: /already the engineer|is a robot: the engineer must be a person/,
  },
  {
    what: 'deploy',
    arrange: () => going().deliverAndVerify(1),
    act: (sim, who) => sim.as(who, deploy),
    allowed: ['admin', 'engineer'],
    refusal: ENGINEER_OR_ADMIN,
  },
  { what: 'extend', arrange: going, act: (sim, who) => sim.as(who, extend), allowed: ['admin', 'engineer'], refusal: ENGINEER_OR_ADMIN },
  { what: 'derail', arrange: going, act: (sim, who) => sim.as(who, derail), allowed: ['admin', 'engineer'], refusal: ENGINEER_OR_ADMIN },
  { what: 'block', arrange: going, act: (sim, who) => sim.as(who, block, 'wait'), allowed: ['admin', 'engineer'], refusal: ENGINEER_OR_ADMIN },
  {
    what: 'unblock',
    arrange: () => {
      const sim = going();
      ok(sim.as(ADMIN, block, 'wait'));
      return sim;
    },
    act: (sim, who) => sim.as(who, unblock),
    allowed: ['admin', 'engineer'],
    refusal: ENGINEER_OR_ADMIN,
  },
  {
    what: 'retry a failed build',
    arrange: () => {
      const sim = going();
      sim.failBuild(1);
      return sim;
    },
    act: (sim, who) => sim.as(who, retry),
    allowed: ['admin', 'engineer'],
    refusal: ENGINEER_OR_ADMIN,
  },
  {
    what: 'roll back',
    arrange: () => {
      const sim = new Sim();
      sim.keep = [1, 2];
      for (const [n, c] of [
        [1, 'x1'],
        [2, 'x2'],
      ] as const) {
        ok(sim.push(aCommit(c, BOB)));
        sim.deliverAndVerify(n);
        ok(sim.as(ADMIN, deploy));
        sim.succeedDeploy(n);
      }
      ok(sim.push(aCommit('a1', ALICE)));
      return sim;
    },
    act: (sim, who) => sim.as(who, rollback, 1),
    allowed: ['admin', 'engineer'],
    refusal: ENGINEER_OR_ADMIN,
  },
  {
    what: "verify Bob's changes",
    arrange: () => {
      const sim = going();
      sim.succeedBuild(1);
      ok(sim.as(ALICE, verify)); // Alice's own ticket is done: Bob's is left (r1 needs none)
      return sim;
    },
    act: (sim, who) => sim.as(who, verify),
    allowed: ['author'],
    refusal: /each author verifies their own changes|already verified/,
  },
];

describe.each(cases)('§3: who may $what', ({ arrange, act, allowed, refusal }) => {
  it.each(ALL)('%s', (actor) => {
    const sim = arrange();
    const before = structuredClone(sim.state);
    const decision = act(sim, EMAIL[actor]);
    if (allowed.includes(actor)) {
      expect(decision.ok, decision.ok ? '' : decision.reply).toBe(true);
    } else {
      expect(decision.ok).toBe(false);
      if (!decision.ok) expect(decision.reply).toMatch(refusal);
      expect(sim.state).toEqual(before);
    }
  });
});

describe('§3: admins may do everything', () => {
  it('an admin who is neither engineer nor author drives the train end to end', () => {
    const sim = going();
    ok(sim.as(ADMIN, block, 'checking'));
    ok(sim.as(ADMIN, unblock));
    ok(sim.as(ADMIN, extend));
    expect(sim.goingOrFail.number).toBe(2);
    sim.deliverAndVerify(2);
    ok(sim.as(ADMIN, deploy));
    expect(sim.train(2).state).toBe('deploying');
  });
});

/**
 * Permission before state (issue 8 §4): someone who may not run a command is
 * told who may, even when the command would also be refused for the state the
 * line is in. Each row: a state with a state refusal for the permitted, and the
 * refusal a stranger reads.
 */
describe('§3: a refusal puts permission before state', () => {
  const empty = () => new Sim();
  const deploying = () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, start));
    sim.deliverAndVerify(1);
    ok(sim.as(ALICE, deploy));
    return sim;
  };
  const stillBuilding = () => {
    const sim = new Sim(aLine({ settings: { mode: 'manual' } }));
    ok(sim.push(aCommit('a1', ALICE)));
    ok(sim.as(ADMIN, start));
    return sim;
  };
  const ENGINEER = `Only the engineer (${ALICE}) or an admin may`;
  const rows: { command: string; state: string; arrange: () => Sim; act: (sim: Sim, who: string) => Decision; stateRefusal: string; permission: string }[] = [
    {
      command: 'start',
      state: 'the platform is empty',
      arrange: empty,
      act: (s, w) => s.as(w, start),
      stateRefusal: 'The platform is empty: there is nothing to put on a train.',
      permission: `Only admins may start a train by hand. Admins: ${ADMIN}.`,
    },
    {
      command: 'derail',
      state: 'no train is going',
      arrange: empty,
      act: (s, w) => s.as(w, derail),
      stateRefusal: 'No train is going: there is nothing to derail.',
      permission: 'Only the engineer or an admin may derail the train.',
    },
    {
      command: 'derail',
      state: 'the train is deploying',
      arrange: deploying,
      act: (s, w) => s.as(w, derail),
      stateRefusal: 'Train #1 is deploying: it can be derailed only if its deploy fails.',
      permission: `${ENGINEER} derail the train.`,
    },
    {
      command: 'extend',
      state: 'no train is going',
      arrange: empty,
      act: (s, w) => s.as(w, extend),
      stateRefusal: 'No train is going: there is nothing to extend.',
      permission: 'Only the engineer or an admin may extend the train.',
    },
    {
      command: 'block',
      state: 'no train is going',
      arrange: empty,
      act: (s, w) => s.as(w, block, 'x'),
      stateRefusal: 'No train is going: there is nothing to block.',
      permission: 'Only the engineer or an admin may block the train.',
    },
    {
      command: 'block',
      state: 'the reason is empty',
      arrange: stillBuilding,
      act: (s, w) => s.as(w, block, ' '),
      stateRefusal: 'A block needs a reason: `/conductor block <reason>`.',
      permission: `${ENGINEER} block the train.`,
    },
    {
      command: 'unblock',
      state: 'the train is not blocked',
      arrange: stillBuilding,
      act: (s, w) => s.as(w, unblock),
      stateRefusal: 'Train #1 is not blocked.',
      permission: `${ENGINEER} unblock the train.`,
    },
    {
      command: 'unblock',
      state: 'no train is going',
      arrange: empty,
      act: (s, w) => s.as(w, unblock),
      stateRefusal: 'No train is going: there is nothing to unblock.',
      permission: 'Only the engineer or an admin may unblock the train.',
    },
    {
      command: 'deploy',
      state: 'the train is not deployable',
      arrange: stillBuilding,
      act: (s, w) => s.as(w, deploy),
      stateRefusal: 'Train #1 cannot deploy yet.',
      permission: `${ENGINEER} deploy.`,
    },
    {
      command: 'deploy',
      state: 'the train is already deploying',
      arrange: deploying,
      act: (s, w) => s.as(w, deploy),
      stateRefusal: 'Train #1 is already deploying.',
      permission: `${ENGINEER} deploy.`,
    },
    {
      command: 'retry',
      state: 'no job failed',
      arrange: stillBuilding,
      act: (s, w) => s.as(w, retry),
      stateRefusal: 'There is no failed job to retry.',
      permission: `${ENGINEER} retry a job.`,
    },
    {
      command: 'rollback',
      state: 'the target was never deployed',
      arrange: stillBuilding,
      act: (s, w) => s.as(w, rollback, 1),
      stateRefusal: 'Train #1 was never deployed',
      permission: `${ENGINEER} roll back.`,
    },
    {
      command: 'mode',
      state: 'the line is already in that mode',
      arrange: empty,
      act: (s, w) => s.as(w, setMode, 'schedule'),
      stateRefusal: 'The line is already in schedule mode.',
      permission: `Only admins may change the mode. Admins: ${ADMIN}.`,
    },
    {
      command: 'freeze add',
      state: 'the date is already frozen',
      arrange: () => {
        const s = new Sim(aLine({ settings: { freezes: ['2026-12-24'] } }));
        return s;
      },
      act: (s, w) => s.as(w, changeFreeze, 'add', '2026-12-24'),
      stateRefusal: '2026-12-24 is already a freeze date.',
      permission: `Only admins may change freeze dates. Admins: ${ADMIN}.`,
    },
    {
      command: 'freeze remove',
      state: 'the date is not frozen',
      arrange: empty,
      act: (s, w) => s.as(w, changeFreeze, 'remove', '2026-12-24'),
      stateRefusal: '2026-12-24 is not a freeze date.',
      permission: `Only admins may change freeze dates. Admins: ${ADMIN}.`,
    },
    {
      command: 'engineer @someone',
      state: 'no train is going',
      arrange: empty,
      act: (s, w) => s.as(w, engineer, BOB),
      stateRefusal: 'No train is going: there is no engineer role to take.',
      permission: `Only admins may give the engineer role to someone else (anyone may claim it with \`engineer me\`). Admins: ${ADMIN}.`,
    },
  ];

  it.each(rows)('$command when $state', ({ arrange, act, stateRefusal, permission }) => {
    // The state refusal is real: someone allowed gets it …
    const allowed = arrange();
    const who = allowed.going?.engineer ?? allowed.state.trains[0]?.engineer ?? ADMIN;
    expect(refused(act(allowed, who === ADMIN ? ADMIN : who))).toContain(stateRefusal);
    // … and a stranger is told who may, first.
    expect(refused(act(arrange(), STRANGER))).toBe(permission);
  });
});
