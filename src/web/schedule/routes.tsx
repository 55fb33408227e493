/**
 * `GET` and `POST /lines/<line>/schedule` (docs/behaviour.md §7): the schedule
 * page, and its forms turned into the `/conductor autotime …` / `freeze …`
 * command an admin types in Slack, run through the one command path
 * (prepareCommand + runPrepared) as the signed-in person. So the web has no
 * rules of its own: who may change the schedule, the replies and the audit
 * history are Slack's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { monthOf, parseMonth } from '../../domain/calendar.js';
import { isAdmin } from '../../domain/policy.js';
import { localDate } from '../../domain/schedule.js';
import { rowsByDay, rowsFromForm, scheduleCommand } from '../../domain/schedule-form.js';
import { type CommandRequest, type Prepared, prepareCommand, runPrepared } from '../../engine/commands.js';
import { IdempotencyKeyReusedError, type Reply } from '../../engine/engine.js';
import { HttpError, type Router } from '../../http/router.js';
import type { SignedIn } from '../auth/session.js';
import { type PageResult, page, readForm, renderPage, type WebContext } from '../context.js';
import { setFlash } from '../flash.js';
import { NotFound } from '../pages/parts.js';
import { queryOf, redirect } from '../respond.js';
import { type ScheduleProps, ScheduleView, scheduleHref } from './view.js';

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const newNonce = () => randomBytes(16).toString('base64url');

export function scheduleRoutes(router: Router, web: WebContext): void {
  router.add(
    'GET',
    '/lines/:line/schedule',
    page(web, async ({ req, params, me, flash }) => {
      const line = params.line ?? '';
      if (!web.engine.lines.has(line)) return notFound(line);
      // This page shows a schedule change's outcome beside its forms (and only this line's); the layout shows none.
      const outcome = flash && flash.line === line ? { ok: flash.ok, text: flash.text } : null;
      const props = await pageProps(web, line, me, queryOf(req).get('month'));
      return { title: `Schedule · ${line}`, body: <ScheduleView {...props} outcome={outcome} />, flash: null };
    }),
  );

  router.add('POST', '/lines/:line/schedule', async ({ req, res, params, log }) => {
    // Origin first, before the body is read; then the session's token (403, nothing changed).
    web.sessions.checkOrigin(req);
    const me = await web.sessions.whoIs(req, res);
    const form = await readForm(req);
    web.sessions.checkPost(req, me, form.get('_csrf') ?? undefined);
    const email = me!.email;
    const line = params.line ?? '';
    if (!web.engine.lines.has(line)) throw new HttpError(404, `no line is called ${line.slice(0, 100)}`);
    const month = parseMonth(form.get('month'));
    const back = `${scheduleHref(line)}${month ? `?month=${month}` : ''}`;

    const command = scheduleCommand((n) => form.get(n));
    const nonce = form.get('_nonce') ?? '';
    let wrong: Reply | null = command.ok ? null : { ok: false, text: command.error };
    let run: { req: CommandRequest; prepared: Prepared & { ok: true } } | null = null;
    if (command.ok) {
      const request: CommandRequest = {
        user: email,
        line,
        text: command.text,
        // The form's nonce makes a double submit (or a retry) one change; the fingerprint keeps the nonce to this very request.
        ...(NONCE.test(nonce) ? { inputKey: `web:${email}:${nonce}`, fingerprint: fingerprint(email, line, command.text) } : {}),
      };
      const prepared = prepareCommand(web.engine, request);
      if (prepared.ok) run = { req: request, prepared };
      else wrong = prepared.reply;
    }
    if (!run) {
      // Written wrong (the form's own check, or the parser's reply): nothing ran. The page comes back with what was sent, and why.
      log.info({ email, line, do: (form.get('do') ?? '').slice(0, 20), ok: false }, 'schedule form refused');
      const props = await pageProps(web, line, me!, month);
      const sent = form.get('do') === 'autotime' ? { rows: rowsFromForm((n) => form.get(n)), zoneValue: (form.get('timezone') ?? '').slice(0, 64) } : {};
      return renderPage(web, res, me, { status: 400, title: `Schedule · ${line}`, body: <ScheduleView {...props} {...sent} outcome={wrong} /> });
    }
    const reply = await runPrepared(web.engine, run.prepared, run.req).catch((err: unknown): Reply => {
      if (err instanceof IdempotencyKeyReusedError)
        return { ok: false, text: 'That form was already sent with other values (an old page?). Nothing changed: this page is current, make the change again.' };
      throw err;
    });
    log.info({ email, line, command: run.req.text.split(' ').slice(0, 2).join(' '), ok: reply.ok }, 'schedule change');
    await setFlash(res, web, { ...reply, line });
    redirect(res, back);
  });
}

function notFound(line: string): PageResult {
  return { status: 404, title: 'Not found', body: <NotFound what={`No line is called “${line.slice(0, 100)}”.`} /> };
}

function fingerprint(email: string, line: string, text: string): string {
  return createHash('sha256')
    .update(JSON.stringify(['web-schedule', email, line, text]))
    .digest('hex');
}

async function pageProps(web: WebContext, line: string, me: SignedIn, monthParam: string | null): Promise<Omit<ScheduleProps, 'outcome'>> {
  const { state } = await web.engine.read(line);
  const s = state.settings;
  const policy = web.engine.deps.config.policy;
  const today = localDate(web.engine.deps.clock(), s.timezone);
  return {
    line,
    timezone: s.timezone,
    mode: s.mode,
    windows: s.autoTime,
    rows: rowsByDay(s.autoTime),
    zoneValue: s.timezone,
    freezes: [...s.freezes].sort(),
    today,
    month: parseMonth(monthParam) ?? monthOf(today),
    admin: isAdmin(policy, me.email),
    admins: policy.admins,
    csrf: me.csrf,
    nonce: newNonce,
  };
}
