import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import { type Handler, HttpError, readBody, sendJson } from '../http/router.js';
import { checkSlackPayload } from './payload-shapes.js';

/** Slack's own limit on a request's age, applied both ways (a future timestamp is a replay window with no end). */
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;
/** Bolt's default body limit; Slack's payloads are far smaller. */
export const SLACK_BODY_LIMIT = 4 * 1024 * 1024;

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

export interface SlackEventsRouteOptions {
  signingSecret: string;
  /** Bolt's HTTPReceiver.requestListener. */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  now?: () => number;
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

/** Why a request is not signed by Slack, or null when it is. */
function signatureProblem(req: IncomingMessage, raw: Buffer, secret: string, nowMs: number): string | null {
  const signature = one(req.headers['x-slack-signature']);
  const stamp = one(req.headers['x-slack-request-timestamp']);
  if (!signature || !stamp) return 'missing X-Slack-Signature or X-Slack-Request-Timestamp';
  if (!/^\d{1,12}$/.test(stamp)) return 'malformed X-Slack-Request-Timestamp';
  const skew = Math.floor(nowMs / 1000) - Number(stamp);
  if (skew > SLACK_MAX_SKEW_SECONDS) return 'X-Slack-Request-Timestamp is more than 5 minutes old';
  if (skew < -SLACK_MAX_SKEW_SECONDS) return 'X-Slack-Request-Timestamp is more than 5 minutes in the future';
  const m = /^v0=([0-9a-f]{64})$/.exec(signature);
  if (!m) return 'malformed X-Slack-Signature';
  const expected = createHmac('sha256', secret).update(`v0:${stamp}:`).update(raw).digest();
  return timingSafeEqual(Buffer.from(m[1]!, 'hex'), expected) ? null : 'X-Slack-Signature does not match the body';
}

/**
 * `POST /slack/events` in front of Bolt's receiver: reads the body (413 over the
 * limit), verifies the signature and the timestamp in both directions (401),
 * parses the body the way Bolt will and checks its shape (400, with the reason
 * logged), and only then hands the request to Bolt with its body already read
 * (Bolt uses `req.rawBody` when present and verifies again, cheaply).
 */
export function slackEventsHandler(opts: SlackEventsRouteOptions): Handler {
  const now = opts.now ?? Date.now;
  return async ({ req, res, log }) => {
    const raw = await readBody(req, SLACK_BODY_LIMIT);
    const mediaType = (one(req.headers['content-type']) ?? '').split(';')[0]!.trim().toLowerCase();
    let form: ReturnType<typeof parseForm> | undefined;
    if (mediaType === FORM) {
      form = parseForm(raw.toString('utf8'));
      // Slack's SSL check is not signed (Bolt answers it without a signature too) and does nothing.
      if (form.ssl_check === '1') {
        res.writeHead(200);
        res.end();
        return;
      }
    }
    const unsigned = signatureProblem(req, raw, opts.signingSecret, now());
    if (unsigned) throw new HttpError(401, unsigned);
    if (mediaType !== FORM && mediaType !== JSON_TYPE) throw new HttpError(415, `the body must be ${FORM} or ${JSON_TYPE}`);

    let body: unknown;
    let from: 'json' | 'payload' | 'form';
    try {
      if (form) {
        const field = form.payload;
        from = field === undefined ? 'form' : 'payload';
        if (from === 'payload' && typeof field !== 'string') throw new HttpError(400, 'the payload form field must appear once');
        body = typeof field === 'string' ? JSON.parse(field) : form;
      } else {
        from = 'json';
        body = JSON.parse(raw.toString('utf8'));
      }
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, 'the body is not valid JSON');
    }
    const shape = checkSlackPayload(body, from);
    if (!shape.ok) throw new HttpError(400, shape.reason);

    // Bolt compares the content type exactly: give it the bare media type we parsed by.
    req.headers['content-type'] = mediaType;
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
    await new Promise<void>((resolve) => {
      res.once('close', resolve);
      try {
        opts.listener(req, res);
      } catch (err) {
        log.error({ err }, 'Bolt refused the request');
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal error; see the log' });
        resolve();
      }
    });
  };
}
