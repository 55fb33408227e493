import { goingTrain } from '../deployability.js';
import { type Decision, Draft, refuse } from '../draft.js';
import { short } from '../lifecycle.js';
import type { CommitRef, Context, LineState } from '../model.js';
import { isAdmin, isEngineer } from '../policy.js';
import { extendGoing, firstLine, revertAuthorName } from './train-commands.js';

/**
 * behaviour.md §8, "Revert it and extend": one action that pushes a revert of a
 * commit of the going train and, once the revert lands on the platform,
 * extends the train with it (rule 5, then rule 6).
 *
 * Who may: an admin, for any commit of the going train; the train's engineer,
 * for the commit its culprit search found (the search proved it breaks the
 * build of the train they drive, and extend is theirs). Anyone else reverts
 * their own commit with `revert <sha>` and asks the engineer to extend.
 */
export function revertAndExtend(s: LineState, ctx: Context, target: CommitRef | null, sha: string, opts: { authorName?: string } = {}): Decision {
  const going = goingTrain(s);
  if (!going) return refuse('No train is going: there is nothing to extend. To revert a commit, use `/conductor revert <sha>`.');
  if (!target) return refuse(`Commit ${sha} is not a commit Conductor knows on ${s.settings.branch}.`);
  if (!going.commits.some((c) => c.sha === target.sha))
    return refuse(`${short(target.sha)} is not on train #${going.number}: revert it with \`/conductor revert ${short(target.sha)}\`, then extend.`);
  const culprit = going.bisect?.state === 'found' && going.bisect.culprit?.sha === target.sha;
  if (!isAdmin(ctx.policy, ctx.actor) && !(culprit && isEngineer(going, ctx.actor)))
    return refuse(
      `Only an admin, or the engineer of train #${going.number} for the commit its culprit search found, may revert and extend. ` +
        `You may revert your own commits with \`/conductor revert <sha>\`; the engineer then extends. Admins: ${ctx.policy.admins.join(', ') || 'none configured'}.`,
    );
  const d = new Draft(s, ctx);
  d.announce(
    `${ctx.actor} is reverting ${short(target.sha)} (${firstLine(target.message)}); train #${going.number} will be extended with the revert as soon as it lands on the platform.`,
    going.number,
  );
  d.emit({ kind: 'git.revert', sha: target.sha, requestedBy: ctx.actor, requestedByName: opts.authorName ?? revertAuthorName(ctx.actor), extend: { train: going.number } });
  d.record('commit.revert-requested', going.number, { sha: target.sha, extend: going.number });
  return d.finish(`Reverting ${short(target.sha)}; train #${going.number} will be extended with the revert once it lands on the platform.`);
}

/** The reply when the revert commit is not on the platform yet: the outbox tries again. */
export const REVERT_NOT_LANDED = 'The revert commit is not on the platform yet.';

/**
 * The revert that "Revert it and extend" asked for was pushed and fetched:
 * the train is extended with it, on behalf of the person who asked (their
 * permission was checked when they asked). A train that is no longer going
 * (derailed, deployed, extended by hand) is left alone, and that is said.
 */
export function extendWithRevert(s: LineState, ctx: Context, f: { train: number; sha: string; revertSha: string; requestedBy: string }): Decision {
  const going = goingTrain(s);
  if (going?.commits.some((c) => c.sha === f.revertSha)) return refuse(`Train #${going.number} already carries the revert of ${short(f.sha)}.`);
  const onPlatform = s.platform.some((c) => c.sha === f.revertSha);
  if (!going || going.number !== f.train) {
    if (!onPlatform) return refuse(`The revert of ${short(f.sha)} is not waiting on the platform.`);
    const d = new Draft(s, ctx);
    d.announce(`The revert of ${short(f.sha)} is on the platform, but train #${f.train} is no longer going: nothing was extended. It rides the next train.`, null);
    d.record('commit.revert-landed', f.train, { sha: f.sha, revertSha: f.revertSha, extended: false });
    return d.finish('The train is no longer going.');
  }
  if (!onPlatform) return refuse(REVERT_NOT_LANDED);
  const d = new Draft(s, ctx);
  const next = extendGoing(d, going.number, f.requestedBy, `for ${f.requestedBy}'s "revert it and extend" of ${short(f.sha)}`);
  d.record('commit.revert-landed', f.train, { sha: f.sha, revertSha: f.revertSha, extended: next.number });
  return d.finish(`Train #${going.number} extended into train #${next.number} with the revert of ${short(f.sha)}.`);
}
