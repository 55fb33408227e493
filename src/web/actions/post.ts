/**
 * `POST /lines/<line>/actions` (docs/behaviour.md §7 "Actions"): a command from
 * the pages, run through the one command path of Slack and `POST /api/command`
 * (prepareCommand + runPrepared) as the signed-in person. The Origin is checked
 * before anything is read, then the CSRF token; a forged request is answered
 * 403 and changes nothing. Without JavaScript the answer is a 303 back to the
 * page with the reply as a flash; with `Accept: application/json`, `{ok, text}`.
 */
import { createHash } from 'node:crypto';
import { confirmationMark, confirmCommandOf } from '../../domain/confirmation.js';
import type { Context, LineState } from '../../domain/model.js';
import { prepareCommand, runPrepared } from '../../engine/commands.js';
import { IdempotencyKeyReusedError } from '../../engine/engine.js';
import { type Handler, HttpError, sendJson } from '../../http/router.js';
import { readForm, type WebContext } from '../context.js';
import { setFlash } from '../flash.js';
import { redirect, safeNext } from '../respond.js';
import { confirmHref } from './forms.js';

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;

/** The command text of a form: the button's command, then what the person typed (a reason, an email, a SHA). */
export function commandText(form: URLSearchParams): string {
  const command = (form.get('command') ?? '').trim();
  const args = (form.get('args') ?? '').replace(/\s+/g, ' ').trim();
  return args ? `${command} ${args}` : command;
}

/** The digest a confirm form carries: what was confirmed (confirmationMark), bound to the command text. */
export function markDigest(text: string, mark: string): string {
  return createHash('sha256').update(text).update('\n').update(mark).digest('base64url').slice(0, 32);
}

export const STALE =
  'Nothing was done: the line changed since this confirmation was shown, so what you confirmed is no longer what would happen. Look at what it would do now and confirm again if you still mean it.';

/** Where to come back to: a path of this site, else the line's page. */
const backOf = (form: URLSearchParams, line: string): string => {
  const back = safeNext(form.get('back'));
  return back === '/' && form.get('back') !== '/' ? `/lines/${encodeURIComponent(line)}` : back;
};

export function actionRoute(web: WebContext): Handler {
  return async ({ req, res, params, log }) => {
    const line = params.line ?? '';
    // Origin first: a cross-site request is refused before its body or session is read.
    web.sessions.checkOrigin(req);
    const me = await web.sessions.whoIs(req, res);
    const form = await readForm(req);
    const header = req.headers['x-csrf-token'];
    web.sessions.checkPost(req, me, typeof header === 'string' ? header : (form.get('_csrf') ?? undefined));
    if (!me) throw new HttpError(403, 'not signed in'); // checkPost already refused; for the compiler
    if (!web.engine.lines.has(line)) throw new HttpError(404, `no line ${line.slice(0, 100)}`);
    const wantsJson = /application\/json/i.test(String(req.headers.accept ?? ''));
    const back = backOf(form, line);
    const text = commandText(form);
    const answer = (ok: boolean, reply: string, status = 200, extra: Record<string, unknown> = {}, to = back) => {
      if (wantsJson) return sendJson(res, status, { ok, text: reply, ...extra });
      return setFlash(res, web, { ok, text: reply }).then(() => redirect(res, to));
    };

    const prepared = prepareCommand(web.engine, { user: me.email, line, text });
    if (!prepared.ok) return answer(prepared.reply.ok, prepared.reply.text);
    // `--line` in a reason must not send a form of one line's page to another line.
    if (prepared.line !== line) return answer(false, `This form acts on ${line}: run commands for ${prepared.line} from its own page.`);
    const name = prepared.command.name;
    if (!ACTIONS.has(name)) return answer(false, `\`${name}\` is not an action of the pages: use \`/conductor ${name}\` in Slack or the command API.`);

    let precondition: ((state: LineState, ctx: Context) => string | null) | undefined;
    const mark = form.get('mark') ?? '';
    const confirmKind = confirmCommandOf(prepared.command);
    if (confirmKind) {
      // Derail, extend, emergency and rollback act only once confirmed, on the state that was confirmed.
      const confirm = `${confirmHref(line)}?${new URLSearchParams({ command: text, back })}`;
      if (!mark) return wantsJson ? answer(false, 'This action needs a confirmation first.', 200, { confirm }) : redirect(res, confirm);
      const args = confirmArgsOf(prepared.command);
      precondition = (state, ctx) => (markDigest(text, confirmationMark(state, confirmKind, { ...args, now: ctx.now })) === mark ? null : STALE);
    }

    const nonce = form.get('nonce') ?? '';
    if (nonce && !NONCE.test(nonce)) throw new HttpError(400, 'malformed nonce');
    const keyed = nonce
      ? {
          // Scoped to the person: nobody's nonce can touch another person's request.
          inputKey: `web:${me.email}:${nonce}`,
          fingerprint: createHash('sha256')
            .update(JSON.stringify([me.email, line, text, mark]))
            .digest('hex'),
        }
      : {};
    let reply: { ok: boolean; text: string };
    try {
      reply = await runPrepared(web.engine, prepared, { user: me.email, line, text, ...keyed, precondition });
    } catch (err) {
      if (err instanceof IdempotencyKeyReusedError) return answer(false, 'This form was already used for another request: reload the page and try again.', wantsJson ? 422 : 200);
      throw err;
    }
    log.info({ user: me.email, line, command: name, ok: reply.ok }, 'web action');
    // A stale confirmation goes back to the confirm page, which says what would happen now.
    if (!reply.ok && reply.text === STALE) return answer(false, reply.text, 200, {}, `${confirmHref(line)}?${new URLSearchParams({ command: text, back })}`);
    return answer(reply.ok, reply.text);
  };
}

/** The commands the pages send (SPEC §7 "Actions"); reading commands stay in Slack and the API. */
const ACTIONS = new Set(['verify', 'reopen', 'deploy', 'engineer', 'block', 'unblock', 'retry', 'extend', 'derail', 'rollback', 'revert', 'start', 'emergency', 'mode', 'job']);

export function confirmArgsOf(c: { name: string }): { reason?: string; train?: number; sha?: string } {
  const x = c as { reason?: string; train?: number; sha?: string };
  return { reason: x.reason, train: x.train, sha: x.sha };
}
