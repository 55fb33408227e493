import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { checkEmail } from '../domain/identity.js';
import type { Db } from '../engine/db.js';

/** How long a "no Slack account for this email" answer is trusted. */
const MISS_TTL_MS = 6 * 60 * 60_000;
/** How long a found mapping is trusted before asking Slack again (emails change rarely). */
const HIT_TTL_MS = 7 * 24 * 60 * 60_000;

/**
 * Who is who: Slack user ids ↔ emails. Conductor identifies people by email;
 * Slack by user id. Answers are kept in the database (misses too), so the ack
 * path can use `cachedEmail` without calling Slack, and the outbox rarely does.
 */
export class SlackDirectory {
  constructor(
    private readonly db: Db,
    private readonly client: WebClient,
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** From the database only (for the ack path). */
  async cachedEmail(slackId: string): Promise<string | null> {
    const row = await this.db.slackUser.findUnique({ where: { slackId } });
    // A row stored before the email rule (identity.ts) existed is no identity either.
    return row?.email && checkEmail(row.email).ok ? row.email : null;
  }

  /** The user's email, asking Slack (users.info) when it is not known yet. */
  async emailOf(slackId: string): Promise<string | null> {
    const cached = await this.cachedEmail(slackId);
    if (cached) return cached;
    const res = await this.client.users.info({ user: slackId });
    const profileEmail = res.user?.profile?.email ?? null;
    if (!profileEmail) {
      this.log.warn({ slackId }, 'Slack user has no visible email (users:read.email scope?)');
      return null;
    }
    // A profile email that is no plausible address (too long, control or text-direction
    // characters) is no identity Conductor acts for: the person is told they cannot be identified.
    const checked = checkEmail(profileEmail);
    if (!checked.ok) {
      this.log.warn({ slackId, reason: checked.reason, length: profileEmail.length }, 'Slack profile email refused as an identity');
      return null;
    }
    await this.remember(checked.email, slackId);
    return checked.email;
  }

  /** The name Slack shows for the user (display name, else real name); null when Slack has none. Not cached: rarely asked. */
  async displayNameOf(slackId: string): Promise<string | null> {
    const res = await this.client.users.info({ user: slackId });
    const p = res.user?.profile;
    return p?.display_name?.trim() || p?.real_name?.trim() || res.user?.real_name?.trim() || null;
  }

  /** The Slack user id for an email, or null when nobody in the workspace has it (cached both ways). */
  async idOf(email: string): Promise<string | null> {
    const key = email.toLowerCase();
    const row = await this.db.slackUser.findUnique({ where: { email: key } });
    const age = row ? this.clock().getTime() - row.checkedAt.getTime() : Infinity;
    if (row && ((row.slackId && age < HIT_TTL_MS) || (!row.slackId && age < MISS_TTL_MS))) return row.slackId;
    try {
      const res = await this.client.users.lookupByEmail({ email: key });
      const id = res.user?.id ?? null;
      await this.remember(key, id);
      return id;
    } catch (err) {
      if ((err as { data?: { error?: string } }).data?.error === 'users_not_found') {
        await this.remember(key, null);
        return null;
      }
      throw err;
    }
  }

  /** A mention when the person is on Slack, else their email. */
  async mention(email: string): Promise<string> {
    const id = await this.idOf(email);
    return id ? `<@${id}>` : email;
  }

  private async remember(email: string, slackId: string | null): Promise<void> {
    const now = this.clock();
    // Another email may have held this Slack id before (the person changed address): it moves.
    if (slackId) await this.db.slackUser.updateMany({ where: { slackId, NOT: { email } }, data: { slackId: null, checkedAt: now } });
    await this.db.slackUser.upsert({
      where: { email },
      create: { email, slackId, checkedAt: now },
      update: { slackId, checkedAt: now },
    });
  }
}
