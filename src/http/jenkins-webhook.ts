import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallbackOutcome, JenkinsCallback } from '../integrations/jenkins/jenkins-runner.js';
import { type Handler, HttpError, readBody, sendJson } from './router.js';

/**
 * `POST /webhooks/jenkins`: a Jenkins build reports its result before
 * Conductor's poller sees it. The Jenkinsfile adds, in `post { always { … } }`:
 *
 *   sh 'curl -fsS -X POST -H "Authorization: Bearer $JENKINS_WEBHOOK_TOKEN" -H "Content-Type: application/json" -d "{\"jobId\": $CONDUCTOR_JOB_ID, \"build\": \"$BUILD_URL\", \"result\": \"' + currentBuild.currentResult + '\"}" "$CONDUCTOR_URL/webhooks/jenkins"'
 *
 * (`JENKINS_WEBHOOK_TOKEN` from a Jenkins secret-text credential via
 * `withCredentials`; `CONDUCTOR_JOB_ID` and `CONDUCTOR_URL` are build parameters.)
 *
 * Answers: 401 without `Authorization: Bearer <token>`; 400 for a body that is
 * not JSON or has bad fields; 409 when the build is unknown or its result was
 * already reported; 200 `{status: 'accepted'}` when the result was taken.
 * Nothing changes on a refused request.
 */

export interface JenkinsCallbackTarget {
  handleCallback(body: JenkinsCallback): Promise<CallbackOutcome>;
}

const RESULT = /^[A-Z_]{1,32}$/;

export function jenkinsWebhookHandler(opts: { token: string; runner: JenkinsCallbackTarget; log: Logger }): Handler {
  if (!opts.token) throw new Error('jenkinsWebhookHandler needs a token');
  const expected = digest(opts.token);
  const log = opts.log.child({ component: 'jenkins-webhook' });
  return async ({ req, res }) => {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      sendJson(res, 401, { error: 'missing or wrong bearer token' });
      return;
    }
    let body: JenkinsCallback;
    try {
      body = parse(await readBody(req, 64 * 1024));
    } catch (err) {
      if (err instanceof HttpError) {
        sendJson(res, err.status, { error: err.message });
        return;
      }
      throw err;
    }
    const outcome = await opts.runner.handleCallback(body);
    log.info({ jobId: body.jobId, build: body.build, result: body.result, outcome }, 'jenkins callback');
    if (outcome === 'accepted') sendJson(res, 200, { status: 'accepted' });
    else if (outcome === 'finished') sendJson(res, 409, { error: 'the result of this build was already reported' });
    else sendJson(res, 409, { error: 'no running Conductor job matches this build' });
  };
}

/** Hashing first makes the comparison timing-safe whatever the lengths. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function parse(raw: Buffer): JenkinsCallback {
  let data: unknown;
  try {
    data = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new HttpError(400, 'the body must be a JSON object');
  const o = data as Record<string, unknown>;
  const out: JenkinsCallback = { result: '' };
  if (o.jobId !== undefined) {
    const id = typeof o.jobId === 'string' && /^\d+$/.test(o.jobId) ? Number(o.jobId) : o.jobId;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new HttpError(400, 'jobId must be a positive integer');
    out.jobId = id;
  }
  if (o.build !== undefined) {
    if (typeof o.build !== 'string' || !/^https?:\/\/\S+$/.test(o.build) || o.build.length > 2048) throw new HttpError(400, 'build must be the build URL');
    out.build = o.build;
  }
  if (o.number !== undefined) {
    if (typeof o.number !== 'number' || !Number.isSafeInteger(o.number) || o.number <= 0) throw new HttpError(400, 'number must be a positive integer');
    out.number = o.number;
  }
  if (typeof o.result !== 'string' || !RESULT.test(o.result.trim().toUpperCase())) {
    throw new HttpError(400, 'result must be a Jenkins result such as SUCCESS or FAILURE');
  }
  out.result = o.result.trim().toUpperCase();
  if (out.jobId === undefined && out.build === undefined) throw new HttpError(400, 'jobId or build is required');
  return out;
}
