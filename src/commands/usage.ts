import { type CommandName, isCommandName } from './command.js';

/**
 * One line of the `/conductor` help. A subcommand whose forms have different
 * permissions (engineer, autotime, freeze) has one entry per form.
 */
export interface UsageEntry {
  name: CommandName;
  /** The form after `/conductor`, e.g. `start [sha]`. */
  usage: string;
  /** One-line description. */
  description: string;
  /** Who may use it (behaviour.md §3), as shown to users, e.g. "admins". */
  who: string;
}

export const USAGE: readonly UsageEntry[] = [
  { name: 'help', usage: 'help [command]', description: 'Show this help, or the help of one command.', who: 'anyone' },
  { name: 'status', usage: 'status', description: 'Show the going train, the platform and why nothing is moving.', who: 'anyone' },
  { name: 'queue', usage: 'queue', description: 'List the commits waiting on the platform.', who: 'anyone' },
  { name: 'start', usage: 'start [sha]', description: 'Start a train by hand with the platform, up to and including <sha> if given.', who: 'admins' },
  {
    name: 'derail',
    usage: 'derail [reason]',
    description: 'Destroy the going train; its commits go back to the platform. In schedule mode inside auto-time a new train takes them at once: to hold them, run `mode manual` first.',
    who: 'engineer or admin',
  },
  { name: 'extend', usage: 'extend', description: 'Replace the going train by a new one made of its commits plus the platform.', who: 'engineer or admin' },
  {
    name: 'revert',
    usage: 'revert <sha> [and extend]',
    description: 'Push a revert of a commit to the branch; with `and extend`, the going train is extended with the revert once it lands.',
    who: "the commit author, or admins for anyone's commit; `and extend`: admins, or the engineer for the culprit the search found",
  },
  { name: 'emergency', usage: 'emergency [reason]', description: 'Emergency reset: manual mode, derail, force-push the branch back to before the train.', who: 'admins' },
  { name: 'block', usage: 'block <reason>', description: 'Stop the going train from deploying.', who: 'engineer or admin' },
  { name: 'unblock', usage: 'unblock', description: 'Lift the block on the going train.', who: 'engineer or admin' },
  { name: 'deploy', usage: 'deploy', description: 'Start the production deploy of the going train.', who: 'engineer or admin' },
  { name: 'retry', usage: 'retry', description: "Retry the train's failed build or deploy job.", who: 'engineer or admin' },
  { name: 'verify', usage: 'verify [train]', description: 'Verify your changes on the going train (or on train #<train>).', who: 'authors, for their own changes' },
  { name: 'reopen', usage: 'reopen [train] [reason]', description: 'Found a problem: un-verify your ticket, which blocks the deploy again.', who: 'authors, for their own ticket' },
  { name: 'engineer', usage: 'engineer me', description: 'Claim the engineer role of the going train.', who: 'anyone' },
  { name: 'engineer', usage: 'engineer <@user|email>', description: 'Give the engineer role to someone else.', who: 'admins' },
  {
    name: 'mode',
    usage: 'mode manual|schedule [reason]',
    description: 'Switch between starting trains by hand only and starting them inside auto-time; the reason shows in status, on the card and in history.',
    who: 'admins',
  },
  { name: 'autotime', usage: 'autotime [show]', description: 'Show the auto-time windows, the time zone and the freeze dates.', who: 'anyone' },
  {
    name: 'autotime',
    usage: 'autotime set <days> <HH:MM-HH:MM>[; <days> <HH:MM-HH:MM>…] [timezone]',
    description: 'Replace the auto-time windows, e.g. `mon-fri 09:00-17:00; sun 22:00-24:00 Europe/Paris` (days: mon-fri, mon,wed,fri, fri-mon, daily, weekdays, weekends).',
    who: 'admins',
  },
  { name: 'autotime', usage: 'autotime clear', description: 'Remove every auto-time window (no train starts by itself).', who: 'admins' },
  { name: 'freeze', usage: 'freeze [list]', description: 'List the freeze dates.', who: 'anyone' },
  { name: 'freeze', usage: 'freeze add <YYYY-MM-DD>', description: 'Add a freeze date: no train starts by itself that day.', who: 'admins' },
  { name: 'freeze', usage: 'freeze remove <YYYY-MM-DD>', description: 'Remove a freeze date.', who: 'admins' },
  { name: 'history', usage: 'history [n]', description: 'Show the last n audit entries (default 20, at most 200).', who: 'anyone' },
  { name: 'train', usage: 'train <n>', description: 'Show train #n.', who: 'anyone' },
  { name: 'rollback', usage: 'rollback <train>', description: 'Redeploy the head of an earlier deployed train and block the going train.', who: 'engineer or admin' },
  { name: 'job', usage: 'job succeeded|failed [train]', description: 'After checking production, record how a deploy or rollback whose outcome is unknown ended.', who: 'engineer or admin' },
];

/** One help line: "`/conductor start [sha]` — Start a train … (admins)". */
export function formatUsageEntry(entry: UsageEntry): string {
  return `\`/conductor ${entry.usage}\` — ${entry.description} (${entry.who})`;
}

/** The full help: a header, one line per subcommand form, and a note on `--line`. */
export function usageText(): string {
  return ['*Conductor commands* (`/conductor <command>`):', ...USAGE.map(formatUsageEntry), 'In a channel with several lines, add `--line <name>` to any command.'].join('\n');
}

/**
 * The usage line(s) of one subcommand (case-insensitive), or the full help
 * for a name that is not a subcommand.
 */
export function usageFor(name: string): string {
  const key = name.trim().toLowerCase();
  if (!isCommandName(key)) return usageText();
  return USAGE.filter((e) => e.name === key)
    .map(formatUsageEntry)
    .join('\n');
}
