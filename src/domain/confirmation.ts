/**
 * What a confirmed command (derail, extend, emergency, rollback) will do, in
 * sentences, from the state it would run on (behaviour.md §2 rules 6–8 and 13).
 * Slack's confirmation modal and the web's confirm page both show these words,
 * so people read the same thing wherever they act. Pure.
 */
import { failedDeploys, findTrain, goingTrain } from './deployability.js';
import { inAutoTime } from './lifecycle.js';
import type { CommitRef, LineState, Train } from './model.js';
import { norm } from './policy.js';
import { count, firstLine, plural, shortSha, truncate } from './text.js';

/** `revert-extend`: `revert <sha> and extend` (behaviour.md §8). */
export type ConfirmCommand = 'derail' | 'extend' | 'emergency' | 'rollback' | 'revert-extend';

export const CONFIRM_COMMANDS: readonly ConfirmCommand[] = ['derail', 'extend', 'emergency', 'rollback'];

export const isConfirmCommand = (name: string): name is ConfirmCommand => (CONFIRM_COMMANDS as readonly string[]).includes(name);

/** The confirmation a parsed command needs, or null: a plain `revert` needs none, `revert <sha> and extend` does. */
export function confirmCommandOf(c: { name: string; extend?: boolean }): ConfirmCommand | null {
  if (c.name === 'revert') return c.extend ? 'revert-extend' : null;
  return isConfirmCommand(c.name) ? c.name : null;
}

/** A commit of the going train named by a SHA prefix: null when none, `ambiguous` when several. */
export function goingCommit(s: LineState, sha: string | undefined): CommitRef | null | 'ambiguous' {
  const going = goingTrain(s);
  if (!going || !sha) return null;
  const prefix = sha.toLowerCase();
  const found = going.commits.filter((c) => c.sha.startsWith(prefix));
  return found.length > 1 ? 'ambiguous' : (found[0] ?? null);
}

export interface Confirmation {
  title: string;
  lines: string[];
  danger: boolean;
}

export interface ConfirmArgs {
  reason?: string;
  train?: number;
  /** `revert-extend`: the commit to revert. */
  sha?: string;
  backupRefPreview?: string;
  now?: Date;
}

/** The sentence under a confirmation. `*…*` marks a button's name (bold in Slack and on the page). */
export function confirmAdvice(danger: boolean): string {
  return danger ? 'This acts on the branch and the channel at once. Press *Confirm* only if you mean it.' : 'Press *Confirm* to go ahead, or *Cancel* to leave everything as it is.';
}

/** A title fits Slack's modal title (24 characters); the web page shows the same one. */
const TITLE_MAX = 24;

/** Commits listed by name in a confirmation; the rest are counted. */
export const MAX_LISTED_COMMITS = 15;

const trainPhrase = (t: Train): string => `Train #${t.number} (${plural(t.commits.length, 'commit')})`;

const commitLine = (c: CommitRef): string => `\`${shortSha(c.sha)}\` ${c.authorEmail}: ${firstLine(c.message, 80)}`;

/** Up to `MAX_LISTED_COMMITS` commit lines, then a count. */
function listCommits(commits: CommitRef[], rest: string): string[] {
  const out = commits.slice(0, MAX_LISTED_COMMITS).map(commitLine);
  if (commits.length > MAX_LISTED_COMMITS) out.push(`…and ${plural(commits.length - MAX_LISTED_COMMITS, 'more commit')} ${rest}.`);
  return out;
}

const trainList = (ts: Train[]): string => ts.map((t) => `#${t.number}`).join(' and ');

/**
 * What `command` will do, in sentences, from the state it would run on. Pure;
 * it follows the domain's rules (src/domain/rules/train-commands.ts), so what
 * the modal says is what happens.
 */
export function describeConfirmation(state: LineState, command: ConfirmCommand, arg: ConfirmArgs = {}): Confirmation {
  switch (command) {
    case 'derail':
      return describeDerail(state, arg);
    case 'extend':
      return describeExtend(state, arg);
    case 'emergency':
      return describeEmergency(state, arg);
    case 'rollback':
      return describeRollback(state, arg);
    case 'revert-extend':
      return describeRevertExtend(state, arg);
  }
}

function describeRevertExtend(s: LineState, arg: { sha?: string }): Confirmation {
  const going = goingTrain(s);
  if (!going) return { title: 'Revert and extend', lines: ['No train is going: there is nothing to extend.'], danger: false };
  const c = goingCommit(s, arg.sha);
  if (c === 'ambiguous') return { title: 'Revert and extend', lines: [`${arg.sha} matches several commits of train #${going.number}: give more characters.`], danger: false };
  if (!c) return { title: 'Revert and extend', lines: [`${arg.sha ?? 'That commit'} is not on train #${going.number}.`], danger: false };
  const culprit = going.bisect?.state === 'found' && going.bisect.culprit?.sha === c.sha;
  const lines = [
    `${commitLine(c)}${culprit ? ' — the first commit whose build fails, found by the culprit search.' : ''}`,
    `A revert of it will be pushed to ${s.settings.branch}; it lands on the platform.`,
    `Then train #${going.number} (${plural(going.commits.length, 'commit')}) will be derailed and replaced by train #${s.nextTrainNumber}: its own commits, the revert, and every commit on the platform by then (${plural(s.platform.length, 'commit')} now).`,
    'Verifications carry over; the engineer stays.',
  ];
  return { title: truncate(`Revert and extend #${going.number}`, TITLE_MAX), lines, danger: true };
}

function describeDerail(s: LineState, arg: { reason?: string; train?: number; now?: Date }): Confirmation {
  const going = goingTrain(s);
  // The domain derails the going train, and a train whose production deploy failed with it.
  const targets = [...failedDeploys(s), ...(going ? [going] : [])];
  if (targets.length === 0) return { title: 'Derail', lines: ['No train is going: there is nothing to derail.'], danger: false };
  if (arg.train !== undefined && !targets.some((t) => t.number === arg.train))
    return { title: `Derail train #${arg.train}`, lines: [`Train #${arg.train} is no longer going: there is nothing to derail.`], danger: false };
  const returned = targets.reduce((n, t) => n + t.commits.length, 0);
  const lines = targets.map((t) => `${trainPhrase(t)} will be derailed${t.state === 'deploying' ? ' (its production deploy failed)' : ''}; its running jobs are stopped.`);
  lines.push(
    `${plural(returned, 'commit')} go${returned === 1 ? 'es' : ''} back to the front of the platform${s.platform.length ? `, ahead of the ${plural(s.platform.length, 'commit')} already waiting` : ''}; verifications carry over.`,
  );
  const reason = arg.reason?.trim();
  lines.push(reason ? `Reason: ${reason}` : 'No reason given.');
  lines.push(whatFollowsDerail(s, returned, arg.now));
  return { title: truncate(`Derail train ${trainList(targets)}`, TITLE_MAX), lines, danger: true };
}

/** Rule 3 after a derail: what the line does with the commits, and how to hold them (behaviour.md §10). */
function whatFollowsDerail(s: LineState, returned: number, now?: Date): string {
  if (s.settings.mode === 'manual') return 'The line is in manual mode: no new train starts until an admin runs `/conductor start`.';
  const hold = 'To hold them on the platform, cancel and switch to manual mode first (`/conductor mode manual`).';
  if (!now) return `In schedule mode, inside auto-time, a new train starts at once with the platform. ${hold}`;
  if (!inAutoTime(s, now)) return 'The line is in schedule mode, outside auto-time: the commits wait on the platform until auto-time or `/conductor start`.';
  const waiting = returned + s.platform.length;
  const taken = s.settings.maxCommits ? Math.min(s.settings.maxCommits, waiting) : waiting;
  return `The line is in schedule mode inside auto-time: train #${s.nextTrainNumber} starts at once with ${taken === 1 ? 'this commit' : `these ${count(taken)} commits`}. ${hold}`;
}

function describeExtend(s: LineState, arg: { train?: number }): Confirmation {
  const going = goingTrain(s);
  if (!going) return { title: 'Extend', lines: ['No train is going: there is nothing to extend.'], danger: false };
  if (arg.train !== undefined && arg.train !== going.number)
    return { title: `Extend train #${arg.train}`, lines: [`Train #${arg.train} is no longer going: there is nothing to extend.`], danger: false };
  const title = `Extend train #${going.number}`;
  if (s.platform.length === 0)
    return {
      title,
      lines: ['The platform is empty: push the revert first (it lands on the platform), then extend. To rebuild the same commits, use `retry`.'],
      danger: false,
    };
  const total = going.commits.length + s.platform.length;
  const verified = going.tickets.filter((k) => k.state === 'verified').length;
  const lines = [
    `${trainPhrase(going)} will be derailed and replaced by train #${s.nextTrainNumber} with ${plural(total, 'commit')}: its own ${plural(going.commits.length, 'commit')} plus the ${plural(s.platform.length, 'commit')} on the platform.`,
    `Joining from the platform:`,
    ...listCommits(s.platform, 'from the platform'),
    going.tickets.length
      ? `Verifications carry over: ${count(verified)} of ${plural(going.tickets.length, 'author')} ${verified === 1 ? 'has' : 'have'} verified, and stay verified while the new train builds.`
      : 'Verifications carry over to the new train.',
    `The engineer stays: ${going.engineer ?? 'nobody (claim it with `/conductor engineer me`)'}.`,
  ];
  return { title, lines, danger: false };
}

function describeEmergency(s: LineState, arg: { reason?: string; backupRefPreview?: string }): Confirmation {
  const going = goingTrain(s);
  // As the domain does: a train whose production deploy failed is not in production, so it goes too.
  const wiped = [...failedDeploys(s), ...(going ? [going] : [])];
  const deploying = s.trains.filter((t) => t.state === 'deploying').sort((a, b) => b.number - a.number)[0];
  const first = wiped[0];
  const target = first ? first.baseSha : (deploying?.headSha ?? s.deployedSha);
  const targetWhy = first
    ? `the commit just before train #${first.number}`
    : deploying
      ? `the head of train #${deploying.number}, still deploying`
      : s.lastDeployed && s.lastDeployed.headSha === s.deployedSha
        ? `the head of train #${s.lastDeployed.number}, the last deployed`
        : 'the last deployed commit';
  const removed = [...wiped.flatMap((t) => t.commits), ...s.platform];
  const lines: string[] = [];
  const reason = arg.reason?.trim();
  if (reason) lines.push(`Reason: ${reason}`);
  lines.push(
    wiped.length
      ? wiped.map((t) => `${trainPhrase(t)} will be derailed${t.state === 'deploying' ? ' (its production deploy failed)' : ''}.`).join(' ')
      : 'No train is going: none is derailed.',
  );
  lines.push(`The branch ${s.settings.branch} will be force-pushed back to \`${shortSha(target)}\` (${targetWhy}).`);
  lines.push(`The old head is kept${arg.backupRefPreview ? ` at ${arg.backupRefPreview}` : ' under refs/conductor/backup/'}: nothing is lost.`);
  if (removed.length) {
    const from = [...wiped.map((t) => `train #${t.number}`), ...(s.platform.length ? ['the platform'] : [])].join(' and ');
    lines.push(`These ${plural(removed.length, 'commit')} leave the branch (${from}):`);
    lines.push(...listCommits(removed, 'kept in the backup ref'));
    const authors = new Set(removed.map((c) => norm(c.authorEmail))).size;
    lines.push(authors === 1 ? 'Their author gets a DM naming the removed commits.' : `Each of their ${count(authors)} authors gets a DM naming their removed commits.`);
  } else {
    lines.push('No commits leave the branch.');
  }
  lines.push('The line goes to manual mode: no train starts until an admin runs `/conductor start`. Push the emergency commits, then start a train by hand.');
  return { title: 'Emergency reset', lines, danger: true };
}

function describeRollback(s: LineState, arg: { train?: number }): Confirmation {
  if (arg.train === undefined) return { title: 'Roll back', lines: ['Name the train to roll back to: `/conductor rollback <train>`.'], danger: false };
  const n = arg.train;
  const title = truncate(`Roll back to train #${n}`, TITLE_MAX);
  const target = findTrain(s, n);
  if (!target || target.state !== 'deployed') return { title, lines: [`Train #${n} was never deployed: only a deployed train can be rolled back to.`], danger: false };
  if (s.lastDeployed?.number === n) return { title, lines: [`Train #${n} is what production runs now: roll back to an earlier train.`], danger: false };
  const going = goingTrain(s);
  const lines = [
    `Production will be rolled back to train #${n}: the deploy job runs for its head \`${shortSha(target.headSha)}\`.`,
    going ? `${trainPhrase(going)} will be blocked with reason "rollback": it does everything except deploy until it is unblocked.` : 'No train is going: nothing is blocked.',
    'Next: revert the bad commit (`/conductor revert <sha>`), extend the train (`/conductor extend`), then unblock it.',
  ];
  return { title, lines, danger: true };
}

/**
 * What a confirmation was given for: the words shown (but not the backup ref,
 * which names the second it is made) and the facts they rest on (the live
 * trains with their state, head and block, the platform, production, the mode).
 * The web's confirm form carries a digest of it; the command runs only if the
 * line still gives the same mark, so nobody's "yes" is applied to a train that
 * changed meanwhile.
 */
export function confirmationMark(state: LineState, command: ConfirmCommand, arg: ConfirmArgs): string {
  const words = describeConfirmation(state, command, { reason: arg.reason, train: arg.train, sha: arg.sha, now: arg.now });
  const live = state.trains.filter((t) => t.state !== 'deployed' && t.state !== 'derailed').map((t) => [t.number, t.state, t.headSha, t.blocked]);
  return JSON.stringify({
    command,
    words,
    live,
    platform: [state.platform.length, state.platform.at(-1)?.sha ?? null],
    production: state.production?.number ?? state.lastDeployed?.number ?? null,
    mode: state.settings.mode,
  });
}
