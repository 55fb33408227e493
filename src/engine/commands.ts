import type { Command } from '../commands/command.js';
import { parseCommand } from '../commands/parse.js';
import { usageFor, usageText } from '../commands/usage.js';
import * as domain from '../domain/index.js';
import { isAdmin, norm, refusals } from '../domain/index.js';
import { describeAutoTime, describeWindows } from '../domain/schedule.js';
import type { Engine, Reply } from './engine.js';
import { historyLine } from './history.js';
import { revertCommand } from './revert.js';
import { queueText, statusText, trainText } from './views.js';

export interface CommandRequest {
  /** The person, by email (Slack users are mapped to their email first). */
  user: string;
  /** Line named by the caller (API field); `--line` in the text wins. */
  line?: string;
  /** Slack: the lines mapped to the channel the command was typed in (`--line` still wins). */
  channelLines?: string[];
  text: string;
  /** Idempotency key of the request (Slack retry, button action); a replay changes nothing. */
  inputKey?: string;
  /** With a caller-chosen inputKey: a digest of the request, so the key cannot replay another one (RunOptions.fingerprint). */
  fingerprint?: string;
  /** Slack: turns a mention (`<@U123>`) into the person's email. */
  resolveSlackUser?: (userId: string) => Promise<string | null>;
  /** Slack: the person's display name (asked only by `revert`, which authors a commit with it). */
  displayName?: () => Promise<string | null>;
  /**
   * Web confirmations: checked on the state the rule decides on (under the line lock) when the
   * rule would carry the command out; a sentence refuses it when the line is no longer what the
   * person confirmed.
   */
  precondition?: (state: domain.LineState, ctx: domain.Context) => string | null;
}

export type Prepared = { ok: false; reply: Reply } | { ok: true; command: Command; line: string; actor: string };

/** Parses the text and picks the line; `help` and usage errors are answered here. */
export function prepareCommand(engine: Engine, req: CommandRequest): Prepared {
  const parsed = parseCommand(req.text);
  if (!parsed.ok) return { ok: false, reply: { ok: false, text: parsed.error } };
  const { command } = parsed;
  if (command.name === 'help') return { ok: false, reply: { ok: true, text: command.topic ? usageFor(command.topic) : usageText() } };
  const line = resolveLine(engine, parsed.line ?? req.line, req.channelLines);
  if (!line.ok) return { ok: false, reply: line };
  return { ok: true, command, line: line.name, actor: norm(req.user) };
}

/**
 * The one code path behind `/conductor …` in Slack and `POST /api/command`:
 * parse, pick the line, then read or run the use case.
 */
export async function executeCommand(engine: Engine, req: CommandRequest): Promise<Reply> {
  const p = prepareCommand(engine, req);
  if (!p.ok) return p.reply;
  return runPrepared(engine, p, req);
}

export async function runPrepared(engine: Engine, p: Prepared & { ok: true }, req: CommandRequest): Promise<Reply> {
  let command = p.command;
  if (command.name === 'engineer' && command.target.kind === 'slack') {
    const email = req.resolveSlackUser ? await req.resolveSlackUser(command.target.userId) : null;
    if (!email) return { ok: false, text: "I cannot find that person's email on Slack: name them by email instead." };
    command = { name: 'engineer', target: { kind: 'email', email } };
  }
  return dispatch(engine, p.line, p.actor, command, req);
}

function resolveLine(engine: Engine, wanted: string | undefined, channelLines?: string[]): { ok: true; name: string } | { ok: false; text: string } {
  const names = [...engine.lines.keys()];
  if (wanted) {
    if (engine.lines.has(wanted)) return { ok: true, name: wanted };
    return { ok: false, text: `Unknown line \`${wanted}\`. Lines: ${names.join(', ')}.` };
  }
  if (channelLines) {
    if (channelLines.length === 1) return { ok: true, name: channelLines[0]! };
    if (channelLines.length > 1) return { ok: false, text: `This channel serves several lines: add \`--line <name>\` (one of ${channelLines.join(', ')}).` };
    return { ok: false, text: `No line is mapped to this channel. Add \`--line <name>\` (one of ${names.join(', ')}), or run the command in a line's channel.` };
  }
  if (names.length === 1) return { ok: true, name: names[0]! };
  return { ok: false, text: `Several lines are configured: add \`--line <name>\` (one of ${names.join(', ')}).` };
}

// Over 80 lines on purpose: one case per command, a switch the compiler checks against the Command union.
async function dispatch(engine: Engine, line: string, actor: string, c: Command, req: CommandRequest): Promise<Reply> {
  const { inputKey, fingerprint, displayName, precondition } = req;
  const now = () => engine.deps.clock();
  // The rule first: a refusal says what the rule says (who may, what is not possible now); only a
  // command the rule would carry out is then held to the caller's precondition.
  const guarded = (decision: domain.Decision, state: domain.LineState, ctx: domain.Context): domain.Decision => {
    const stale = decision.ok ? precondition?.(state, ctx) : null;
    return stale ? domain.refuse(stale) : decision;
  };
  const run = (decide: (s: domain.LineState, ctx: domain.Context) => domain.Decision, extraTrains?: number[]) =>
    engine.run(line, actor, ({ state, ctx }) => ({ decision: guarded(decide(state, ctx), state, ctx) }), { inputKey, fingerprint, extraTrains, precheck: true });

  switch (c.name) {
    case 'help':
      return { ok: true, text: usageText() };
    case 'status': {
      const { state } = await engine.read(line);
      return { ok: true, text: statusText(state, now()) };
    }
    case 'queue': {
      const { state } = await engine.read(line);
      return { ok: true, text: queueText(state) };
    }
    case 'train': {
      const { state } = await engine.read(line, { extraTrains: [c.number] });
      const t = state.trains.find((x) => x.number === c.number);
      return t ? { ok: true, text: trainText(state, t) } : { ok: false, text: `There is no train #${c.number} on ${line}.` };
    }
    case 'history':
      return { ok: true, text: await historyText(engine, line, c.limit) };
    case 'autotime': {
      if (c.action === 'show') {
        const { state } = await engine.read(line);
        const s = state.settings;
        // With no windows, describeAutoTime already says what that means: do not say "never" and then "no windows".
        const auto = s.autoTime.length
          ? `Auto-time: ${describeWindows(s.autoTime, s.timezone)}. Right now: ${describeAutoTime(now(), s.autoTime, s.freezes, s.timezone)}.`
          : 'Auto-time is off: there are no windows, so trains start only when an admin runs `/conductor start`.';
        const mode = `The line is in ${s.mode} mode${s.manualReason ? ` (${s.manualReason})` : ''}.`;
        return { ok: true, text: `${auto} Freeze dates: ${s.freezes.join(', ') || 'none'}. ${mode}` };
      }
      const windows = c.action === 'set' ? c.windows : [];
      const tz = c.action === 'set' ? c.timezone : undefined;
      return run((s, ctx) => domain.setAutoTime(s, ctx, windows, tz));
    }
    case 'freeze': {
      if (c.action === 'list') {
        const { state } = await engine.read(line);
        return { ok: true, text: `Freeze dates: ${state.settings.freezes.join(', ') || 'none'}.` };
      }
      const { action, date } = c;
      return run((s, ctx) => domain.changeFreeze(s, ctx, action, date));
    }
    case 'start':
      return run((s, ctx) => domain.start(s, ctx, c.sha));
    case 'derail':
      return run((s, ctx) => domain.derail(s, ctx, c.reason));
    case 'extend':
      return run((s, ctx) => domain.extend(s, ctx));
    case 'emergency': {
      const ref = backupRef(line, now());
      return run((s, ctx) => domain.emergency(s, ctx, ref, c.reason));
    }
    case 'block':
      return run((s, ctx) => domain.block(s, ctx, c.reason));
    case 'unblock':
      return run((s, ctx) => domain.unblock(s, ctx));
    case 'deploy':
      return run((s, ctx) => domain.deploy(s, ctx));
    case 'retry':
      return run((s, ctx) => domain.retry(s, ctx));
    case 'verify':
      return run((s, ctx) => domain.verify(s, ctx, c.train), c.train ? [c.train] : undefined);
    case 'reopen':
      return run((s, ctx) => domain.reopen(s, ctx, c.train, c.reason), c.train ? [c.train] : undefined);
    case 'mode':
      return run((s, ctx) => domain.setMode(s, ctx, c.mode, c.reason));
    case 'rollback':
      return run((s, ctx) => domain.rollback(s, ctx, c.train), [c.train]);
    case 'job':
      return run((s, ctx) => domain.markJob(s, ctx, c.outcome, c.train), c.train ? [c.train] : undefined);
    case 'engineer': {
      if (c.target.kind === 'slack') return { ok: false, text: 'Name the person by email here (Slack mentions work in Slack).' };
      const who = c.target.kind === 'me' ? 'me' : c.target.email;
      return run((s, ctx) => domain.engineer(s, ctx, who));
    }
    case 'revert':
      return revertCommand(engine, line, actor, c.sha, { inputKey, fingerprint, displayName, extend: c.extend === true });
  }
}

/** `refs/conductor/backup/<line>/<timestamp>`, the timestamp in UTC like 20261124T101500Z. */
export function backupRef(line: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `refs/conductor/backup/${line}/${stamp}`;
}

async function historyText(engine: Engine, line: string, limit: number): Promise<string> {
  const [where, rows] = await Promise.all([
    engine.deps.db.line.findUnique({ where: { name: line }, select: { timezone: true } }),
    engine.deps.db.auditEntry.findMany({
      where: { line: { name: line } },
      orderBy: { id: 'desc' },
      take: limit,
      include: { train: { select: { number: true } } },
    }),
  ]);
  if (rows.length === 0) return 'No history yet.';
  const timezone = where?.timezone ?? 'UTC';
  return rows
    .map((r) => historyLine({ createdAt: r.createdAt, actor: r.actor, action: r.action, train: r.train?.number ?? null, details: (r.details ?? {}) as Record<string, unknown> }, timezone))
    .join('\n');
}

export { isAdmin, refusals };
