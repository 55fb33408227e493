/**
 * `history`: each audit entry as one line in words (behaviour.md §10): the time in the
 * line's timezone, who, what, the values that changed, the train. Pure: the
 * command reads the rows, this writes the sentences.
 *
 * Every action code the code base records has a sentence here
 * (test/engine/history.test.ts fails when a new one has none); an unknown code
 * (from a newer version, say) still reads as a line, with its values.
 */
import { SYSTEM_ACTOR } from '../domain/index.js';
import { localDate } from '../domain/schedule.js';

export interface HistoryEntry {
  createdAt: Date;
  actor: string;
  action: string;
  /** The train's number, when the entry is about one. */
  train: number | null;
  details: Record<string, unknown>;
}

type Details = Record<string, unknown>;
type Sentence = (who: string, d: Details, train: string) => string;

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null);
const sha = (v: unknown): string => (str(v) ?? '?').slice(0, 8);
const commits = (n: unknown): string => (Number(n) === 1 ? '1 commit' : `${str(n) ?? 'some'} commits`);
const attempt = (d: Details): string => (typeof d.attempt === 'number' && d.attempt > 1 ? ` (attempt ${d.attempt})` : '');
const jobName = (d: Details): string => (d.kind === 'deploy' ? 'production deploy' : d.kind === 'bisect' ? 'culprit search build' : (str(d.kind) ?? 'job'));
const because = (v: unknown): string => (str(v) ? `: ${str(v)}` : '');
const person = (v: unknown): string => str(v) ?? 'someone';

/** One sentence per action code; `train` reads "train #3" (or "a train" when the entry has none). */
export const HISTORY_SENTENCES: Record<string, Sentence> = {
  'commits.arrived': (_w, d) => `${commits(d.count)} arrived on the branch (head ${sha(d.headSha)})${d.rewritten ? ' after a force push' : ''}.`,
  'commits.removed': (_w, d) => {
    const shas = Array.isArray(d.shas) ? d.shas.map(sha) : [];
    return `A force push took ${commits(shas.length)} off the branch before a train took ${shas.length === 1 ? 'it' : 'them'}${shas.length ? ` (${shas.slice(0, 5).join(', ')}${shas.length > 5 ? ', …' : ''})` : ''}.`;
  },
  'branch.rewritten': (_w, d) => `The branch was rewritten by a force push; its head is now ${sha(d.headSha)}.`,
  'train.rewritten': (_w, d, t) => `A force push removed ${t}'s commits from the branch (head now ${sha(d.headSha)}).`,
  'train.created': (w, d, t) =>
    `${w === 'Conductor' ? 'Conductor started' : `${w} started`} ${t} with ${commits(d.commits)} (head ${sha(d.headSha)}); engineer ${str(d.engineer) ?? 'none'}.`,
  'train.extended': (w, d, t) => `${w} extended train #${str(d.replaces) ?? '?'} into ${t}: ${commits(d.commits)} (head ${sha(d.headSha)}); engineer ${str(d.engineer) ?? 'none'}.`,
  'train.derailed': (w, d, t) => `${w} derailed ${t}${because(d.reason)}${d.afterFailedDeploy ? ' (after its production deploy failed)' : ''}.`,
  'train.blocked': (w, d, t) => `${w} blocked ${t}${because(d.reason)}.`,
  'train.unblocked': (w, d, t) => `${w} unblocked ${t}${str(d.was) ? ` (it was blocked: ${str(d.was)})` : ''}.`,
  'train.engineer': (w, d, t) => {
    const who = person(d.engineer);
    const was = str(d.previous) ? ` (was ${str(d.previous)})` : '';
    return who === w ? `${w} took the engineer role of ${t}${was}.` : `${w} made ${who} the engineer of ${t}${was}.`;
  },
  'train.deploy-started': (w, d, t) => `${w} started the production deploy of ${t} (${sha(d.headSha)}).`,
  'train.deployed': (_w, d, t) => `${capital(t)} was deployed to production (${sha(d.headSha)}).`,
  'job.started': (_w, d, t) => `The ${jobName(d)} of ${t} started${attempt(d)}.`,
  'job.succeeded': (_w, d, t) => `The ${jobName(d)} of ${t} succeeded${attempt(d)}.`,
  'job.failed': (_w, d, t) => `The ${jobName(d)} of ${t} ${d.timedOut ? 'timed out' : 'failed'}${attempt(d)}.`,
  'job.timed-out': (_w, d, t) => `The ${jobName(d)} of ${t} timed out${attempt(d)}.`,
  'job.retried': (w, d, t) => `${w} retried the ${jobName(d)} of ${t}${attempt(d)}.`,
  'job.unknown': (_w, d, t) => `The outcome of the ${jobName(d)} of ${t} became unknown${attempt(d)}${str(d.why) ? ` (${str(d.why)})` : ''}; someone must check production.`,
  'job.marked': (w, d, t) => `${w} checked production and recorded that the ${jobName(d)} of ${t} ${str(d.outcome) ?? 'ended'}${attempt(d)}.`,
  'ticket.verified': (w, d, t) => (person(d.author) === w ? `${w} verified their changes on ${t}.` : `${w} verified ${person(d.author)}'s changes on ${t}.`),
  'ticket.reopened': (w, d, t) => `${w} reopened their verification on ${t}${because(d.reason)}.`,
  'ticket.reminded': (_w, d, t) => `Conductor reminded ${person(d.author)} to verify their changes on ${t}.`,
  'ticket.sync_failed': (_w, d, t) =>
    `Jira could not follow on ${t}: ${str(d.externalKey) ?? 'a ticket'} could not be ${d.done ? 'moved to done' : 'reopened'}${str(d.reason) ? ` (${str(d.reason)})` : ''}.`,
  'line.rolled-back': (_w, d, t) => `Production now runs ${t} (${sha(d.headSha)})${typeof d.from === 'number' ? `; it ran train #${d.from} before` : ''}.`,
  'line.rollback': (w, d, t) =>
    `${w} rolled production ${typeof d.from === 'number' && d.from < Number(t.replace(/\D/g, '')) ? 'forward' : 'back'} to ${t} (${sha(d.headSha)})${typeof d.blocked === 'number' ? `; train #${d.blocked} was blocked` : ''}.`,
  'line.emergency': (w, d) => {
    const removed = Array.isArray(d.removed) ? d.removed.length : 0;
    return `${w} ran an emergency reset${because(d.reason)}; the branch went back to ${sha(d.targetSha)}, ${commits(removed)} removed (kept at ${str(d.backupRef) ?? 'a backup ref'}); the line went to manual mode.`;
  },
  'line.mode': (w, d) => {
    const from = str(d.from);
    const to = str(d.to) ?? '?';
    return `${w} switched the line ${from && from !== to ? `from ${from} ` : ''}to ${to} mode${because(d.reason)}.`;
  },
  'line.autotime': (w, d) => `${w} changed auto-time${str(d.before) ? ` from ${str(d.before)}` : ''} to ${str(d.after) ?? '?'}.`,
  'line.freeze-add': (w, d) => `${w} added the freeze date ${str(d.date) ?? '?'}.`,
  'line.freeze-remove': (w, d) => `${w} removed the freeze date ${str(d.date) ?? '?'}.`,
  'line.unblocked': (w, d) => `${w} unblocked the line${str(d.was) ? ` (new trains were blocked: ${str(d.was)})` : ''}.`,
  // The sentence has no time zone to hand (`/api/history` text too): the end of the soak is said in UTC, readably.
  'health.watching': (_w, d, t) => `The health check started watching ${t}${untilUtc(d.until)}.`,
  'health.healthy': (_w, _d, t) => `${capital(t)} passed its health checks: no trip during the soak.`,
  'health.superseded': (_w, d, t) =>
    d.rolledBack
      ? `The health watch of ${t} ended early: production was rolled back to train #${str(d.by) ?? '?'}.`
      : `The health watch of ${t} ended early: train #${str(d.by) ?? '?'} was deployed after it.`,
  'health.unknown': (_w, d, t) => `The health check of ${t} could not run${because(d.message)}.`,
  'health.tripped': (_w, d, t) =>
    `The health check tripped on ${t} after ${str(d.failures) ?? 'several'} failures in a row; the line is blocked${str(d.reason) ? ` (${str(d.reason)})` : ''}.`,
  'bisect.started': (_w, d, t) => `The build of ${t} failed: Conductor started looking for the first failing commit among ${commits(d.commits)} (at most ${str(d.maxBuilds) ?? '?'} builds).`,
  'bisect.built': (_w, d, t) => `A culprit search build of ${t} at ${sha(d.sha)} ${d.passed ? 'succeeded' : 'failed'}.`,
  'bisect.found': (_w, d, t) => `The culprit search of ${t} found that the build first fails at ${sha(d.sha)} (${person(d.authorEmail)}), after ${str(d.builds) ?? '?'} builds.`,
  'bisect.flaky': (_w, d, t) => `The culprit search of ${t} could not split ${sha(d.fromSha)}…${sha(d.toSha)}: the build results disagree (a flaky build?).`,
  'bisect.cancelled': (_w, d, t) => `The culprit search of ${t} was cancelled${because(d.why)}.`,
  'commit.revert-requested': (w, d) => `${w} asked to revert ${sha(d.sha)}${typeof d.extend === 'number' ? ` and to extend train #${d.extend} with the revert` : ''}.`,
  'commit.revert-landed': (_w, d, t) =>
    typeof d.extended === 'number'
      ? `The revert of ${sha(d.sha)} (${sha(d.revertSha)}) landed; ${t} was extended into train #${d.extended} with it.`
      : `The revert of ${sha(d.sha)} (${sha(d.revertSha)}) landed, but ${t} was no longer going: nothing was extended.`,
  'commit.revert-failed': (_w, d) => `The revert of ${sha(d.sha)} that ${person(d.requestedBy)} asked for was not made.${str(d.reason) ? ` ${str(d.reason)}` : ''}`,
};

function untilUtc(until: unknown): string {
  const at = typeof until === 'string' ? new Date(until) : null;
  return at && !Number.isNaN(at.getTime()) ? ` until ${localTime(at, 'UTC')} UTC` : '';
}

const capital = (t: string): string => t.charAt(0).toUpperCase() + t.slice(1);

/** `2026-11-23 10:00` in `timezone`. */
export function localTime(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
  return `${localDate(at, timezone)} ${parts}`;
}

/** One history line: "2026-11-23 10:00 UTC  alice@acme.test derailed train #3: flaky tests." */
export function historyLine(e: HistoryEntry, timezone: string): string {
  return `${localTime(e.createdAt, timezone)} ${timezone}  ${historySentence(e)}`;
}

/** The entry in words, without its time: "alice@acme.test derailed train #3: flaky tests." (also `/api/history`'s `text`). */
export function historySentence(e: HistoryEntry): string {
  const who = e.actor === SYSTEM_ACTOR ? 'Conductor' : e.actor;
  const train = e.train === null ? 'a train' : `train #${e.train}`;
  const sentence = HISTORY_SENTENCES[e.action]?.(who, e.details ?? {}, train) ?? unknownSentence(who, e);
  // One entry, one line: reasons may carry newlines.
  return sentence.replace(/\s*\n\s*/g, ' ');
}

function unknownSentence(who: string, e: HistoryEntry): string {
  const values = Object.entries(e.details ?? {})
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
  return `${who}: ${e.action}${e.train === null ? '' : ` on train #${e.train}`}${values ? ` (${values})` : ''}.`;
}
