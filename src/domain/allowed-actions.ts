/**
 * Which actions a person may take, for the web pages' buttons (docs/behaviour.md
 * §7: buttons a person may not use are not shown). Nothing here restates a
 * permission: each answer is a dry run of the real rule on the current state,
 * so a button is shown exactly when the command would be accepted now.
 */

import { type ConfirmCommand, goingCommit } from './confirmation.js';
import { failedDeploys, findTrain, goingTrain } from './deployability.js';
import type { Decision } from './draft.js';
import type { CommitRef, Context, LineState } from './model.js';
import { norm } from './policy.js';
import { engineer, reopen, verify } from './rules/people.js';
import { revertAndExtend } from './rules/revert-extend.js';
import { setMode } from './rules/settings.js';
import { block, currentTrain, deploy, derail, emergency, extend, retry, revert, rollback, start, unblock } from './rules/train-commands.js';

const accepted = (d: Decision): boolean => d.ok;

/**
 * The line as the refusals see it, cheap to decide on. Every rule refuses before
 * it builds anything, and what an accepted derail, extend or start builds (a new
 * train of 5,000 commits with its tickets) costs a hundred milliseconds that a
 * page need not spend to learn "accepted". No refusal reads the commits
 * themselves, only whether the platform is empty and which commit a SHA names
 * (the first one, for `start`): so each train keeps one commit, the platform its
 * first, a ticket its first SHA; trains, states, engineers, jobs and tickets stay.
 */
function light(s: LineState): LineState {
  return {
    ...s,
    platform: s.platform.slice(0, 1),
    trains: s.trains.map((t) => ({ ...t, commits: t.commits.slice(0, 1), tickets: t.tickets.map((k) => ({ ...k, commitShas: k.commitShas.slice(0, 1) })) })),
  };
}

/** A stand-in for "someone else" when asking whether the person may give the engineer role away. */
const SOMEONE_ELSE = 'someone-else@conductor.invalid';
/** Any reason: the rules that take one accept any non-empty text. */
const A_REASON = 'reason';
const PREVIEW_REF = 'refs/conductor/backup/preview';

export interface TrainActions {
  verify: boolean;
  reopen: boolean;
  deploy: boolean;
  claimEngineer: boolean;
  giveEngineer: boolean;
  block: boolean;
  unblock: boolean;
  retry: boolean;
  extend: boolean;
  derail: boolean;
  rollback: boolean;
}

/**
 * The actions on train #n's page. The commands that act on "the" train (deploy,
 * block, extend…) pick it themselves, so they are offered only on the page of
 * the train they would act on.
 */
export function trainActions(full: LineState, ctx: Context, n: number): TrainActions {
  const s = light(full);
  const current = currentTrain(s);
  const isCurrent = current?.number === n;
  const isGoing = goingTrain(s)?.number === n;
  const failed = failedDeploys(s).some((t) => t.number === n);
  const target = findTrain(s, n);
  return {
    verify: !!target && accepted(verify(s, ctx, n)),
    reopen: !!target && accepted(reopen(s, ctx, n)),
    deploy: isGoing && accepted(deploy(s, ctx)),
    claimEngineer: isCurrent && accepted(engineer(s, ctx, 'me')),
    giveEngineer: isCurrent && accepted(engineer(s, ctx, SOMEONE_ELSE)),
    block: isGoing && !current?.blocked && accepted(block(s, ctx, A_REASON)),
    unblock: isGoing && accepted(unblock(s, ctx)),
    retry: (isCurrent || target?.state === 'deploying') && accepted(retry(s, ctx)),
    extend: isGoing && accepted(extend(s, ctx)),
    derail: (isGoing || failed) && accepted(derail(s, ctx, A_REASON)),
    rollback: target?.state === 'deployed' && accepted(rollback(s, ctx, n)),
  };
}

/**
 * Whose commits the person may revert (their own; admins anyone's), asked of
 * the rule once per author rather than once per commit.
 */
export function revertableAuthors(s: LineState, ctx: Context, commits: CommitRef[]): Set<string> {
  const out = new Set<string>();
  const asked = new Set<string>();
  // The revert rule reads the commit, the person and the policy, never the trains or the platform:
  // asking it on the line without them keeps each dry run small on a 5,000-commit train.
  const bare: LineState = { ...s, trains: [], platform: [] };
  for (const c of commits) {
    const author = norm(c.authorEmail);
    if (asked.has(author)) continue;
    asked.add(author);
    if (accepted(revert(bare, ctx, c, c.sha))) out.add(author);
  }
  return out;
}

export interface LineActions {
  /** Start a train with the platform (or up to a chosen commit). */
  start: boolean;
  emergency: boolean;
  modeManual: boolean;
  modeSchedule: boolean;
}

export function lineActions(full: LineState, ctx: Context): LineActions {
  const s = light(full);
  const first = s.platform[0];
  return {
    start: accepted(start(s, ctx, first?.sha)),
    emergency: accepted(emergency(s, ctx, PREVIEW_REF)),
    modeManual: accepted(setMode(s, ctx, 'manual', `${A_REASON} ${s.settings.manualReason ?? ''}`)),
    modeSchedule: accepted(setMode(s, ctx, 'schedule')),
  };
}

/** Would a confirmed command be refused now? Asked before a confirmation is shown, so nobody confirms in vain. */
export function confirmRefusal(full: LineState, ctx: Context, command: ConfirmCommand, arg: { reason?: string; train?: number; sha?: string }): string | null {
  const s = light(full);
  let d: Decision;
  switch (command) {
    case 'derail':
      d = derail(s, ctx, arg.reason);
      break;
    case 'extend':
      d = extend(s, ctx);
      break;
    case 'emergency':
      d = emergency(s, ctx, PREVIEW_REF, arg.reason);
      break;
    case 'rollback':
      d = arg.train === undefined ? { ok: false, reply: 'Name the train to roll back to: `/conductor rollback <train>`.' } : rollback(s, ctx, arg.train);
      break;
    case 'revert-extend': {
      // On the whole line: the rule looks the commit up among the going train's commits.
      const c = goingCommit(full, arg.sha);
      d = c === 'ambiguous' ? { ok: false, reply: `${arg.sha} matches several commits: give more characters.` } : revertAndExtend(full, ctx, c, arg.sha ?? '');
      break;
    }
  }
  return d.ok ? null : d.reply;
}
