import { type Decision, Draft, refuse } from '../draft.js';
import type { Context, LineMode, LineState } from '../model.js';
import { isAdmin, refusals } from '../policy.js';
import { describeWindows } from '../schedule.js';
import type { AutoTimeWindow } from '../time.js';

/** Rule 14: mode, auto-time and freezes; admins only, all audited. `reason` is shown in status, on the card and in history. */
export function setMode(s: LineState, ctx: Context, mode: LineMode, reason?: string): Decision {
  if (!isAdmin(ctx.policy, ctx.actor)) return refuse(refusals.adminOnly('change the mode', ctx.policy));
  const why = reason?.trim() || null;
  const manualReason = mode === 'manual' ? why : null;
  // Switching to the same mode changes nothing, unless it gives manual mode a new reason (or clears an emergency's).
  if (s.settings.mode === mode && s.settings.manualReason === manualReason) return refuse(`The line is already in ${mode} mode${manualReason ? ` (${manualReason})` : ''}.`);
  const d = new Draft(s, ctx);
  const from = d.state.settings.mode;
  d.state.settings.mode = mode;
  d.state.settings.manualReason = manualReason;
  d.state.settings.manualSetBy = mode === 'manual' ? ctx.actor : null;
  const what = mode === 'manual' ? 'trains start only by hand' : 'trains start by themselves inside auto-time';
  const because = why ? ` (${why})` : '';
  d.announce(`${ctx.actor} switched the line to ${mode} mode${because}: ${what}.`);
  d.record('line.mode', null, { from, to: mode, reason: why });
  return d.finish(`The line is now in ${mode} mode${because}: ${what}.`);
}

export function setAutoTime(s: LineState, ctx: Context, windows: AutoTimeWindow[], timezone?: string): Decision {
  if (!isAdmin(ctx.policy, ctx.actor)) return refuse(refusals.adminOnly('change auto-time', ctx.policy));
  const d = new Draft(s, ctx);
  const before = describeWindows(s.settings.autoTime, s.settings.timezone);
  d.state.settings.autoTime = windows;
  if (timezone) d.state.settings.timezone = timezone;
  const after = describeWindows(windows, d.state.settings.timezone);
  // No windows is "off", not a schedule called "never": say what it means for the line.
  const off = 'off: there are no windows, so trains start only when an admin runs `/conductor start`';
  d.announce(windows.length ? `${ctx.actor} changed auto-time to ${after}.` : `${ctx.actor} turned auto-time ${off}.`);
  d.record('line.autotime', null, { before, after, windows, timezone: d.state.settings.timezone });
  return d.finish(windows.length ? `Auto-time is now ${after}.` : `Auto-time is now ${off}.`);
}

export function changeFreeze(s: LineState, ctx: Context, action: 'add' | 'remove', date: string): Decision {
  if (!isAdmin(ctx.policy, ctx.actor)) return refuse(refusals.adminOnly('change freeze dates', ctx.policy));
  const has = s.settings.freezes.includes(date);
  if (action === 'add' && has) return refuse(`${date} is already a freeze date.`);
  if (action === 'remove' && !has) return refuse(`${date} is not a freeze date.`);
  const d = new Draft(s, ctx);
  const freezes = action === 'add' ? [...s.settings.freezes, date].sort() : s.settings.freezes.filter((f) => f !== date);
  d.state.settings.freezes = freezes;
  d.announce(`${ctx.actor} ${action === 'add' ? 'added' : 'removed'} the freeze date ${date}.`);
  d.record(`line.freeze-${action}`, null, { date });
  return d.finish(`${action === 'add' ? `${date} is now a freeze date` : `${date} is no longer a freeze date`}. Freeze dates: ${freezes.length ? freezes.join(', ') : 'none'}.`);
}
