/**
 * The buttons of each page, worked out for the signed-in person from the line's
 * current state by dry runs of the real rules (src/domain/allowed-actions.ts).
 */
import type { VNode } from 'preact';
import { lineActions, revertableAuthors, trainActions } from '../../domain/allowed-actions.js';
import { findTrain, goingTrain } from '../../domain/deployability.js';
import type { CommitRef, Context, LineState } from '../../domain/model.js';
import { norm } from '../../domain/policy.js';
import { revertAndExtend } from '../../domain/rules/revert-extend.js';
import type { SignedIn } from '../auth/session.js';
import type { WebContext } from '../context.js';
import { firstLine } from '../pages/parts.js';
import { ActionForm, ConfirmForm, type FormBase, LineActionsPanel, TrainActionsPanel } from './forms.js';

/** Platform commits offered in "start a train up to": the first ones, as the line page lists them. */
const START_CHOICES = 50;

export interface TrainPageActions {
  panel: VNode | null;
  /** Whose commits the person may revert (by author email, lower case), and the form's fields. */
  revert: { base: FormBase; can: (authorEmail: string) => boolean };
  /** behaviour.md §8: "Revert it and extend" for the culprit the search found, when the person may. */
  revertExtend: VNode | null;
}

/** A commit as the train page lists it: enough for the revert rule to say whose it is. */
export interface ListedCommit {
  sha: string;
  authorEmail: string;
  message: string;
}

// The line without its trains' commits (the pages read those a page at a time): no refusal reads them.
const light = { withoutTrainCommits: true } as const;

/** `state`: the line as the train page's read model loaded it (with train n, without the trains' commits). */
export function trainPageActions(web: WebContext, state: LineState, n: number, me: SignedIn, back: string, listed: ListedCommit[]): TrainPageActions {
  const line = state.settings.name;
  const ctx = web.engine.context(me.email);
  const base: FormBase = { line, csrf: me.csrf, back };
  const train = findTrain(state, n);
  const commits: CommitRef[] = listed.map((c) => ({ ...c, authorName: '', verifiedBy: null, verifiedAt: null }));
  // A derailed train's commits are back on the platform (or on a later train): reverted from there.
  const authors = train && train.state !== 'derailed' ? revertableAuthors(state, ctx, commits) : new Set<string>();
  return {
    panel: <TrainActionsPanel base={base} n={n} a={trainActions(state, ctx, n)} />,
    revert: { base, can: (authorEmail) => authors.has(norm(authorEmail)) },
    revertExtend: revertExtendForm(state, ctx, n, base),
  };
}

/**
 * The one action of a found culprit: a dry run of the real rule. The page's line
 * carries no train commits, so the train is given the culprit, the only commit
 * the rule looks for.
 */
function revertExtendForm(state: LineState, ctx: Context, n: number, base: FormBase): VNode | null {
  const going = goingTrain(state);
  const culprit = going?.number === n && going.bisect?.state === 'found' ? going.bisect.culprit : null;
  if (!going || !culprit) return null;
  const c: CommitRef = { sha: culprit.sha, authorEmail: culprit.authorEmail, authorName: '', message: '', verifiedBy: null, verifiedAt: null };
  const withCulprit: LineState = { ...state, trains: state.trains.map((t) => (t.number === n ? { ...t, commits: [c] } : t)) };
  if (!revertAndExtend(withCulprit, ctx, c, c.sha).ok) return null;
  return <ConfirmForm base={base} id="revert-extend" command={`revert ${culprit.sha.slice(0, 12)} and extend`} label="Revert it and extend…" />;
}

/** `state`: the line as the line page's read model loaded it. */
export function linePageActions(web: WebContext, state: LineState, me: SignedIn, back: string): VNode | null {
  const line = state.settings.name;
  const ctx = web.engine.context(me.email);
  const platform = state.platform.slice(0, START_CHOICES).map((c) => ({ sha: c.sha, label: `${c.sha.slice(0, 8)} ${c.authorEmail}: ${firstLine(c.message, 60)}` }));
  return <LineActionsPanel base={{ line, csrf: me.csrf, back }} a={lineActions(state, ctx)} platform={platform} mode={state.settings.mode} />;
}

/** /me: a Verify button for each pending verification the rule would accept now (keyed `line train`). */
export async function meVerifyButtons(web: WebContext, me: SignedIn, pending: { line: string; train: number }[]): Promise<Map<string, VNode>> {
  const out = new Map<string, VNode>();
  const ctx = web.engine.context(me.email);
  for (const line of new Set(pending.map((p) => p.line))) {
    if (!web.engine.lines.has(line)) continue;
    const trains = pending.filter((p) => p.line === line).map((p) => p.train);
    const { state } = await web.engine.read(line, { extraTrains: trains, ...light });
    for (const n of trains) {
      if (!trainActions(state, ctx, n).verify) continue;
      out.set(`${line} ${n}`, <ActionForm base={{ line, csrf: me.csrf, back: '/me' }} id={`verify-${line}-${n}`} command={`verify ${n}`} label={`Verify train #${n}`} />);
    }
  }
  return out;
}
