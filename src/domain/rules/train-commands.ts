import { failedDeploys, findTrain, goingTrain, latestJob, notDeployableReason } from '../deployability.js';
import { type Decision, Draft, refuse } from '../draft.js';
import { addJob, createTrain, derailTrain, inAutoTime, platformBase, short, summariseNames } from '../lifecycle.js';
import type { CommitRef, Context, LineState, Train } from '../model.js';
import { canDrive, isAdmin, isRobot, norm, refusals } from '../policy.js';
import { endSentence, plural, pluralAgree } from '../words.js';

/** The train commands act on: the going train, else the newest live one. */
export function currentTrain(s: LineState): Train | undefined {
  return goingTrain(s) ?? [...s.trains].filter((t) => t.state === 'deploying').sort((a, b) => b.number - a.number)[0];
}

/** Rule 4: a person starts a train by hand (admins; manual mode, or schedule mode outside auto-time). */
export function start(s: LineState, ctx: Context, sha?: string): Decision {
  if (!isAdmin(ctx.policy, ctx.actor)) return refuse(refusals.adminOnly('start a train by hand', ctx.policy));
  const going = goingTrain(s);
  if (going) return refuse(`Train #${going.number} is still going: derail it or wait until it deploys.`);
  if (s.platform.length === 0) return refuse('The platform is empty: there is nothing to put on a train.');
  if (s.settings.mode === 'schedule' && inAutoTime(s, ctx.now))
    return refuse('The line is inside auto-time: trains start by themselves there. Use `start` in manual mode or outside auto-time.');
  let take: CommitRef[];
  if (sha) {
    const matches = s.platform.filter((c) => c.sha.startsWith(sha.toLowerCase()));
    if (matches.length === 0) return refuse(`Commit ${sha} is not on the platform. See \`/conductor queue\`.`);
    if (matches.length > 1) return refuse(`${sha} matches ${matches.length} commits on the platform: give more characters.`);
    const idx = s.platform.indexOf(matches[0]!);
    take = s.platform.slice(0, idx + 1);
  } else {
    take = s.settings.maxCommits ? s.platform.slice(0, s.settings.maxCommits) : s.platform.slice();
  }
  const d = new Draft(s, ctx);
  const train = createTrain(d, take, { createdBy: ctx.actor });
  const left = d.state.platform.length;
  return d.finish(`Train #${train.number} started with ${plural(take.length, 'commit')}${left ? `; ${pluralAgree(left, 'commit', 'stays', 'stay')} on the platform` : ''}.`);
}

/**
 * Rule 7: derail the going train; its commits go back to the front of the
 * platform. A train whose production deploy failed would otherwise hold the
 * line for ever (no later train may deploy before it): derail takes it too,
 * with the going train after it, and their commits return in branch order.
 */
export function derail(s: LineState, ctx: Context, reason?: string): Decision {
  const going = goingTrain(s);
  const targets = [...failedDeploys(s), ...(going ? [going] : [])];
  // Permission before state: someone who may not derail is told who may, whatever the trains are doing.
  const candidates = targets.length ? targets : [currentTrain(s)];
  if (!candidates.some((t) => canDrive(ctx.policy, t, ctx.actor))) return refuse(refusals.engineerOrAdmin('derail the train', going ?? candidates[0]));
  if (targets.length === 0) {
    const deploying = currentTrain(s);
    if (deploying && latestJob(deploying, 'deploy')?.state === 'unknown')
      return refuse(
        `The outcome of train #${deploying.number}'s deploy is unknown: check production first, then \`/conductor job failed ${deploying.number}\` (after which it can be derailed) or \`/conductor job succeeded ${deploying.number}\`.`,
      );
    if (deploying) return refuse(`Train #${deploying.number} is deploying: it can be derailed only if its deploy fails.`);
    return refuse('No train is going: there is nothing to derail.');
  }
  const d = new Draft(s, ctx);
  const why = reason?.trim() || 'no reason given';
  const returned: CommitRef[] = [];
  for (const t of targets) {
    const train = findTrain(d.state, t.number)!;
    derailTrain(d, train, why, false);
    returned.push(...train.commits);
    d.announce(
      `Train #${train.number} was derailed by ${ctx.actor}: ${endSentence(why)} ${train.commits.length === 1 ? 'Its commit is' : `Its ${train.commits.length} commits are`} back on the platform.`,
      train.number,
    );
    d.record('train.derailed', train.number, { reason: why, afterFailedDeploy: t.state === 'deploying' });
  }
  d.state.platform = [...returned, ...d.state.platform];
  const names = targets.map((t) => `#${t.number}`).join(' and ');
  const done = d.finish('');
  if (!done.ok) return done;
  // Rule 3 may have started the next train at once (schedule mode, inside auto-time): say so, and how to hold them.
  const next = done.state.trains.find((t) => !s.trains.some((o) => o.number === t.number));
  const derailed = `Train${targets.length > 1 ? 's' : ''} ${names} derailed`;
  if (!next) {
    const waiting = done.state.platform.length;
    return { ...done, reply: `${derailed}: ${waiting === 1 ? '1 commit waits' : `${waiting} commits wait`} on the platform.` };
  }
  const listed =
    next.commits
      .slice(0, 10)
      .map((c) => `${short(c.sha)} (${c.authorEmail})`)
      .join(', ') + (next.commits.length > 10 ? `, and ${next.commits.length - 10} more` : '');
  return {
    ...done,
    reply:
      `${derailed}. The line is in schedule mode inside auto-time, so train #${next.number} starts now with ${next.commits.length === 1 ? 'this commit' : `these ${next.commits.length} commits`}: ${listed}. ` +
      'To hold commits on the platform instead, switch to manual mode first (`/conductor mode manual [reason]`), then derail.',
  };
}

/** Rule 6: replace the going train by one made of its commits plus the whole platform. */
export function extend(s: LineState, ctx: Context): Decision {
  const going = goingTrain(s);
  if (!canDrive(ctx.policy, going ?? currentTrain(s), ctx.actor)) return refuse(refusals.engineerOrAdmin('extend the train', going ?? currentTrain(s)));
  if (!going) return refuse('No train is going: there is nothing to extend.');
  if (s.platform.length === 0) return refuse('The platform is empty: push the revert first (it lands on the platform), then extend. To rebuild the same commits, use `retry`.');
  const d = new Draft(s, ctx);
  const next = extendGoing(d, going.number, ctx.actor);
  return d.finish(`Train #${going.number} extended into train #${next.number} (${plural(next.commits.length, 'commit')}).`);
}

/** Rule 6's change itself: the going train is derailed and replaced by its commits plus the whole platform. */
export function extendGoing(d: Draft, number: number, by: string, how = `by ${by}`): Train {
  const old = findTrain(d.state, number)!;
  const platform = d.state.platform;
  derailTrain(d, old, `extended into train #${d.state.nextTrainNumber}`, false);
  const next = createTrain(d, [...old.commits, ...platform], { createdBy: by, replaces: old });
  d.announce(
    `Train #${old.number} was extended ${how} into train #${next.number} with ${platform.length} more commit${platform.length === 1 ? '' : 's'}; verifications carry over.`,
    old.number,
  );
  return next;
}

/** Rule 8: emergency reset. Manual mode, derail, force the branch back to before the train. */
export function emergency(s: LineState, ctx: Context, backupRef: string, reason?: string): Decision {
  if (!isAdmin(ctx.policy, ctx.actor)) return refuse(refusals.adminOnly('run an emergency reset', ctx.policy));
  const d = new Draft(s, ctx);
  const why = reason?.trim() || 'emergency reset';
  const going = goingTrain(d.state);
  // A train whose production deploy failed is not in production: it goes too.
  const wiped = [...failedDeploys(d.state), ...(going ? [going] : [])];
  const target = wiped[0]?.baseSha ?? platformBase(d.state);
  const removed: CommitRef[] = [...wiped.flatMap((t) => t.commits), ...d.state.platform];
  for (const t of wiped) derailTrain(d, t, `emergency reset: ${why}`, false);
  d.state.platform = [];
  d.state.settings.mode = 'manual';
  d.state.settings.manualReason = `emergency reset by ${ctx.actor}: ${why}`;
  d.state.settings.manualSetBy = ctx.actor;
  d.state.knownHeadSha = target;
  d.emit({ kind: 'git.reset', targetSha: target, backupRef, removedShas: removed.map((c) => c.sha) });
  const list = removed.slice(0, 20).map((c) => `${short(c.sha)} ${c.authorEmail}: ${firstLine(c.message)}`);
  if (removed.length > 20) list.push(`… and ${removed.length - 20} more (see the backup ref)`);
  d.announce(
    [
      `:rotating_light: Emergency reset by ${ctx.actor}: ${endSentence(why)}`,
      wiped.length ? `Train${wiped.length > 1 ? 's' : ''} ${wiped.map((t) => `#${t.number}`).join(' and ')} ${wiped.length > 1 ? 'were' : 'was'} derailed.` : 'No train was going.',
      `The branch is being reset to ${short(target)}; the old head is kept at ${backupRef}.`,
      removed.length
        ? `${removed.length === 1 ? 'This commit is' : `These ${removed.length} commits are`} taken off the branch (the backup ref keeps them):\n${list.join('\n')}`
        : 'No commits were taken off the branch.',
      'The line is now in manual mode: push the emergency commits, then an admin starts a train with `/conductor start`.',
    ].join('\n'),
    going?.number ?? null,
    true,
  );
  const byAuthor = new Map<string, CommitRef[]>();
  for (const c of removed) byAuthor.set(norm(c.authorEmail), [...(byAuthor.get(norm(c.authorEmail)) ?? []), c]);
  for (const [author, commits] of byAuthor) {
    if (isRobot(ctx.policy, author)) continue; // robots get no DMs (as when a train is created)
    const these = commits.length === 1 ? 'it' : 'them';
    d.dm(
      author,
      `An emergency reset took your ${commits.length === 1 ? 'commit' : `${commits.length} commits`} off ${s.settings.branch}: ${commits.map((c) => short(c.sha)).join(', ')}. Nothing is lost: the old head is saved at ${backupRef}, which holds ${these}; push ${these} again when the line is healthy.`,
    );
  }
  d.record('line.emergency', going?.number ?? null, { reason: why, targetSha: target, backupRef, removed: removed.map((c) => c.sha) });
  return d.finish(
    `Emergency reset: the branch goes back to ${short(target)}; ${removed.length ? `${pluralAgree(removed.length, 'commit', 'is', 'are')} taken off it (saved at ${backupRef})` : 'no commit is taken off it'}; the line is now in manual mode.`,
  );
}

export function block(s: LineState, ctx: Context, reason: string): Decision {
  const going = goingTrain(s);
  if (!canDrive(ctx.policy, going ?? currentTrain(s), ctx.actor)) return refuse(refusals.engineerOrAdmin('block the train', going ?? currentTrain(s)));
  if (!going) return refuse('No train is going: there is nothing to block.');
  // An empty reason would leave a train that looks blocked but deploys (`blocked` is falsy).
  if (!reason.trim()) return refuse('A block needs a reason: `/conductor block <reason>`.');
  const d = new Draft(s, ctx);
  const t = findTrain(d.state, going.number)!;
  t.blocked = reason.trim();
  d.announce(`Train #${t.number} was blocked by ${ctx.actor}: ${endSentence(t.blocked)}`, t.number);
  d.record('train.blocked', t.number, { reason: t.blocked });
  return d.finish(`Train #${t.number} blocked: ${endSentence(t.blocked)}`);
}

export function unblock(s: LineState, ctx: Context): Decision {
  const going = goingTrain(s);
  if (!canDrive(ctx.policy, going ?? currentTrain(s), ctx.actor)) return refuse(refusals.engineerOrAdmin('unblock the train', going ?? currentTrain(s)));
  // behaviour.md §8: a tripped health check blocks the line itself (every new train), even with no train going.
  if (!going && s.healthBlock) {
    const d = new Draft(s, ctx);
    const was = d.state.healthBlock;
    d.state.healthBlock = null;
    d.announce(`The line was unblocked by ${ctx.actor}: new trains are no longer blocked by the failed health check.`);
    d.record('line.unblocked', null, { was });
    return d.finish('Line unblocked: new trains are no longer blocked by the failed health check.');
  }
  if (!going) return refuse('No train is going: there is nothing to unblock.');
  if (!going.blocked && !s.healthBlock) return refuse(`Train #${going.number} is not blocked.`);
  const d = new Draft(s, ctx);
  const t = findTrain(d.state, going.number)!;
  const was = t.blocked;
  t.blocked = null;
  const line = d.state.healthBlock;
  d.state.healthBlock = null;
  d.announce(`Train #${t.number} was unblocked by ${ctx.actor}.${line ? ' The failed health check no longer blocks new trains.' : ''}`, t.number);
  d.record('train.unblocked', t.number, { was, ...(line ? { healthBlock: line } : {}) });
  return d.finish(`Train #${t.number} unblocked.`);
}

/** Rule 10: the engineer (or an admin) starts the production deploy of a deployable train. */
export function deploy(s: LineState, ctx: Context): Decision {
  const t = goingTrain(s);
  if (!canDrive(ctx.policy, t ?? currentTrain(s), ctx.actor)) return refuse(refusals.engineerOrAdmin('deploy', t ?? currentTrain(s)));
  if (!t) {
    const deploying = currentTrain(s);
    if (deploying) return refuse(`Train #${deploying.number} is already deploying.`);
    return refuse('No train is going: there is nothing to deploy.');
  }
  const why = notDeployableReason(s, t);
  if (why) return refuse(`Train #${t.number} cannot deploy yet. ${why}`);
  const d = new Draft(s, ctx);
  const train = findTrain(d.state, t.number)!;
  train.state = 'deploying';
  train.deployStartedAt = ctx.now;
  addJob(d, train, 'deploy', train.headSha);
  d.announce(`Train #${train.number} is deploying to production (started by ${ctx.actor}).`, train.number);
  d.record('train.deploy-started', train.number, { headSha: train.headSha });
  return d.finish(`Deploy of train #${train.number} started.`);
}

/**
 * Rule 12: retry the failed build (going train) or the failed deploy (deploying
 * train). A deploy whose outcome is unknown (behaviour.md §9) is retried only this way:
 * a person who checked production decides it, never Conductor by itself.
 */
export function retry(s: LineState, ctx: Context): Decision {
  const candidates = [goingTrain(s), ...s.trains.filter((t) => t.state === 'deploying')].filter((t): t is Train => !!t);
  // Permission before state: someone who drives none of these trains is told who may retry, failed job or not.
  if (!isAdmin(ctx.policy, ctx.actor) && !candidates.some((t) => canDrive(ctx.policy, t, ctx.actor))) {
    const failedOne = candidates.find((t) => latestJob(t, t.state === 'deploying' ? 'deploy' : 'build')?.state === 'failed');
    const what = failedOne ? `retry the ${failedOne.state === 'deploying' ? 'deploy' : 'build'}` : 'retry a job';
    return refuse(refusals.engineerOrAdmin(what, failedOne ?? currentTrain(s)));
  }
  for (const t of candidates) {
    const kind = t.state === 'deploying' ? 'deploy' : 'build';
    const job = latestJob(t, kind);
    if (!job || (job.state !== 'failed' && job.state !== 'unknown')) continue;
    if (!canDrive(ctx.policy, t, ctx.actor)) return refuse(refusals.engineerOrAdmin(`retry the ${kind}`, t));
    const d = new Draft(s, ctx);
    const train = findTrain(d.state, t.number)!;
    addJob(d, train, kind, train.headSha);
    const unknown = job.state === 'unknown' ? ' after checking production (the previous outcome was unknown)' : '';
    d.announce(`${ctx.actor} retried the ${kind} of train #${train.number}${unknown} (attempt ${job.attempt + 1}).`, train.number);
    d.record('job.retried', train.number, { kind, attempt: job.attempt + 1, ...(unknown ? { previousOutcome: 'unknown' } : {}) });
    return d.finish(`Retrying the ${kind} of train #${train.number}.`);
  }
  return refuse('There is no failed job to retry.');
}

/**
 * Rule 13 and behaviour.md §9: run the deploy (or rollback) job for the head of an
 * earlier deployed train, and block the going train. Any deployed train other
 * than the one production runs may be the target: rolling forward again after
 * a rollback is allowed.
 */
export function rollback(s: LineState, ctx: Context, targetNumber: number): Decision {
  const current = currentTrain(s);
  if (!canDrive(ctx.policy, current, ctx.actor)) return refuse(refusals.engineerOrAdmin('roll back', current));
  const refused = rollbackRefusal(s, targetNumber);
  if (refused) return refuse(refused);
  const d = new Draft(s, ctx);
  const forward = startRollback(d, targetNumber, 'rollback');
  return d.finish(`Rolling ${forward ? 'forward' : 'back'} to train #${targetNumber}.`);
}

/** Why a rollback to `targetNumber` cannot start, or null when it can (the same for people and for behaviour.md §8's automatic one). */
export function rollbackRefusal(s: LineState, targetNumber: number): string | null {
  const target = findTrain(s, targetNumber);
  if (!target || target.state !== 'deployed') return `Train #${targetNumber} was never deployed: only a deployed train can be rolled back to.`;
  const production = s.production ?? s.lastDeployed;
  if (production && production.number === targetNumber) return `Train #${targetNumber} is what production runs now: roll back to another deployed train.`;
  const busy = s.trains.flatMap((t) => t.jobs.filter((j) => j.kind === 'rollback' && (j.state === 'queued' || j.state === 'running')).map(() => t.number));
  if (busy.length > 0) return `A rollback to train #${busy[0]} is already running.`;
  return null;
}

/**
 * Starts the rollback job and blocks the going train with `blockReason` ("rollback", or the
 * failed health check's reason, which an automatic rollback keeps). True when it rolls forward.
 */
export function startRollback(d: Draft, targetNumber: number, blockReason: string): boolean {
  const production = d.state.production ?? d.state.lastDeployed;
  const t = findTrain(d.state, targetNumber)!;
  addJob(d, t, 'rollback', t.headSha);
  const going = goingTrain(d.state);
  if (going) going.blocked = blockReason;
  const forward = production !== null && production.number < targetNumber;
  d.announce(
    `${d.ctx.actor} is rolling production ${forward ? 'forward' : 'back'} to train #${targetNumber} (${short(t.headSha)}).${production ? ` Until it succeeds, production runs train #${production.number}.` : ''}` +
      (going ? ` Train #${going.number} is blocked ("${blockReason}").` : '') +
      (forward ? '' : ' Next: revert the bad commit (`/conductor revert <sha>`), extend the train (`/conductor extend`), then unblock it.'),
    going?.number ?? null,
  );
  d.record('line.rollback', targetNumber, { headSha: t.headSha, blocked: going?.number ?? null, from: production?.number ?? null });
  return forward;
}

/** Rule 5: push a revert commit (the code host does it; the revert lands on the platform). */
export function revert(s: LineState, ctx: Context, target: CommitRef | null, sha: string, opts: { authorName?: string } = {}): Decision {
  if (!target) return refuse(`Commit ${sha} is not a commit Conductor knows on ${s.settings.branch}.`);
  const own = norm(target.authorEmail) === norm(ctx.actor);
  if (!own && !isAdmin(ctx.policy, ctx.actor))
    return refuse(
      `${short(target.sha)} is ${target.authorEmail}'s commit: you may revert your own commits; only admins may revert someone else's. Admins: ${ctx.policy.admins.join(', ') || 'none configured'}.`,
    );
  const d = new Draft(s, ctx);
  // The announcement first: a revert that fails later is told after it, never before.
  d.announce(`${ctx.actor} is reverting ${short(target.sha)} (${firstLine(target.message)}). The revert will land on the platform; then extend the train.`);
  d.emit({ kind: 'git.revert', sha: target.sha, requestedBy: ctx.actor, requestedByName: opts.authorName ?? revertAuthorName(ctx.actor) });
  d.record('commit.revert-requested', null, { sha: target.sha });
  return d.finish(`Reverting ${short(target.sha)}; the revert commit will appear on the platform shortly.`);
}

/**
 * behaviour.md §10: the name a revert commit is authored with: the requester's Slack
 * display name, else the name on their latest commit on the line, else the
 * local part of their email. Never an email as a name.
 */
export function revertAuthorName(email: string, known: { slackName?: string | null; lastCommitName?: string | null } = {}): string {
  const usable = (name: string | null | undefined): string | null => {
    const n = name?.replace(/[\s<>]+/g, ' ').trim();
    return n && !n.includes('@') ? n : null;
  };
  return usable(known.slackName) ?? usable(known.lastCommitName) ?? (email.split('@')[0]?.trim() || 'Conductor');
}

/**
 * A revert the code host could not make after `revert` answered (the branch
 * moved meanwhile): the channel is told the reason once, after the "is
 * reverting" announcement, and the requester by DM.
 */
export function revertFailed(s: LineState, ctx: Context, sha: string, requestedBy: string, reason: string): Decision {
  const d = new Draft(s, ctx);
  const why = reason.replace(/\s+/g, ' ').trim();
  d.announce(`The revert of ${short(sha)} that ${requestedBy} asked for was not made. ${why}`);
  d.dm(requestedBy, `Your revert of ${short(sha)} was not made. ${why}`);
  d.record('commit.revert-failed', null, { sha, requestedBy, reason: why });
  return d.finish(`The revert of ${short(sha)} was not made.`);
}

export const firstLine = (msg: string): string => (msg.split('\n')[0] ?? '').slice(0, 100);
export { summariseNames };
