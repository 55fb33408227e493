import type { LineState, Train } from '../domain/index.js';
import { bisectSummary, codeBlock, endSentence, goingTrain, inAutoTime, latestJob, maxBuilds, notDeployableReason, outputTail, pluralAgree, pluralWord, short } from '../domain/index.js';
import { isEmergency } from '../domain/push-warning.js';
import { describeAutoTime, describeWindows, isFrozen } from '../domain/schedule.js';

/** behaviour.md §5: the train as the command API shows it. Extra fields only extend the contract. */
export interface TrainJson {
  number: number;
  state: Train['state'];
  headSha: string;
  baseSha: string;
  engineer: string | null;
  blocked: string | null;
  deployable: boolean;
  notDeployableReason: string | null;
  derailReason: string | null;
  commits: { sha: string; authorEmail: string }[];
  tickets: { authorEmail: string; state: 'pending' | 'verified' }[];
  /**
   * `unknown` (behaviour.md §9): a deploy or rollback whose outcome nobody can tell; a person decides.
   * `outputTail`: the last lines of a failed job's output (redacted), else null.
   * `bisect` (behaviour.md §8): a build of the culprit search, at `sha`.
   */
  jobs: {
    kind: 'build' | 'deploy' | 'bisect';
    state: 'queued' | 'running' | 'succeeded' | 'failed' | 'unknown';
    url: string | null;
    attempt: number;
    rollback: boolean;
    outputTail: string | null;
    sha: string;
  }[];
  createdAt: string;
  deployedAt: string | null;
  /** behaviour.md §8: the health watch after the deploy (null: never watched); `failures` are consecutive. */
  health: { state: 'watching' | 'healthy' | 'failed'; failures: number } | null;
  /** behaviour.md §8: the culprit search after a failed build (null: none ran); `range` when flaky. */
  bisect: {
    state: 'running' | 'found' | 'flaky' | 'cancelled';
    culprit: { sha: string; authorEmail: string } | null;
    builds: number;
    maxBuilds: number;
    range: { fromSha: string; toSha: string } | null;
    reason: string | null;
  } | null;
}

export interface LineStatusJson {
  line: string;
  mode: 'schedule' | 'manual';
  inAutoTime: boolean;
  platform: { sha: string; authorEmail: string; message: string }[];
  train: TrainJson | null;
  lastDeployed: { number: number; headSha: string } | null;
  /** behaviour.md §9: what production runs (after a rollback, the train rolled back to). */
  production: { number: number; headSha: string; since: string; by: string; rolledBackFrom: number | null } | null;
  manualReason: string | null;
  /** behaviour.md §8: who put the line in manual mode (null in schedule mode, or when the config file did). */
  manualSetBy: string | null;
  /** behaviour.md §8: set after a tripped health check: every new train is blocked with it until `unblock`. */
  healthBlock: string | null;
  /** The manual mode came from an emergency reset. */
  emergency: boolean;
  /** Today (in the line's time zone) is a freeze date. */
  frozenToday: boolean;
  whyIdle: string | null;
}

export function trainJson(s: LineState, t: Train): TrainJson {
  const reason = notDeployableReason(s, t);
  return {
    number: t.number,
    state: t.state,
    headSha: t.headSha,
    baseSha: t.baseSha,
    engineer: t.engineer,
    blocked: t.blocked,
    deployable: reason === null,
    notDeployableReason: reason,
    derailReason: t.derailReason,
    commits: t.commits.map((c) => ({ sha: c.sha, authorEmail: c.authorEmail })),
    tickets: t.tickets.map((k) => ({ authorEmail: k.authorEmail, state: k.state })),
    // A rollback runs the deploy job for an earlier head: it is a deploy.
    jobs: t.jobs.map((j) => ({
      kind: j.kind === 'build' || j.kind === 'bisect' ? j.kind : 'deploy',
      state: j.state,
      url: j.url,
      attempt: j.attempt,
      rollback: j.kind === 'rollback',
      outputTail: j.state === 'failed' ? outputTail(j.output) : null,
      sha: j.sha,
    })),
    createdAt: t.createdAt.toISOString(),
    deployedAt: t.deployedAt?.toISOString() ?? null,
    health: t.health ? { state: t.health.state, failures: t.health.failures } : null,
    bisect: t.bisect
      ? { state: t.bisect.state, culprit: t.bisect.culprit, builds: t.bisect.builds, maxBuilds: maxBuilds(t.bisect.commits), range: t.bisect.range, reason: t.bisect.reason }
      : null,
  };
}

/** `train` is the newest train of the line (the loader adds it to `trains`). */
export function lineStatusJson(s: LineState, now: Date): LineStatusJson {
  const newest = [...s.trains].sort((a, b) => b.number - a.number)[0];
  return {
    line: s.settings.name,
    mode: s.settings.mode,
    inAutoTime: inAutoTime(s, now),
    platform: s.platform.map((c) => ({ sha: c.sha, authorEmail: c.authorEmail, message: c.message })),
    train: newest ? trainJson(s, newest) : null,
    lastDeployed: s.lastDeployed,
    production: s.production && { ...s.production, since: s.production.since.toISOString() },
    manualReason: s.settings.manualReason,
    manualSetBy: s.settings.mode === 'manual' ? s.settings.manualSetBy : null,
    healthBlock: s.healthBlock,
    emergency: isEmergency(s),
    frozenToday: isFrozen(now, s.settings.freezes, s.settings.timezone),
    whyIdle: whyIdle(s, now),
  };
}

/** "Why is nothing moving?": null when a train is going and moving along. */
export function whyIdle(s: LineState, now: Date): string | null {
  const going = goingTrain(s);
  if (going) return null;
  const { mode, manualReason, autoTime, freezes, timezone } = s.settings;
  if (s.platform.length === 0) return 'Nothing is waiting on the platform.';
  if (mode === 'manual') return `The line is in manual mode${manualReason ? ` (${manualReason})` : ''}: trains start only when an admin runs \`/conductor start\`.`;
  return `${capital(describeAutoTime(now, autoTime, freezes, timezone))}; ${pluralAgree(s.platform.length, 'commit', 'waits', 'wait')}. An admin may start a train by hand with \`/conductor start\`.`;
}

const capital = (t: string): string => t.charAt(0).toUpperCase() + t.slice(1);
const firstLine = (m: string): string => (m.split('\n')[0] ?? '').slice(0, 80);

export function statusText(s: LineState, now: Date): string {
  const lines: string[] = [];
  const { settings } = s;
  const mode = settings.mode === 'manual' ? `:warning: manual mode${settings.manualReason ? ` (${settings.manualReason})` : ''}` : 'schedule mode';
  const auto = settings.autoTime.length ? `auto-time ${describeWindows(settings.autoTime, settings.timezone)}` : 'auto-time off (no windows)';
  lines.push(`*${settings.name}* (${settings.branch}): ${mode}; ${auto}.`);
  if (s.healthBlock) lines.push(`:no_entry: New trains are blocked: ${s.healthBlock}. \`unblock\` clears it.`);
  const live = s.trains.filter((t) => t.state === 'delivering' || t.state === 'verifying' || t.state === 'deploying');
  for (const t of live) lines.push(trainSummary(s, t));
  if (live.length === 0) lines.push('No train is running.');
  const why = whyIdle(s, now);
  // "Why nothing moves" already says when the platform is empty: say it once.
  if (s.platform.length > 0 || !why) lines.push(`Platform: ${s.platform.length === 0 ? 'empty' : `${pluralAgree(s.platform.length, 'commit', 'is', 'are')} waiting`}.`);
  if (why) lines.push(why);
  lines.push(productionText(s));
  return lines.join('\n');
}

/** behaviour.md §9: what production runs, since when and by whom; after a rollback, the train rolled back to. */
export function productionText(s: LineState): string {
  const p = s.production;
  if (!p) return `Production: ${short(s.deployedSha)}, the branch head when Conductor started watching (no train deployed yet).`;
  const from = p.rolledBackFrom !== null ? `, rolled back from train #${p.rolledBackFrom}` : '';
  return `Production runs train #${p.number} (${short(p.headSha)})${from}, since ${p.since.toISOString().slice(0, 16).replace('T', ' ')} UTC, by ${p.by}.`;
}

export function trainSummary(s: LineState, t: Train): string {
  const reason = notDeployableReason(s, t);
  const tickets = t.tickets.length ? `; verified ${t.tickets.filter((k) => k.state === 'verified').length}/${t.tickets.length}` : '';
  const unknown = t.jobs.some((j) => j.state === 'unknown' && latestJob(t, j.kind) === j);
  const status = t.state === 'verifying' || t.state === 'delivering' ? (reason ? ` ${reason}` : ' Ready to deploy.') : unknown ? ' Outcome unknown: check production.' : '';
  return `Train #${t.number}: ${t.state}, ${pluralWord(t.commits.length, 'commit')}, head ${short(t.headSha)}, engineer ${t.engineer ?? 'none'}${t.blocked ? `, blocked: ${t.blocked.replace(/[.!]+$/, '')}` : ''}${tickets}.${status}`;
}

export function trainText(s: LineState, t: Train, maxCommits = 30): string {
  const lines = [trainSummary(s, t)];
  if (t.derailReason) lines.push(`Derailed: ${endSentence(t.derailReason)}`);
  for (const j of t.jobs) {
    const at = j.kind === 'bisect' ? ` at ${short(j.sha)}` : '';
    lines.push(`• ${j.kind} #${j.attempt}${at}: ${j.state === 'unknown' ? 'outcome unknown: check production' : j.state}${j.url ? ` ${j.url}` : ''}`);
  }
  if (t.bisect) lines.push(`• culprit search: ${bisectSummary(t)}`);
  if (t.health) lines.push(`• health: ${t.health.state}${t.health.failures ? ` (${pluralWord(t.health.failures, 'failure')} in a row)` : ''}`);
  // The newest job's reason, when it failed: the word "failed" alone says nothing.
  const newest = t.jobs.filter((j) => j.kind !== 'bisect').at(-1);
  const tail = newest?.state === 'failed' ? outputTail(newest.output) : null;
  if (newest && tail) lines.push(`The last lines of the ${newest.kind}'s output:${codeBlock(tail)}`);
  for (const k of t.tickets) lines.push(`• ${k.authorEmail}: ${k.state}`);
  for (const c of t.commits.slice(0, maxCommits)) lines.push(`  ${short(c.sha)} ${c.authorEmail} ${firstLine(c.message)}`);
  if (t.commits.length > maxCommits) lines.push(`  … and ${t.commits.length - maxCommits} more commits (GET /api/lines/${s.settings.name}/trains/${t.number} lists them all).`);
  return lines.join('\n');
}

export function queueText(s: LineState, max = 30): string {
  if (s.platform.length === 0) return 'The platform is empty.';
  const lines = [`${pluralWord(s.platform.length, 'commit')} on the platform, oldest first:`];
  for (const c of s.platform.slice(0, max)) lines.push(`${short(c.sha)} ${c.authorEmail} ${firstLine(c.message)}`);
  if (s.platform.length > max) lines.push(`… and ${s.platform.length - max} more.`);
  return lines.join('\n');
}
