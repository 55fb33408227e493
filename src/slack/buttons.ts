import * as domain from '../domain/index.js';
import { type Context, type Decision, failedDeploys, goingTrain, isLive, type LineState, type Train } from '../domain/index.js';
import { executeCommand } from '../engine/commands.js';
import type { Engine, Reply } from '../engine/engine.js';
import { ACTIONS, type ActionId, type ActionValue } from './registrations.js';

/**
 * A button names the train it was drawn for. Rules like deploy act on "the
 * going train", so a button on an old card must not act on a newer train:
 * the check runs inside the line lock, with the decision.
 */
function guarded(
  engine: Engine,
  value: ActionValue,
  actor: string,
  inputKey: string,
  targetOf: (s: LineState) => number[],
  decide: (s: LineState, ctx: Context) => Decision,
  /** What the button does, when only the engineer or an admin may do it: they are told so before a stale card is. */
  drive?: string | ((train: Train | undefined) => string),
): Promise<Reply> {
  return engine.run(
    value.line,
    actor,
    ({ state, ctx }) => {
      if (drive) {
        const train = domain.findTrain(state, value.train) ?? domain.currentTrain(state);
        const what = typeof drive === 'string' ? drive : drive(train);
        if (!domain.canDrive(ctx.policy, train, ctx.actor)) return { decision: domain.refuse(domain.refusals.engineerOrAdmin(what, train)) };
      }
      if (!targetOf(state).includes(value.train)) {
        const live = state.trains.filter(isLive).map((t) => `#${t.number}`);
        return { decision: domain.refuse(`Train #${value.train} is no longer the train this button acts on${live.length ? ` (live: ${live.join(', ')})` : ''}.`) };
      }
      return { decision: decide(state, ctx) };
    },
    { inputKey, precheck: true },
  );
}

const going = (s: LineState) => {
  const t = goingTrain(s);
  return t ? [t.number] : [];
};
const live = (s: LineState) => s.trains.filter(isLive).map((t) => t.number);
const derailable = (s: LineState) => [...failedDeploys(s).map((t) => t.number), ...going(s)];

export async function pressButton(engine: Engine, action: ActionId, value: ActionValue, actor: string, inputKey: string): Promise<Reply> {
  switch (action) {
    case ACTIONS.verify:
      return executeCommand(engine, { user: actor, line: value.line, text: `verify ${value.train}`, inputKey });
    case ACTIONS.reopen:
      return executeCommand(engine, { user: actor, line: value.line, text: `reopen ${value.train}`, inputKey });
    case ACTIONS.deploy:
      return guarded(engine, value, actor, inputKey, going, (s, ctx) => domain.deploy(s, ctx), 'deploy');
    case ACTIONS.claim:
      return guarded(
        engine,
        value,
        actor,
        inputKey,
        (s) => {
          const t = domain.currentTrain(s);
          return t ? [t.number] : [];
        },
        (s, ctx) => domain.engineer(s, ctx, 'me'),
      );
    case ACTIONS.retry:
      return guarded(
        engine,
        value,
        actor,
        inputKey,
        live,
        (s, ctx) => domain.retry(s, ctx),
        (t) => `retry the ${t?.state === 'deploying' ? 'deploy' : 'build'}`,
      );
    case ACTIONS.extend:
      return guarded(engine, value, actor, inputKey, going, (s, ctx) => domain.extend(s, ctx), 'extend the train');
    case ACTIONS.derail:
      return guarded(engine, value, actor, inputKey, derailable, (s, ctx) => domain.derail(s, ctx, 'derailed from Slack'), 'derail the train');
    case ACTIONS.revertExtend: {
      // The button names the train; the culprit is the one its search found. The command's rule checks the rest under the lock.
      const { state } = await engine.read(value.line);
      const going = goingTrain(state);
      const culprit = going?.number === value.train && going.bisect?.state === 'found' ? going.bisect.culprit : null;
      if (!culprit) return { ok: false, text: `Train #${value.train} has no culprit to revert now: the button is from an earlier state of the train.` };
      return executeCommand(engine, { user: actor, line: value.line, text: `revert ${culprit.sha} and extend`, inputKey });
    }
  }
}

export function parseActionValue(raw: string | undefined): ActionValue | null {
  try {
    const v = JSON.parse(raw ?? '') as Partial<ActionValue>;
    if (typeof v.line === 'string' && Number.isInteger(v.train) && (v.train as number) > 0) return { line: v.line, train: v.train as number };
  } catch {
    /* fall through */
  }
  return null;
}
