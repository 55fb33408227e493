import type { ChatPostMessageArguments, WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Db } from '../engine/db.js';
import { RetryLaterError } from '../engine/errors.js';
import type { Chat } from '../engine/ports/chat.js';
import type { SlackDirectory } from './directory.js';
import { slackAnswered, slackCall, toOutboxError } from './errors.js';
import { dmMessage } from './views/dm.js';
import { escapeMrkdwn } from './views/text.js';
import { trainCard } from './views/train-card.js';

export interface SlackChatOptions {
  client: WebClient;
  db: Db;
  directory: SlackDirectory;
  /** The line's Slack channel, or null when it has none (messages are then only logged). */
  channelOf: (line: string) => string | null;
  log: Logger;
  clock?: () => Date;
}

/** A card claimed by a worker that died before posting it is taken over after this long. */
const STALE_CLAIM_MS = 60_000;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/**
 * The chat port on Slack. Called only by the outbox worker (after commit, with
 * retries), never on the ack path. The card of a train is posted once and
 * then updated in place; announcements about a train go to its card's thread.
 */
export class SlackChat implements Chat {
  private readonly clock: () => Date;

  constructor(private readonly o: SlackChatOptions) {
    this.clock = o.clock ?? (() => new Date());
  }

  async announce(msg: { line: string; train: number | null; text: string; broadcast?: boolean; key: string }): Promise<void> {
    const channel = this.o.channelOf(msg.line);
    if (!channel) return this.noChannel(msg.line, msg.text);
    const text = await this.mentionize(msg.text);
    const threadTs = msg.train === null ? null : await this.cardTs(msg.line, msg.train, channel);
    const args = { channel, text, unfurl_links: false, ...(threadTs ? { thread_ts: threadTs, reply_broadcast: msg.broadcast === true } : {}) };
    await slackCall(() => this.o.client.chat.postMessage(args as ChatPostMessageArguments));
  }

  async dm(msg: { line: string; to: string; train: number | null; text: string; askVerify: boolean; key: string }): Promise<void> {
    const userId = await slackCall(() => this.o.directory.idOf(msg.to));
    if (!userId) {
      // behaviour.md §3: an author with no Slack account is named in the channel instead.
      return this.announce({ line: msg.line, train: msg.train, text: `${msg.to} (not on Slack): ${msg.text}`, key: `${msg.key}:channel` });
    }
    const im = await slackCall(() => this.o.client.conversations.open({ users: userId }));
    const channel = im.channel?.id;
    if (!channel) throw new Error(`conversations.open gave no channel for ${userId}`);
    // dmMessage escapes the text itself and puts the mentions in: pass the raw sentence.
    const mentions = await this.mentionsIn(msg.text);
    const { text, blocks } = dmMessage(msg.text, { askVerify: msg.askVerify, line: msg.line, train: msg.train, mention: (e) => mentions.get(e) ?? e });
    await slackCall(() => this.o.client.chat.postMessage({ channel, text, blocks, unfurl_links: false }));
  }

  async card(msg: Parameters<Chat['card']>[0]): Promise<void> {
    const channel = this.o.channelOf(msg.line);
    if (!channel) return;
    const mentions = new Map<string, string>();
    const wanted = [msg.train.engineer, ...msg.train.tickets.slice(0, 20).map((k) => k.authorEmail)].filter((e): e is string => !!e);
    for (const email of new Set(wanted)) mentions.set(email, await slackCall(() => this.o.directory.mention(email)));
    const { text, blocks } = trainCard(msg.state, msg.train, {
      mention: (email: string) => mentions.get(email) ?? email, // the card escapes what is not a mention
      // No link: the API needs a token a browser does not have. The card points to `/conductor train N`.
    });
    const line = await this.o.db.line.findUniqueOrThrow({ where: { name: msg.line }, select: { id: true } });
    const existing = await this.o.db.slackCard.findUnique({ where: { lineId_trainNumber: { lineId: line.id, trainNumber: msg.train.number } } });
    if (existing?.ts) {
      await slackCall(() => this.o.client.chat.update({ channel: existing.channel, ts: existing.ts!, text, blocks }));
      return;
    }
    await this.postCard(line.id, msg.train.number, channel, text, blocks);
  }

  /** The ts of the train's card, posting a minimal one first if the card does not exist yet. */
  private async cardTs(line: string, train: number, channel: string): Promise<string | null> {
    const row = await this.o.db.line.findUniqueOrThrow({ where: { name: line }, select: { id: true } });
    const card = await this.o.db.slackCard.findUnique({ where: { lineId_trainNumber: { lineId: row.id, trainNumber: train } } });
    if (card?.ts) return card.ts;
    // Effects may arrive out of order after failures: the thread needs its card first.
    return this.postCard(row.id, train, channel, `Train #${train} on ${line}`, undefined);
  }

  /**
   * Posts the card once per train across processes: a row is claimed first
   * (unique line+train), the claimant posts and records the ts; others wait.
   */
  private async postCard(lineId: number, train: number, channel: string, text: string, blocks: unknown[] | undefined): Promise<string> {
    const now = this.clock();
    const claimed = await this.o.db.$queryRaw<{ id: number }[]>`
      INSERT INTO slack_card (line_id, train_number, channel, claimed_at, updated_at) VALUES (${lineId}, ${train}, ${channel}, ${now}, ${now})
      ON CONFLICT (line_id, train_number) DO UPDATE SET claimed_at = ${now}
        WHERE slack_card.ts IS NULL AND slack_card.claimed_at < ${new Date(now.getTime() - STALE_CLAIM_MS)}
      RETURNING id`;
    if (claimed.length === 0) {
      const other = await this.o.db.slackCard.findUnique({ where: { lineId_trainNumber: { lineId, trainNumber: train } } });
      if (other?.ts) return other.ts;
      throw new RetryLaterError(`card of train #${train} is being posted by another worker`, 1000);
    }
    let res: Awaited<ReturnType<WebClient['chat']['postMessage']>>;
    try {
      res = await this.o.client.chat.postMessage({ channel, text, ...(blocks ? { blocks: blocks as never } : {}), unfurl_links: false });
    } catch (err) {
      // Slack answered and posted nothing (HTTP error status, 429, ok:false): release the claim so
      // the retry posts at once instead of waiting STALE_CLAIM_MS. Without an answer (timeout,
      // reset) the message may exist: the claim stands, so the card is never posted twice.
      if (slackAnswered(err)) await this.o.db.slackCard.updateMany({ where: { id: claimed[0]!.id, ts: null }, data: { claimedAt: new Date(0) } });
      throw toOutboxError(err);
    }
    if (!res.ts) throw new Error('chat.postMessage returned no ts');
    await this.o.db.slackCard.update({ where: { id: claimed[0]!.id }, data: { ts: res.ts, channel: res.channel ?? channel } });
    return res.ts;
  }

  /** Emails in a sentence become mentions for people on Slack (engineers get notified). */
  private async mentionize(text: string): Promise<string> {
    let out = escapeMrkdwn(text);
    for (const [email, mention] of await this.mentionsIn(text)) out = out.split(escapeMrkdwn(email)).join(mention);
    return out;
  }

  /** email → `<@U…>` for the people on Slack named in a sentence. */
  private async mentionsIn(text: string): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const email of [...new Set(text.match(EMAIL) ?? [])].slice(0, 10)) {
      const id = await slackCall(() => this.o.directory.idOf(email));
      if (id) found.set(email, `<@${id}>`);
    }
    return found;
  }

  private noChannel(line: string, text: string): void {
    this.o.log.info({ line, chat: 'announce' }, text);
  }
}
