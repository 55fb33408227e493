/**
 * The train card (behaviour.md §3): the one channel message per train, updated in
 * place as the train moves. A pure function of the line's state and the
 * train; it stays within Slack's limits for the biggest trains we support by
 * summarising (at most `maxAuthors` authors, a few commits each).
 */
import type { ActionsBlock, Button, ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { bisectSummary } from '../../domain/bisect.js';
import { describeConfirmation } from '../../domain/confirmation.js';
import { isGoing, isLive, latestJob, notDeployableReason } from '../../domain/deployability.js';
import type { Job, LineState, Train, TrainStatus } from '../../domain/model.js';
import { outputTail } from '../../domain/output-tail.js';
import { norm } from '../../domain/policy.js';
import { ACTIONS, type ActionValue } from '../registrations.js';
import { actionButton, confirmDialog, count, escapeMrkdwn, escapeWithMentions, firstLine, LIMITS, link, mrkdwn, plain, plural, safeMention, section, shortSha, truncate } from './text.js';

export interface TrainCardOptions {
  /** `<@U123>` when the email belongs to a Slack user, else the email. */
  mention: (email: string) => string;
  /** Where to see everything (e.g. the API's train URL): linked when the card summarises. */
  statusUrl?: string;
  /** Authors shown with their commits; the rest are counted. Default 10. */
  maxAuthors?: number;
  /** Jobs listed, newest first. Default 4. */
  maxJobs?: number;
}

export const STATE_EMOJI: Record<TrainStatus, string> = {
  delivering: ':building_construction:',
  verifying: ':mag:',
  deploying: ':rocket:',
  deployed: ':white_check_mark:',
  derailed: ':x:',
};

const JOB_EMOJI: Record<Job['state'], string> = {
  queued: ':clock3:',
  running: ':arrows_counterclockwise:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  unknown: ':grey_question:',
};

const JOB_LABEL: Record<Job['kind'], string> = {
  build: 'Build + staging',
  deploy: 'Production deploy',
  rollback: 'Rollback',
  bisect: 'Culprit search build',
};

/** How many commit lines the card lists in all; each shown author gets at least 3. */
const COMMIT_LINES = 30;
/** An author's section stays well under Slack's 3000 characters. */
const AUTHOR_SECTION_BUDGET = 2800;

export function trainCard(state: LineState, train: Train, opts: TrainCardOptions): { text: string; blocks: KnownBlock[] } {
  const line = state.settings.name;
  const who = (email: string): string => safeMention(opts.mention, truncate(email, 120));
  const reason = notDeployableReason(state, train);
  const blocks: KnownBlock[] = [];

  blocks.push({
    type: 'header',
    text: plain(`${STATE_EMOJI[train.state]} Train #${train.number} · ${line} · ${train.state}`, LIMITS.headerText),
  });

  if (state.settings.mode === 'manual') {
    const why = state.settings.manualReason ? ` (${escapeMrkdwn(truncate(state.settings.manualReason, 500))})` : '';
    blocks.push(context(`:rotating_light: *${escapeMrkdwn(line)}* is in manual mode${why}: trains start only when an admin runs \`/conductor start\`.`));
  }

  blocks.push(summary(state, train, who));

  if (train.blocked && isLive(train)) {
    blocks.push(section(`:no_entry: *Blocked:* ${escapeMrkdwn(truncate(train.blocked, 500))}`));
  }

  // behaviour.md §8: a deployed train is watched by the line's health check (shown as such).
  if (train.health) {
    const f = train.health.failures;
    const words = { watching: 'watching', healthy: 'healthy (the soak ended without a trip)', failed: 'failed: the line is blocked' }[train.health.state];
    blocks.push(context(`:stethoscope: *Health check:* ${words}${f > 0 && train.health.state === 'watching' ? ` (${plural(f, 'failure')} in a row)` : ''}`));
  }

  // behaviour.md §8: the culprit search after a failed build.
  if (train.bisect) blocks.push(section(`:mag: *Culprit search:* ${escapeMrkdwn(truncate(bisectSummary(train), 1000))}`));

  const status = statusSentence(train, reason, opts.mention, who);
  if (status) blocks.push(section(status));

  const jobs = jobsText(train, opts.maxJobs ?? 4);
  if (jobs) blocks.push(section(jobs));
  const failure = failedJobTail(train);
  if (failure) blocks.push(section(failure));

  blocks.push({ type: 'divider' });
  blocks.push(...authorBlocks(train, opts, who));

  const actions = buttons(state, train, reason);
  if (actions.length > 0) blocks.push({ type: 'actions', block_id: `train-${train.number}`, elements: actions } satisfies ActionsBlock);

  const production = productionLine(state);
  if (production) blocks.push(context(production));
  blocks.push(context(footer(train, who)));

  return { text: fallback(state, train, reason), blocks };
}

/** behaviour.md §9: what production runs, on every card, so a rollback is never forgotten. */
function productionLine(state: LineState): string | null {
  const p = state.production;
  if (!p) return null;
  const from = p.rolledBackFrom !== null ? ` (rolled back from #${p.rolledBackFrom})` : '';
  return `:package: Production runs train #${p.number} \`${shortSha(p.headSha)}\`${from} since ${p.since.toISOString().slice(0, 16).replace('T', ' ')} UTC, by ${escapeMrkdwn(truncate(p.by, 120))}.`;
}

const context = (text: string): ContextBlock => ({ type: 'context', elements: [mrkdwn(text, LIMITS.contextText)] });

/** The one-line notification text: "Train #3 on web: verifying, 2/3 verified". */
function fallback(state: LineState, train: Train, reason: string | null): string {
  const verified = train.tickets.filter((k) => k.state === 'verified').length;
  const parts = [`Train #${train.number} on ${state.settings.name}: ${train.state}`];
  if (train.tickets.length > 0 && isGoing(train)) parts.push(`${count(verified)}/${count(train.tickets.length)} verified`);
  else parts.push(plural(train.commits.length, 'commit'));
  if (train.blocked && isLive(train)) parts.push(`blocked: ${truncate(train.blocked, 200)}`);
  if (isGoing(train) && reason === null) parts.push('ready to deploy');
  if (train.state === 'derailed' && train.derailReason) parts.push(truncate(train.derailReason, 200));
  const warning = state.settings.mode === 'manual' ? ' (line in manual mode)' : '';
  return truncate(escapeMrkdwn(parts.join(', ') + warning), LIMITS.fallbackText);
}

function summary(state: LineState, train: Train, who: (email: string) => string): SectionBlock {
  const authors = new Set(train.commits.map((c) => norm(c.authorEmail))).size;
  const verified = train.tickets.filter((k) => k.state === 'verified').length;
  const fields = [
    mrkdwn(`*Head*\n\`${shortSha(train.headSha)}\` on \`${escapeMrkdwn(truncate(state.settings.branch, 200))}\` (base \`${shortSha(train.baseSha)}\`)`, 2000),
    mrkdwn(`*Engineer*\n${train.engineer ? who(train.engineer) : 'no engineer'}`, 2000),
    mrkdwn(`*Commits*\n${plural(train.commits.length, 'commit')} by ${plural(authors, 'author')}`, 2000),
    mrkdwn(
      `*Verified*\n${train.tickets.length === 0 ? (train.state === 'delivering' ? 'asked once on staging' : 'none needed') : `${count(verified)} of ${count(train.tickets.length)}`}`,
      2000,
    ),
  ];
  return { type: 'section', fields };
}

/** Why the train is where it is: ready, or the why-not-deployable sentence. */
function statusSentence(train: Train, reason: string | null, mention: (email: string) => string, who: (email: string) => string): string | null {
  switch (train.state) {
    case 'delivering':
    case 'verifying':
      if (reason === null)
        return `:large_green_circle: *Ready to deploy.* ${train.engineer ? `${who(train.engineer)}, press *Deploy*` : 'An admin (or whoever claims the engineer role) may press *Deploy*'} to start the production deploy.`;
      // The blocked line above already says it.
      if (train.blocked && train.state === 'verifying') return null;
      return `${latestJob(train, 'build')?.state === 'failed' ? ':x:' : ':hourglass_flowing_sand:'} ${escapeWithMentions(truncate(reason, 500), mention)}`;
    case 'deploying':
      if (latestJob(train, 'deploy')?.state === 'unknown')
        return `:grey_question: *Outcome unknown: check production.* Conductor cannot tell how the deploy ended and will not run it again by itself. ${train.engineer ? who(train.engineer) : 'The engineer or an admin'}: check production, then \`/conductor retry\`, or \`/conductor job succeeded ${train.number}\` / \`job failed ${train.number}\`.`;
      return latestJob(train, 'deploy')?.state === 'failed' ? ':x: *The production deploy failed:* retry it, roll back, or derail the train.' : ':rocket: Deploying to production…';
    case 'deployed':
      return ':white_check_mark: Deployed to production.';
    case 'derailed':
      return `:x: *Derailed*${train.derailReason ? `: ${escapeMrkdwn(truncate(train.derailReason, 500))}` : '.'}`;
  }
}

function jobsText(train: Train, max: number): string | null {
  // The culprit search's builds are summed up in its own line; they would crowd out the train's jobs.
  const own = train.jobs.filter((j) => j.kind !== 'bisect');
  if (own.length === 0) return null;
  const newest = [...own].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.attempt - a.attempt);
  const lines = newest.slice(0, max).map((j) => {
    const url = j.url && j.url.length <= 1000 ? ` · ${link(j.url, 'open')}` : '';
    // A job the runner could not start yet says what it waits for ("waiting for Jenkins: …").
    const waiting = j.state === 'queued' && j.output?.startsWith('waiting') ? ` — ${escapeMrkdwn(truncate(j.output, 200))}` : '';
    const state = j.state === 'unknown' ? 'outcome unknown: check production' : j.state;
    return `${JOB_EMOJI[j.state]} ${JOB_LABEL[j.kind]} #${j.attempt}: ${state}${waiting}${url}`;
  });
  if (newest.length > max) lines.push(`…and ${plural(newest.length - max, 'earlier job')}`);
  return `*Jobs*\n${lines.join('\n')}`;
}

/**
 * The last lines of the newest job's output when it failed and the train still
 * waits on someone: the reason is there, not in the word "failed".
 */
function failedJobTail(train: Train): string | null {
  if (!isLive(train)) return null;
  const newest = train.jobs.filter((j) => j.kind !== 'bisect').sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.attempt - a.attempt)[0];
  if (!newest || newest.state !== 'failed') return null;
  const tail = outputTail(newest.output);
  if (!tail) return null;
  const head = `*Last lines of the failed ${newest.kind} #${newest.attempt}:*\n`;
  // Escaping may lengthen the text: drop the oldest lines rather than cut the closing fence.
  const lines = escapeMrkdwn(tail).split('\n');
  while (lines.length > 1 && head.length + lines.join('\n').length + 8 > LIMITS.sectionText) lines.shift();
  return `${head}\`\`\`\n${truncate(lines.join('\n'), LIMITS.sectionText - head.length - 8)}\n\`\`\``;
}

interface AuthorGroup {
  email: string;
  name: string;
  commits: Train['commits'];
  ticket: Train['tickets'][number] | undefined;
}

/** Pending authors first (they hold the train), then verified, then those with no verification. */
function authorGroups(train: Train): AuthorGroup[] {
  const groups = new Map<string, AuthorGroup>();
  for (const c of train.commits) {
    const key = norm(c.authorEmail);
    let g = groups.get(key);
    if (!g) {
      g = { email: c.authorEmail, name: c.authorName, commits: [], ticket: train.tickets.find((k) => norm(k.authorEmail) === key) };
      groups.set(key, g);
    }
    g.commits.push(c);
  }
  const rank = (g: AuthorGroup): number => (g.ticket?.state === 'pending' ? 0 : g.ticket?.state === 'verified' ? 1 : 2);
  return [...groups.values()]
    .map((g, i) => ({ g, i }))
    .sort((a, b) => rank(a.g) - rank(b.g) || a.i - b.i)
    .map(({ g }) => g);
}

function ticketLabel(train: Train, g: AuthorGroup): string {
  if (g.ticket?.state === 'verified') return ':white_check_mark: verified';
  if (g.ticket?.state === 'pending') return ':hourglass_flowing_sand: pending';
  return train.state === 'delivering' ? '— not asked yet' : '— not needed';
}

function authorBlocks(train: Train, opts: TrainCardOptions, who: (email: string) => string): KnownBlock[] {
  const groups = authorGroups(train);
  if (groups.length === 0) return [section('_No commits._')];
  const maxAuthors = Math.max(1, opts.maxAuthors ?? 10);
  const shown = groups.slice(0, maxAuthors);
  const perAuthor = Math.min(10, Math.max(3, Math.floor(COMMIT_LINES / shown.length)));
  const blocks: KnownBlock[] = shown.map((g) => {
    let text = `*${escapeMrkdwn(truncate(g.name || g.email, 100))}* ${who(g.email)} · ${plural(g.commits.length, 'commit')} · ${ticketLabel(train, g)}`;
    let listed = 0;
    for (const c of g.commits.slice(0, perAuthor)) {
      const entry = `\n• \`${shortSha(c.sha)}\` ${escapeMrkdwn(firstLine(c.message, 100))}`;
      if (text.length + entry.length > AUTHOR_SECTION_BUDGET) break;
      text += entry;
      listed++;
    }
    if (g.commits.length > listed) text += `\n• …and ${plural(g.commits.length - listed, 'more commit')}`;
    return section(text);
  });
  const hidden = groups.slice(shown.length);
  if (hidden.length > 0) {
    const hiddenCommits = hidden.reduce((n, g) => n + g.commits.length, 0);
    const pending = hidden.filter((g) => g.ticket?.state === 'pending').length;
    const where = opts.statusUrl && opts.statusUrl.length <= 1000 ? `see ${link(opts.statusUrl, 'the full list')}` : `\`/conductor train ${train.number}\` lists them`;
    blocks.push(context(`…and ${plural(hidden.length, 'more author')} (${plural(hiddenCommits, 'commit')}): ${where}.${pending ? ` ${count(pending)} of them still to verify.` : ''}`));
  }
  return blocks;
}

function buttons(state: LineState, train: Train, reason: string | null): Button[] {
  if (!isLive(train)) return [];
  const value: ActionValue = { line: state.settings.name, train: train.number };
  const going = isGoing(train);
  const out: Button[] = [];
  const pending = train.tickets.some((k) => k.state === 'pending');
  if (going && pending) out.push(actionButton(ACTIONS.verify, ':white_check_mark: Verify my changes', value, { style: 'primary' }));
  // Rule 9: an author who verified can take it back ("found a problem"), which blocks the deploy again.
  if (going && train.tickets.some((k) => k.state === 'verified')) out.push(actionButton(ACTIONS.reopen, ':warning: Found a problem', value));
  if (going) {
    // Slack cannot disable a button: a train that cannot deploy shows it "off" (no style); the engine refuses anyway.
    out.push(reason === null ? actionButton(ACTIONS.deploy, ':rocket: Deploy', value, { style: 'primary' }) : actionButton(ACTIONS.deploy, 'Deploy (not ready)', value));
  }
  const retryKind = train.state === 'deploying' ? 'deploy' : 'build';
  const failed = latestJob(train, retryKind)?.state === 'failed';
  if (failed) out.push(actionButton(ACTIONS.retry, `:repeat: Retry ${retryKind}`, value));
  // behaviour.md §8: one click reverts the culprit the search found and extends the train with the revert.
  const culprit = going && train.bisect?.state === 'found' ? train.commits.find((c) => c.sha === train.bisect?.culprit?.sha) : undefined;
  if (culprit) {
    const what = describeConfirmation(state, 'revert-extend', { sha: culprit.sha });
    out.push(
      actionButton(ACTIONS.revertExtend, ':leftwards_arrow_with_hook: Revert it and extend', value, {
        style: 'danger',
        confirm: confirmDialog(truncate(what.title, 100), what.lines.join('\n'), 'Revert and extend', 'danger'),
      }),
    );
  }
  // behaviour.md §9: running a deploy of unknown outcome again is a person's decision, taken after checking production.
  if (train.state === 'deploying' && latestJob(train, 'deploy')?.state === 'unknown') {
    const text = `Nobody can tell how the last deploy of train #${train.number} ended. Check production first: if it already runs this train, record it with \`/conductor job succeeded ${train.number}\` instead of deploying again.`;
    out.push(actionButton(ACTIONS.retry, ':repeat: Deploy again', value, { confirm: confirmDialog(`Deploy train #${train.number} again?`, text, 'Deploy again', 'danger') }));
  }
  out.push(actionButton(ACTIONS.claim, ':raising_hand: Claim engineer', value));
  if (going) {
    // The card is not redrawn when only the platform changes, so the text must not count it.
    const text = `Train #${train.number} (${plural(train.commits.length, 'commit')}) will be derailed and replaced by a new train: its commits plus every commit on the platform (push the revert first). Verified changes stay verified; the engineer stays.`;
    out.push(actionButton(ACTIONS.extend, ':heavy_plus_sign: Extend', value, { confirm: confirmDialog(`Extend train #${train.number}?`, text, 'Extend', 'primary') }));
  }
  if (going || (train.state === 'deploying' && failed)) {
    // Rule 3 would start the next train at once with the same commits: say so, and how to hold them (behaviour.md §10).
    const next = state.settings.mode === 'schedule' ? ' In schedule mode inside auto-time a new train takes them at once: to hold them, switch to manual mode first.' : '';
    const text = `Train #${train.number} (${plural(train.commits.length, 'commit')}) will be derailed: its jobs stop and its commits go back to the front of the platform. Verifications carry over.${next}`;
    out.push(actionButton(ACTIONS.derail, ':octagonal_sign: Derail', value, { style: 'danger', confirm: confirmDialog(`Derail train #${train.number}?`, text, 'Derail', 'danger') }));
  }
  return out;
}

function footer(train: Train, who: (email: string) => string): string {
  const by = train.createdBy === 'conductor' ? 'automatically' : `by ${who(train.createdBy)}`;
  const unix = Math.floor(train.createdAt.getTime() / 1000);
  const when = `<!date^${unix}^{date_short_pretty} {time}|${train.createdAt.toISOString()}>`;
  return `Created ${by} ${when}${train.replaces ? ` · replaces train #${train.replaces}` : ''}`;
}
