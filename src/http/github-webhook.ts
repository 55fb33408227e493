import type { Logger } from 'pino';
import { NOT_CONTIGUOUS } from '../engine/inputs.js';
import type { NewCommits } from '../engine/ports/code-host.js';
import { MalformedPushError, type PushEvent, parsePushEvent } from '../integrations/github/push.js';
import { verifyGithubSignature } from '../integrations/github/signature.js';
import { type Handler, readBody, sendJson } from './router.js';

/** GitHub caps webhook payloads at 25 MB. */
export const GITHUB_WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

export interface GithubWebhookLine {
  name: string;
  /** `owner/name` (compared case-insensitively). */
  repo: string;
  branch: string;
}

export interface GithubWebhookOptions {
  /** GITHUB_WEBHOOK_SECRET. */
  secret: string;
  lines: GithubWebhookLine[];
  /** Records the pushed commits in one transaction, deduped by SHA and by `inputKey` (recordCommits). */
  record: (line: string, sinceSha: string, found: NewCommits, inputKey: string) => Promise<{ ok: boolean; text: string }>;
  /** A git fetch of the line's remote (Scheduler.fetchNow); used when the payload cannot be trusted to be complete. */
  fetchNow: (line: string) => Promise<void>;
  log: Logger;
}

/** Why a signature was refused, for the log (never the secret or the signature itself). */
function signatureProblem(header: string | undefined): string {
  if (header === undefined) return 'missing X-Hub-Signature-256';
  if (!/^sha256=[0-9a-fA-F]{64}$/.test(header.trim())) return 'malformed X-Hub-Signature-256';
  return 'X-Hub-Signature-256 does not match the body';
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `POST /webhooks/github` (behaviour.md §2 rule 1, §4 "Code"). Verifies the HMAC over
 * the raw body before anything else, then:
 * - `ping` → 200; other events → 202 ignored;
 * - a push to a branch no line watches, a tag, or a deletion (of a branch or a tag, said as such) → 202 ignored;
 * - a plain push listing every commit → the commits are recorded in one
 *   transaction keyed by `github:<X-GitHub-Delivery>` (a redelivery is a no-op) → 200;
 * - a forced push, a created branch, a payload that may be truncated or lists
 *   no commits → 202 at once and a git fetch in the background (the fetch
 *   path handles rewrites and long pushes).
 */
// Over 80 lines on purpose: the route's checks in the order a request meets them (signature, event, payload, line).
export function githubWebhookHandler(opts: GithubWebhookOptions): Handler {
  const lines = opts.lines.map((l) => ({ ...l, repo: l.repo.toLowerCase() }));

  return async ({ req, res, log: requestLog }) => {
    const raw = await readBody(req, GITHUB_WEBHOOK_BODY_LIMIT);
    const event = header(req.headers['x-github-event']);
    const delivery = header(req.headers['x-github-delivery']);
    // The route's logger (with the server's requestId) under the caller's bindings.
    const log = opts.log.child({ ...requestLog.bindings(), githubEvent: event, githubDelivery: delivery });

    const signature = header(req.headers['x-hub-signature-256']);
    if (!verifyGithubSignature(raw, signature, opts.secret)) {
      const reason = signatureProblem(signature);
      log.warn({ reason }, 'github webhook refused');
      return sendJson(res, 401, { ok: false, error: reason });
    }
    if (!delivery || delivery.length > 200) {
      log.warn({ reason: 'missing X-GitHub-Delivery' }, 'github webhook refused');
      return sendJson(res, 400, { ok: false, error: 'X-GitHub-Delivery must be 1 to 200 characters' });
    }
    if (!event) {
      log.warn({ reason: 'missing X-GitHub-Event' }, 'github webhook refused');
      return sendJson(res, 400, { ok: false, error: 'X-GitHub-Event is missing' });
    }

    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      log.warn({ reason: 'body is not JSON' }, 'github webhook refused');
      return sendJson(res, 400, { ok: false, error: 'the body is not valid JSON' });
    }

    if (event === 'ping') {
      const zen = typeof payload === 'object' && payload !== null && 'zen' in payload && typeof payload.zen === 'string' ? payload.zen : '';
      log.info('github ping');
      return sendJson(res, 200, { ok: true, zen });
    }
    if (event !== 'push') return sendJson(res, 202, { ok: true, ignored: event });

    let push: PushEvent;
    try {
      push = parsePushEvent(payload);
    } catch (err) {
      if (!(err instanceof MalformedPushError)) throw err;
      log.warn({ reason: err.message }, 'github webhook refused');
      return sendJson(res, 400, { ok: false, error: `malformed push payload: ${err.message}` });
    }

    if (push.deleted) {
      const what = push.branch !== null ? 'branch deleted' : push.ref.startsWith('refs/tags/') ? 'tag deleted' : `not a branch: ${push.ref} deleted`;
      return sendJson(res, 202, { ok: true, ignored: what });
    }
    if (push.branch === null) return sendJson(res, 202, { ok: true, ignored: `not a branch: ${push.ref}` });
    const watching = lines.filter((l) => l.repo === push.repo && l.branch === push.branch);
    if (watching.length === 0) return sendJson(res, 202, { ok: true, ignored: `no line watches ${push.repo}@${push.branch}` });
    const names = watching.map((l) => l.name);

    const reconcile = push.forced || push.truncated || push.created || push.commits.length === 0;
    if (reconcile) {
      const why = push.forced ? 'forced' : push.truncated ? 'truncated' : push.created ? 'created' : 'no commits listed';
      log.info({ lines: names, why, after: push.after }, 'github push: fetching the remote');
      sendJson(res, 202, { ok: true, lines: names, fetching: why });
      for (const name of names) {
        opts.fetchNow(name).catch((err: unknown) => log.error({ err, line: name }, 'background fetch after a github push failed'));
      }
      return;
    }

    const found: NewCommits = { headSha: push.after, commits: push.commits, rewritten: false };
    const fetching: string[] = [];
    for (const name of names) {
      // One processed_input key per line: the key table is global.
      const inputKey = names.length === 1 ? `github:${delivery}` : `github:${delivery}:${name}`;
      const reply = await opts.record(name, push.before, found, inputKey);
      if (!reply.ok && reply.text === NOT_CONTIGUOUS) fetching.push(name);
    }
    if (fetching.length > 0) {
      // Answered 200 all the same: the delivery was taken, and the fetch records its commits in branch order.
      log.info({ lines: fetching, after: push.after, before: push.before }, 'github push does not continue the known head: fetching the remote');
      return sendJson(res, 200, { ok: true, lines: names, commits: push.commits.length, fetching: 'does not continue the known head' });
    }
    log.info({ lines: names, commits: push.commits.length, after: push.after }, 'github push recorded');
    sendJson(res, 200, { ok: true, lines: names, commits: push.commits.length });
  };
}
