import * as domain from '../domain/index.js';
import { type CommitRef, SYSTEM_ACTOR } from '../domain/index.js';
import type { Engine, Reply } from './engine.js';
import type { RevertCheck } from './ports/code-host.js';

/**
 * `/conductor revert <sha>`: the commit is looked up in the line's records,
 * the rule decides (permission first), then the code host is asked whether the
 * revert can be made at all (it would change nothing, or conflicts), so that
 * the answer is the real one at once instead of "will appear shortly" followed
 * by a failure in the channel.
 */
export async function revertCommand(
  engine: Engine,
  line: string,
  actor: string,
  sha: string,
  /** `extend`: "revert it and extend" (behaviour.md §8). */
  opts: { inputKey?: string; fingerprint?: string; displayName?: () => Promise<string | null>; extend?: boolean },
): Promise<Reply> {
  // The use case runs twice (on a snapshot for refusals, then under the line lock): git and Slack are asked once.
  let check: Promise<RevertCheck> | undefined;
  let slackName: Promise<string | null> | undefined;
  return engine.run(
    line,
    actor,
    async ({ tx, loaded, state, ctx }) => {
      // sha is hex (the parser checks it), so it is safe in a LIKE pattern.
      const matches = await tx.query<{ sha: string; state: string; author_name: string; author_email: string; message: string; verified_by: string | null; verified_at: Date | null }>`
        SELECT sha, state, author_name, author_email, message, verified_by, verified_at FROM commit
        WHERE line_id = ${loaded.ids.lineId} AND sha LIKE ${`${sha}%`} LIMIT 2`;
      if (matches.length > 1) return { decision: domain.refuse(`${sha} matches several commits: give more characters.`) };
      const m = matches[0];
      const target: CommitRef | null = m
        ? { sha: m.sha, authorName: m.author_name, authorEmail: m.author_email, message: m.message, verifiedBy: m.verified_by, verifiedAt: m.verified_at }
        : null;
      // The rule first: whose commit it is decides who may revert it, before anything about its state.
      const rule = opts.extend ? domain.revertAndExtend : domain.revert;
      const first = rule(state, ctx, target, sha);
      if (!first.ok || !target) return { decision: first };
      if (m!.state === 'removed') return { decision: domain.refuse(`${sha} was removed from the branch (an emergency reset or a force push); there is nothing to revert.`) };

      const host = engine.deps.codeHost?.(line);
      if (host) {
        check ??= knownSoon(host.checkRevert(target.sha), (err) => engine.deps.log.warn({ line, sha: target.sha, err }, 'could not check the revert beforehand; the code host will say'));
        const can = await check;
        if (!can.ok) return { decision: domain.refuse(can.message) };
      }
      slackName ??= opts.displayName ? opts.displayName().catch(() => null) : Promise.resolve(null);
      const [mine] = await tx.query<{ author_name: string }>`
        SELECT author_name FROM commit WHERE line_id = ${loaded.ids.lineId} AND lower(author_email) = lower(${actor})
        ORDER BY position DESC LIMIT 1`;
      const authorName = domain.revertAuthorName(actor, { slackName: await slackName, lastCommitName: mine?.author_name });
      return { decision: rule(state, ctx, target, sha, { authorName }) };
    },
    { inputKey: opts.inputKey, fingerprint: opts.fingerprint, precheck: true },
  );
}

/** How long `revert` waits for the code host's check before answering; past it, the outcome is told later. */
export const REVERT_CHECK_MS = 10_000;

/**
 * The check's answer, or "can be made" when the code host cannot tell in
 * time (remote down, slow): then the revert is attempted by the outbox, which
 * retries, and a failure is told later (revertNotMade).
 */
function knownSoon(check: Promise<RevertCheck>, onUnknown: (err: string) => void): Promise<RevertCheck> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<RevertCheck>((resolve) => {
    timer = setTimeout(() => {
      onUnknown(`no answer within ${REVERT_CHECK_MS} ms`);
      resolve({ ok: true });
    }, REVERT_CHECK_MS);
    timer.unref();
  });
  const answered = check.catch((err: unknown): RevertCheck => {
    onUnknown(err instanceof Error ? err.message : String(err));
    return { ok: true };
  });
  return Promise.race([answered, late]).finally(() => clearTimeout(timer));
}

/**
 * The code host could not make a revert that `revert` accepted (the branch
 * moved between the check and the push). An engine input, like any other: the
 * announcement and the requester's DM go through the outbox after the "is
 * reverting" announcement, and `inputKey` (the outbox item's) tells it once.
 */
export async function revertNotMade(engine: Engine, f: { line: string; sha: string; requestedBy: string; reason: string; inputKey: string }): Promise<void> {
  await engine.run(f.line, SYSTEM_ACTOR, ({ state, ctx }) => ({ decision: domain.revertFailed(state, ctx, f.sha, f.requestedBy, f.reason) }), {
    inputKey: `${f.inputKey}:not-made`,
  });
}

/**
 * behaviour.md §8: the revert "Revert it and extend" asked for was pushed and
 * fetched: extend the train with it. Not keyed: a refusal would be kept for the
 * key, and "not on the platform yet" must be asked again. The state makes it
 * idempotent instead: a train that already carries the revert is not extended
 * again. A revert not on the platform yet throws, so the outbox tries the whole
 * item again (the revert itself is idempotent by the item's key).
 */
export async function extendAfterRevert(engine: Engine, f: { line: string; train: number; sha: string; revertSha: string; requestedBy: string }): Promise<void> {
  const reply = await engine.run(f.line, SYSTEM_ACTOR, ({ state, ctx }) => ({ decision: domain.extendWithRevert(state, ctx, f) }));
  if (!reply.ok && reply.text === domain.REVERT_NOT_LANDED) throw new Error(`the revert of ${f.sha} is not on the platform of ${f.line} yet`);
}
