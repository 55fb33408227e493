import type { LineState, Train } from './model.js';
import { endSentence } from './words.js';

export const isGoing = (t: Train): boolean => t.state === 'delivering' || t.state === 'verifying';
export const isLive = (t: Train): boolean => isGoing(t) || t.state === 'deploying';

export const goingTrain = (s: LineState): Train | undefined => s.trains.find(isGoing);
export const findTrain = (s: LineState, n: number): Train | undefined => s.trains.find((t) => t.number === n);

export const latestJob = (t: Train, kind: Train['jobs'][number]['kind']) => t.jobs.filter((j) => j.kind === kind).sort((a, b) => b.attempt - a.attempt)[0];

/** Trains whose production deploy failed: they wait for a retry, a rollback or a derail. */
export function failedDeploys(s: LineState): Train[] {
  return s.trains.filter((t) => t.state === 'deploying' && latestJob(t, 'deploy')?.state === 'failed').sort((a, b) => a.number - b.number);
}

/** A train still deploying blocks the deploy of every later train (rule 2). */
export function earlierDeploying(s: LineState, t: Train): Train | undefined {
  return s.trains.find((o) => o.number < t.number && o.state === 'deploying');
}

/**
 * Rule 10: why the train cannot deploy now, as a sentence for people, or null
 * when it can. `deployable` is exactly `notDeployableReason === null`.
 */
export function notDeployableReason(s: LineState, t: Train): string | null {
  switch (t.state) {
    case 'deployed':
      return `Train #${t.number} is already deployed.`;
    case 'derailed':
      return `Train #${t.number} was derailed${t.derailReason ? ` (${t.derailReason})` : ''}.`;
    case 'deploying':
      return latestJob(t, 'deploy')?.state === 'unknown'
        ? `Outcome unknown: check production. Train #${t.number}'s deploy did not report how it ended.`
        : `Train #${t.number} is already deploying.`;
    case 'delivering': {
      const build = latestJob(t, 'build');
      if (!build || build.state === 'queued') return build?.output?.startsWith('waiting') ? `The build has not started: ${endSentence(build.output)}` : 'The build has not started yet.';
      if (build.state === 'failed') return 'The build failed: retry it, or revert the bad commit and extend, or derail the train.';
      return 'The build and staging deploy are still running.';
    }
    case 'verifying':
      break;
  }
  if (t.blocked) return `The train is blocked: ${endSentence(t.blocked)}`;
  const pending = t.tickets.filter((k) => k.state === 'pending');
  if (pending.length > 0) {
    const names = pending.map((k) => k.authorEmail);
    const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
    return `Waiting for ${pending.length === 1 ? 'a verification' : `${pending.length} verifications`} from ${shown}.`;
  }
  const earlier = earlierDeploying(s, t);
  if (earlier && latestJob(earlier, 'deploy')?.state === 'unknown')
    return `The outcome of train #${earlier.number}'s deploy is unknown: check production, then its engineer says \`retry\` or \`job succeeded|failed ${earlier.number}\`.`;
  if (earlier) return `Train #${earlier.number} is still deploying; this train can deploy when it has finished.`;
  return null;
}

export const isDeployable = (s: LineState, t: Train): boolean => notDeployableReason(s, t) === null;
