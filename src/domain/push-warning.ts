/**
 * Push warnings (behaviour.md §8): which line a `git push` goes to, and what
 * the served pre-push hook tells the person pushing. Pure: the HTTP route
 * feeds it the configured lines and the line's state.
 */
import type { LineState } from './model.js';
import { describeAutoTime, isFrozen, isInAutoTime } from './schedule.js';

/** What the lookup needs of a configured line. */
export interface PushTarget {
  name: string;
  /** The `repo` key as configured (a git URL, or an absolute path). */
  repo: string;
  /** `owner/name` when the line names a GitHub repository. */
  github: string | null;
  branch: string;
}

/**
 * One spelling for the many ways to write the same remote, so that a clone's
 * `origin` matches the line's `repo`: `git@host:o/r.git`, `ssh://git@host/o/r`,
 * `https://user@host/o/r.git/` all become `host/o/r`; a local path or
 * `file://` URL becomes the absolute path without `.git` or trailing slashes.
 * The host is lower-cased (host names are case-insensitive); the path is not.
 */
export function normaliseRemote(url: string): string {
  let u = url.trim();
  let hostPath: string | null = null;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(u);
  if (scheme) {
    const kind = scheme[1]!.toLowerCase();
    if (kind === 'file') u = scheme[2]!.replace(/^localhost(?=\/)/i, '');
    else {
      // ssh://, git://, http(s)://: drop the user and the port, keep host and path.
      const m = /^(?:[^@/]*@)?([^/:]+)(?::\d*)?(\/.*)?$/.exec(scheme[2]!);
      if (m) hostPath = `${m[1]!.toLowerCase()}${m[2] ?? ''}`;
    }
  } else {
    // scp-like `[user@]host:path` (git's rule: a colon before any slash).
    const m = /^(?:[^@/]+@)?([^/:]+):(?!\/\/)(.*)$/.exec(u);
    if (m && !/^[a-z]$/i.test(m[1]!)) hostPath = `${m[1]!.toLowerCase()}/${m[2]!.replace(/^\/+/, '')}`;
  }
  const out = hostPath ?? u;
  return out
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
}

/** The branch a pushed ref names (`refs/heads/main` → `main`); a plain name is taken as it is. */
export function branchOfRef(ref: string): string {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
}

/**
 * The line a push goes to: the line whose repository is the remote (its
 * `repo`, or `github.com/<github>`) and whose branch is the pushed branch.
 * Null when no line watches that branch of that repository.
 */
export function lineForPush(lines: readonly PushTarget[], remote: string, ref: string): string | null {
  const want = normaliseRemote(remote);
  const wantLower = want.toLowerCase();
  const branch = branchOfRef(ref);
  for (const l of lines) {
    if (l.branch !== branch) continue;
    if (normaliseRemote(l.repo) === want) return l.name;
    // GitHub owner and repository names are case-insensitive.
    if (l.github && wantLower === `github.com/${l.github.toLowerCase()}`) return l.name;
  }
  return null;
}

/** The line's manual mode came from an emergency reset (rule 8 writes its reason so). */
export function isEmergency(s: LineState): boolean {
  return s.settings.mode === 'manual' && (s.settings.manualReason ?? '').startsWith('emergency reset by ');
}

/**
 * What the hook prints before a push to the line's branch, one sentence a
 * line; empty when the push will move along as usual. Never a refusal: the
 * push goes ahead whatever this says.
 */
export function pushWarning(s: LineState, now: Date): string[] {
  const { name, branch, mode, manualReason, manualSetBy, autoTime, freezes, timezone } = s.settings;
  const out: string[] = [];
  const where = `${name} (${branch})`;
  if (isEmergency(s)) {
    out.push(`Line ${where} is in emergency mode: ${manualReason}.`);
    out.push('Push only the fix: nothing starts until an admin runs `/conductor start`.');
    return out;
  }
  if (mode === 'manual') {
    const reason = manualReason ? ` (${manualReason})` : '';
    // Unknown when the config file set it, or it was set before Conductor recorded who: say nothing rather than guess.
    const by = manualSetBy ? `, set by ${manualSetBy}` : '';
    out.push(`Line ${where} is in manual mode${reason}${by}.`);
    out.push('Your commits wait on the platform until an admin runs `/conductor start`.');
    return out;
  }
  if (isFrozen(now, freezes, timezone)) {
    out.push(`Line ${where}: ${describeAutoTime(now, autoTime, freezes, timezone)}.`);
    out.push('Your commits wait on the platform; no train starts by itself today.');
    return out;
  }
  if (autoTime.length === 0) {
    out.push(`Line ${where} has no auto-time windows: trains start only when an admin runs \`/conductor start\`.`);
  } else if (!isInAutoTime(now, autoTime, freezes, timezone)) {
    out.push(`Line ${where} is ${describeAutoTime(now, autoTime, freezes, timezone)}.`);
    out.push('Your commits wait on the platform until then (or until an admin runs `/conductor start`).');
  }
  return out;
}
