import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { type Handler, HttpError, readBody, sendJson } from './router.js';

/**
 * `POST /webhooks/jira`: a person moved a Conductor sub-task in Jira (to Done:
 * verified; out of Done: reopened). The polling of `JiraDesk.states` is the
 * safety net when a webhook is lost.
 *
 * Jira Cloud webhooks cannot sign their bodies, so the shared secret travels in
 * the URL. Configure in Jira (Settings → System → WebHooks → Create):
 *
 *   URL:    <CONDUCTOR_PUBLIC_URL>/webhooks/jira?secret=<JIRA_WEBHOOK_SECRET>
 *   Events: Issue → "updated"
 *   JQL:    labels = conductor
 *
 * (A proxy in front of Conductor may send the secret in an
 * `X-Conductor-Secret` header instead. Keep the secret out of access logs.)
 *
 * Answers: 401 without the right secret; 400 for a body that is not a JSON
 * object (or an issue update without an issue key); 202 `ignored` for other
 * events and for updates that do not change the status; 202 `unknown` when the
 * issue is not a Conductor ticket; 200 `applied` when the change was taken.
 * Conductor's own transitions come back here too: applying them again is a no-op.
 */
export interface JiraStatusChange {
  key: string;
  done: boolean;
  /** Who moved it in Jira (email when visible, else display name), for the audit log; absent when Jira does not say. */
  by?: string;
}

export interface JiraWebhookOptions {
  secret: string;
  onChange: (change: JiraStatusChange) => Promise<'applied' | 'unknown'>;
  /** Status name that means verified (case-insensitive), from `jira.doneStatus`. */
  doneStatus: string;
  log: Logger;
  /** Largest body accepted; Jira sends the whole issue. Default 4 MiB. */
  maxBodyBytes?: number;
}

export const JIRA_SECRET_HEADER = 'x-conductor-secret';

export function jiraWebhookHandler(opts: JiraWebhookOptions): Handler {
  if (!opts.secret) throw new Error('jiraWebhookHandler needs a secret');
  const expected = digest(opts.secret);
  const done = opts.doneStatus.trim().toLowerCase();
  const log = opts.log.child({ component: 'jira-webhook' });
  return async ({ req, res }) => {
    const header = req.headers[JIRA_SECRET_HEADER];
    const fromHeader = Array.isArray(header) ? header[0] : header;
    const fromQuery = new URL(req.url ?? '/', 'http://conductor.invalid').searchParams.get('secret');
    const given = fromHeader ?? fromQuery;
    if (given === undefined || given === null || !timingSafeEqual(digest(given), expected)) {
      sendJson(res, 401, { error: 'missing or wrong secret' });
      return;
    }
    let body: Record<string, unknown>;
    try {
      const raw = await readBody(req, opts.maxBodyBytes ?? 4 * 1024 * 1024);
      let data: unknown;
      try {
        data = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new HttpError(400, 'the body is not JSON');
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new HttpError(400, 'the body must be a JSON object');
      body = data as Record<string, unknown>;
    } catch (err) {
      if (err instanceof HttpError) {
        sendJson(res, err.status, { error: err.message });
        return;
      }
      throw err;
    }

    if (body.webhookEvent !== 'jira:issue_updated') {
      sendJson(res, 202, { status: 'ignored', reason: `event ${String(body.webhookEvent)} is not handled` });
      return;
    }
    const changelog = body.changelog as { items?: unknown } | undefined;
    const items = Array.isArray(changelog?.items) ? (changelog.items as Record<string, unknown>[]) : [];
    const change = items.find((i) => i && typeof i === 'object' && (i.field === 'status' || i.fieldId === 'status'));
    if (!change) {
      sendJson(res, 202, { status: 'ignored', reason: 'the status did not change' });
      return;
    }
    const issue = body.issue as { key?: unknown } | undefined;
    const key = issue?.key;
    if (typeof key !== 'string' || !/^[A-Z][A-Z0-9_]*-\d+$/.test(key)) {
      sendJson(res, 400, { error: 'issue.key is missing or not an issue key' });
      return;
    }
    // `toString` is the new status name (a JSON field, not Object.prototype.toString).
    const toValue: unknown = Object.hasOwn(change, 'toString') ? (change as { toString?: unknown }).toString : undefined;
    const to = typeof toValue === 'string' ? toValue : '';
    const isDone = to.trim().toLowerCase() === done;
    const user = body.user as { emailAddress?: unknown; displayName?: unknown } | undefined;
    const by = typeof user?.emailAddress === 'string' ? user.emailAddress : typeof user?.displayName === 'string' ? user.displayName : undefined;
    const outcome = await opts.onChange({ key, done: isDone, ...(by ? { by } : {}) });
    log.info({ key, from: change.fromString, to, done: isDone, by, outcome }, 'jira status change');
    if (outcome === 'applied') sendJson(res, 200, { status: 'applied', key, done: isDone });
    else sendJson(res, 202, { status: 'unknown', key });
  };
}

/** Hashing first makes the comparison timing-safe whatever the lengths. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
