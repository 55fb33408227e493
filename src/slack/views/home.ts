/**
 * App Home (behaviour.md §3): each user sees their own commits and pending
 * verifications across lines. Pure: the listener gathers the data, this
 * renders it within Slack's 100 blocks per view, summarising beyond that.
 */
import type { HomeView, KnownBlock, SectionBlock } from '@slack/types';
import type { CommitRef } from '../../domain/model.js';
import { ACTIONS } from '../registrations.js';
import { actionButton, count, escapeMrkdwn, firstLine, LIMITS, mrkdwn, plain, plural, section, shortSha, truncate } from './text.js';

export interface HomeTrain {
  number: number;
  state: string;
  /** This user's commits on the train. */
  commits: CommitRef[];
  ticket: { state: 'pending' | 'verified' } | null;
}

export interface HomeLine {
  line: string;
  /** This user's commits waiting on the platform. */
  platform: CommitRef[];
  trains: HomeTrain[];
}

export interface HomeData {
  userEmail: string;
  lines: HomeLine[];
  now: Date;
}

/** Pending verifications listed with a button each; the rest are counted. */
const MAX_PENDING = 20;
/** Commits listed per train or platform entry. */
const COMMITS_SHOWN = 5;
/** Trains listed per line. */
const TRAINS_PER_LINE = 5;

export function homeView(data: HomeData): HomeView {
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain('Your changes', LIMITS.headerText) },
    context(`${escapeMrkdwn(truncate(data.userEmail, 200))} · updated ${slackDate(data.now)}`),
  ];
  const active = data.lines.filter((l) => l.platform.length > 0 || l.trains.some((t) => t.commits.length > 0 || t.ticket));

  if (active.length === 0) {
    blocks.push(section(':sparkles: *Nothing of yours is waiting.* No commits on a platform or a train, and no verification owed.'));
    blocks.push(context('Push to a watched branch and your commits show up here until they are deployed.'));
    return view(blocks);
  }

  // 1. What only you can do: pending verifications, each with its Verify button.
  const pending = active.flatMap((l) => l.trains.filter((t) => t.ticket?.state === 'pending').map((t) => ({ line: l.line, train: t })));
  if (pending.length > 0) {
    blocks.push(section(`:hourglass_flowing_sand: *Waiting for your verification* (${count(pending.length)})`));
    for (const { line, train } of pending.slice(0, MAX_PENDING)) {
      const verify: SectionBlock = {
        type: 'section',
        text: mrkdwn(
          `*${escapeMrkdwn(truncate(line, 200))}* · train #${train.number} (${escapeMrkdwn(truncate(train.state, 40))}): ${plural(train.commits.length, 'commit')} of yours on staging`,
        ),
        accessory: actionButton(ACTIONS.verify, 'Verify', { line, train: train.number }, { style: 'primary' }),
      };
      blocks.push(verify);
    }
    if (pending.length > MAX_PENDING)
      blocks.push(context(`…and ${plural(pending.length - MAX_PENDING, 'more pending verification')}: \`/conductor verify &lt;train&gt;\` in each line's channel.`));
    blocks.push({ type: 'divider' });
  }

  // 2. Where your commits are, line by line; whole lines are dropped (and counted) when the view is full.
  const budget = LIMITS.viewBlocks - 1; // one block stays free for the summary
  let omitted = 0;
  let omittedCommits = 0;
  for (const l of active) {
    const group = lineBlocks(l);
    if (omitted > 0 || blocks.length + group.length > budget) {
      omitted++;
      omittedCommits += l.platform.length + l.trains.reduce((n, t) => n + t.commits.length, 0);
      continue;
    }
    blocks.push(...group);
  }
  if (omitted > 0) blocks.push(context(`…and ${plural(omitted, 'more line')} with ${plural(omittedCommits, 'commit')} of yours: \`/conductor status\` in each line's channel.`));
  return view(blocks);
}

const view = (blocks: KnownBlock[]): HomeView => ({ type: 'home', blocks });

const context = (text: string): KnownBlock => ({ type: 'context', elements: [mrkdwn(text, LIMITS.contextText)] });

/** Slack renders the date in the reader's time zone; the fallback is UTC. */
function slackDate(at: Date): string {
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${at.toISOString()}>`;
}

function lineBlocks(l: HomeLine): KnownBlock[] {
  const out: KnownBlock[] = [section(`:round_pushpin: *${escapeMrkdwn(truncate(l.line, 200))}*`)];
  const trains = l.trains.filter((t) => t.commits.length > 0 || t.ticket).sort((a, b) => b.number - a.number);
  for (const t of trains.slice(0, TRAINS_PER_LINE)) {
    const ticket = t.ticket?.state === 'verified' ? ' · :white_check_mark: verified' : t.ticket?.state === 'pending' ? ' · :hourglass_flowing_sand: verification pending' : '';
    out.push(section(`*Train #${t.number}* · ${escapeMrkdwn(truncate(t.state, 40))}${ticket}\n${commitList(t.commits)}`));
  }
  if (trains.length > TRAINS_PER_LINE) {
    const rest = trains.slice(TRAINS_PER_LINE);
    out.push(
      context(
        `…and ${plural(rest.length, 'more train')} with ${plural(
          rest.reduce((n, t) => n + t.commits.length, 0),
          'commit',
        )} of yours.`,
      ),
    );
  }
  if (l.platform.length > 0) out.push(section(`*On the platform* (waiting for a train)\n${commitList(l.platform)}`));
  return out;
}

function commitList(commits: CommitRef[]): string {
  if (commits.length === 0) return '_none of your commits_';
  const lines = commits.slice(0, COMMITS_SHOWN).map((c) => `• \`${shortSha(c.sha)}\` ${escapeMrkdwn(firstLine(c.message, 100))}`);
  if (commits.length > COMMITS_SHOWN) lines.push(`• …and ${plural(commits.length - COMMITS_SHOWN, 'more commit')}`);
  return lines.join('\n');
}
