/**
 * `GET /lines/<line>/confirm?command=…` (docs/behaviour.md §7): what derail,
 * extend, emergency or rollback will do, in the words of Slack's confirmation
 * (the same function writes both: src/domain/confirmation.ts), and a form that
 * runs it once confirmed. The form carries a digest of what was shown; the
 * command is refused if the line changed before the confirmation arrived.
 * Works without JavaScript.
 */
import { confirmRefusal } from '../../domain/allowed-actions.js';
import { confirmAdvice, confirmationMark, confirmCommandOf, describeConfirmation } from '../../domain/confirmation.js';
import { backupRef, prepareCommand } from '../../engine/commands.js';
import type { RouteContext } from '../../http/router.js';
import type { SignedIn } from '../auth/session.js';
import type { PageResult, WebContext } from '../context.js';
import { NotFound, Prose } from '../pages/parts.js';
import { queryOf, safeNext } from '../respond.js';
import { actionsHref, newNonce } from './forms.js';
import { confirmArgsOf, markDigest } from './post.js';

export async function confirmPage(web: WebContext, ctx: RouteContext & { me: SignedIn }): Promise<PageResult> {
  const line = ctx.params.line ?? '';
  if (!web.engine.lines.has(line)) return { status: 404, title: 'Not found', body: <NotFound what={`No line is called “${line.slice(0, 100)}”.`} /> };
  const q = queryOf(ctx.req);
  const command = (q.get('command') ?? '').trim();
  const args = (q.get('args') ?? '').replace(/\s+/g, ' ').trim();
  const text = args ? `${command} ${args}` : command;
  const back = safeNext(q.get('back') ?? `/lines/${encodeURIComponent(line)}`);
  const refused = (why: string, status = 200): PageResult => {
    // A 400 says why in the log too, as the router's refusals do (the page says it to the person).
    if (status === 400) ctx.log.warn({ status, route: '/lines/:line/confirm', reason: why.slice(0, 300) }, 'request refused');
    return { status, title: 'Nothing to confirm', body: <Refused text={why} back={back} /> };
  };

  const p = prepareCommand(web.engine, { user: ctx.me.email, line, text });
  if (!p.ok) return refused(p.reply.text, 400);
  const name = confirmCommandOf(p.command);
  if (p.line !== line || !name) return refused(`\`${text.slice(0, 200)}\` needs no confirmation on ${line}.`, 400);
  const arg = confirmArgsOf(p.command);
  const { state } = await web.engine.read(line, { extraTrains: arg.train !== undefined ? [arg.train] : [] });
  const now = web.engine.deps.clock();
  const why = confirmRefusal(state, web.engine.context(ctx.me.email), name, arg);
  if (why) return refused(why);
  const what = describeConfirmation(state, name, { ...arg, backupRefPreview: backupRef(line, now), now });
  const mark = markDigest(text, confirmationMark(state, name, { ...arg, now }));
  return {
    // Not live: the words stay those the person reads; a change meanwhile is caught by the mark.
    title: what.title,
    body: (
      <section class="confirm" aria-labelledby="confirm-title" data-testid="confirm">
        <h1 id="confirm-title">{what.title}</h1>
        <p class="confirm-question">
          <strong>
            {'Run '}
            <code>{`/conductor ${text}`}</code>
            {` on ${line}?`}
          </strong>
        </p>
        <ul class="confirm-lines" data-testid="confirm-lines">
          {what.lines.map((l, i) => (
            <li key={i}>
              <Prose text={l} />
            </li>
          ))}
        </ul>
        <p class="muted">
          {/* Slack's sentence; its `*…*` (a button's name) in bold here too. */}
          {confirmAdvice(what.danger)
            .split('*')
            .map((part, i) => (i % 2 === 1 ? <strong key={i}>{part}</strong> : part))}
        </p>
        <form method="post" action={actionsHref(line)} class="confirm-form">
          <input type="hidden" name="_csrf" value={ctx.me.csrf} />
          <input type="hidden" name="nonce" value={newNonce()} />
          <input type="hidden" name="back" value={back} />
          <input type="hidden" name="command" value={text} />
          <input type="hidden" name="mark" value={mark} />
          <button type="submit" class={what.danger ? 'danger' : undefined} data-testid="confirm-button">
            Confirm
          </button>{' '}
          <a class="button secondary" href={back}>
            Cancel
          </a>
        </form>
      </section>
    ),
  };
}

function Refused({ text, back }: { text: string; back: string }) {
  return (
    <section class="confirm" data-testid="confirm-refused">
      <h1 id="confirm-title">Nothing to confirm</h1>
      <p class="why">
        <Prose text={text} />
      </p>
      <p>
        <a href={back}>Back</a>
      </p>
    </section>
  );
}
