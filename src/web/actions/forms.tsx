/**
 * The action buttons of the pages. Each is a small form that works without
 * JavaScript: a POST to `/lines/<line>/actions` with the CSRF token, a fresh
 * nonce (a second submission of the same form changes nothing) and the page to
 * come back to; or, for the commands that need confirmation, a GET to the
 * confirm page. With JavaScript, app.js sends `form[data-action]` without
 * leaving the page and shows the reply in place, and opens the confirm page of
 * a `form[data-confirm]` in a <dialog>.
 */
import { randomBytes } from 'node:crypto';
import type { ComponentChildren } from 'preact';
import type { LineActions, TrainActions } from '../../domain/allowed-actions.js';

export interface FormBase {
  line: string;
  csrf: string;
  /** The page to come back to (a path of this site). */
  back: string;
}

export const actionsHref = (line: string): string => `/lines/${encodeURIComponent(line)}/actions`;
export const confirmHref = (line: string): string => `/lines/${encodeURIComponent(line)}/confirm`;

/** One per rendered form: the request's idempotency key. */
export const newNonce = (): string => randomBytes(18).toString('base64url');

interface ArgsInput {
  label: string;
  placeholder?: string;
  required?: boolean;
  type?: 'text' | 'email';
}

function Args({ input, id }: { input: ArgsInput; id: string }) {
  return (
    <>
      <label for={id}>{input.label}</label>
      {input.type === 'email' ? (
        <input id={id} name="args" type="email" placeholder={input.placeholder} required={input.required} maxLength={320} autocomplete="off" />
      ) : (
        <input id={id} name="args" type="text" placeholder={input.placeholder} required={input.required} maxLength={500} autocomplete="off" />
      )}
    </>
  );
}

/** A POST that runs `command` (plus what is typed in `input`, when there is one). */
export function ActionForm({ base, command, label, input, id, danger }: { base: FormBase; command: string; label: string; input?: ArgsInput; id: string; danger?: boolean }) {
  return (
    <form class="action" method="post" action={actionsHref(base.line)} data-action="" data-testid={`action-${id}`}>
      <input type="hidden" name="_csrf" value={base.csrf} />
      <input type="hidden" name="nonce" value={newNonce()} />
      <input type="hidden" name="back" value={base.back} />
      <input type="hidden" name="command" value={command} />
      {input && <Args input={input} id={`args-${id}`} />}
      <button type="submit" class={danger ? 'danger' : undefined}>
        {label}
      </button>
    </form>
  );
}

/** A GET to the confirm page, which says what will happen and asks for the confirmation. */
export function ConfirmForm({ base, command, label, input, id }: { base: FormBase; command: string; label: string; input?: ArgsInput; id: string }) {
  return (
    <form class="action" method="get" action={confirmHref(base.line)} data-confirm="" data-testid={`action-${id}`}>
      <input type="hidden" name="command" value={command} />
      <input type="hidden" name="back" value={base.back} />
      {input && <Args input={input} id={`args-${id}`} />}
      <button type="submit" class="danger">
        {label}
      </button>
    </form>
  );
}

/** The train page's actions: only those the rules would accept from this person now. */
export function TrainActionsPanel({ base, n, a }: { base: FormBase; n: number; a: TrainActions }) {
  const any = Object.values(a).some(Boolean);
  if (!any) return null;
  return (
    <section aria-labelledby="actions" class="actions" data-testid="train-actions">
      <h2 id="actions">Actions</h2>
      <div class="action-list">
        {a.verify && <ActionForm base={base} id="verify" command={`verify ${n}`} label="Verify my changes" />}
        {a.reopen && <ActionForm base={base} id="reopen" command={`reopen ${n}`} label="Found a problem" input={{ label: 'What is wrong (optional)' }} />}
        {a.deploy && <ActionForm base={base} id="deploy" command="deploy" label="Deploy to production" />}
        {a.claimEngineer && <ActionForm base={base} id="engineer-me" command="engineer me" label="Become the engineer" />}
        {a.giveEngineer && <ActionForm base={base} id="engineer" command="engineer" label="Make engineer" input={{ label: 'Email of the new engineer', type: 'email', required: true }} />}
        {a.block && <ActionForm base={base} id="block" command="block" label="Block" input={{ label: 'Why block the deploy', required: true }} />}
        {a.unblock && <ActionForm base={base} id="unblock" command="unblock" label="Unblock" />}
        {a.retry && <ActionForm base={base} id="retry" command="retry" label="Retry the failed job" />}
        {a.extend && <ConfirmForm base={base} id="extend" command="extend" label="Extend with the platform…" />}
        {a.derail && <ConfirmForm base={base} id="derail" command="derail" label="Derail…" input={{ label: 'Why derail (optional)' }} />}
        {a.rollback && <ConfirmForm base={base} id="rollback" command={`rollback ${n}`} label={`Roll back to train #${n}…`} />}
      </div>
    </section>
  );
}

/**
 * The commits of one author, in one form whose buttons each revert one commit
 * (a submit button sends its own `command`): the hidden fields once per list
 * rather than once per commit keep a 5,000-commit train page small.
 */
export function RevertForm({ base, children }: { base: FormBase; children: ComponentChildren }) {
  return (
    <form class="revert" method="post" action={actionsHref(base.line)} data-action="">
      <input type="hidden" name="_csrf" value={base.csrf} />
      <input type="hidden" name="nonce" value={newNonce()} />
      <input type="hidden" name="back" value={base.back} />
      {children}
    </form>
  );
}

/** Revert one commit: a small button beside it, inside its author's RevertForm. */
export function RevertButton({ sha }: { sha: string }) {
  return (
    // Kept small: a 5,000-commit train page has hundreds of them (styled by `form.revert button`).
    <button type="submit" name="command" value={`revert ${sha}`} aria-label={`Revert ${sha.slice(0, 8)}`}>
      Revert
    </button>
  );
}

export interface PlatformChoice {
  sha: string;
  label: string;
}

/** The line page's actions (admins): start a train, emergency reset, mode. */
export function LineActionsPanel({ base, a, platform, mode }: { base: FormBase; a: LineActions; platform: PlatformChoice[]; mode: 'manual' | 'schedule' }) {
  if (!a.start && !a.emergency && !a.modeManual && !a.modeSchedule) return null;
  return (
    <section aria-labelledby="line-actions" class="actions" data-testid="line-actions">
      <h2 id="line-actions">Actions</h2>
      <div class="action-list">
        {a.start && <ActionForm base={base} id="start" command="start" label="Start a train with the platform" />}
        {a.start && platform.length > 0 && (
          <form class="action" method="post" action={actionsHref(base.line)} data-action="" data-testid="action-start-up-to">
            <input type="hidden" name="_csrf" value={base.csrf} />
            <input type="hidden" name="nonce" value={newNonce()} />
            <input type="hidden" name="back" value={base.back} />
            <input type="hidden" name="command" value="start" />
            <label for="args-start-up-to">Start a train up to</label>
            <select id="args-start-up-to" name="args">
              {platform.map((c) => (
                <option key={c.sha} value={c.sha}>
                  {c.label}
                </option>
              ))}
            </select>
            <button type="submit">Start</button>
          </form>
        )}
        {a.modeManual && (
          <ActionForm
            base={base}
            id="mode-manual"
            command="mode manual"
            label={mode === 'manual' ? 'Change the manual reason' : 'Switch to manual mode'}
            input={{ label: 'Why (optional)' }}
          />
        )}
        {a.modeSchedule && <ActionForm base={base} id="mode-schedule" command="mode schedule" label="Switch to schedule mode" />}
        {a.emergency && <ConfirmForm base={base} id="emergency" command="emergency" label="Emergency reset…" input={{ label: 'Why (optional)' }} />}
      </div>
    </section>
  );
}
