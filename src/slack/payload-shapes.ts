import { z } from 'zod';

/**
 * The shapes of the Slack requests Conductor handles, checked before Bolt sees
 * them: Bolt dereferences fields without looking (a `null` body killed the
 * process inside its receiver; a `block_actions` without `user` or a
 * `view_submission` without `view` threw in a listener). Only the fields Bolt
 * and our listeners read are required; the rest is let through untouched.
 */
const id = z.string().min(1).max(255);
const user = z.object({ id, team_id: z.string().optional() });
const team = z.object({ id: z.string().optional() }).nullable().optional();
const channel = z.object({ id }).nullable().optional();

const urlVerification = z.object({ type: z.literal('url_verification'), challenge: z.string().max(1000) });

const eventCallback = z.object({
  type: z.literal('event_callback'),
  team_id: z.string().optional(),
  event_id: z.string().optional(),
  event: z.object({ type: z.string().min(1), user: z.string().optional(), tab: z.string().optional(), channel: z.unknown().optional() }),
});

const appRateLimited = z.object({ type: z.literal('app_rate_limited') });

const blockActions = z.object({
  type: z.literal('block_actions'),
  user,
  team,
  channel,
  trigger_id: z.string().optional(),
  response_url: z.string().optional(),
  container: z.object({}).nullable().optional(),
  message: z.object({}).nullable().optional(),
  view: z.object({ id, type: z.string().optional() }).nullable().optional(),
  actions: z.array(z.object({ action_id: id, block_id: z.string().optional(), type: z.string().optional(), value: z.string().optional(), action_ts: z.string().optional() })).min(1),
});

const viewPayload = z.object({
  id,
  callback_id: z.string(),
  private_metadata: z.string().optional(),
  type: z.string().optional(),
  team_id: z.string().optional(),
});
const viewSubmission = z.object({ type: z.literal('view_submission'), user, team, view: viewPayload });
const viewClosed = z.object({ type: z.literal('view_closed'), user, team, view: viewPayload });

/** A slash command is a form without `payload`: its fields are strings. */
const slashCommand = z.object({
  command: z.string().min(1),
  text: z.string().optional(),
  user_id: id,
  channel_id: id,
  trigger_id: z.string().min(1),
  response_url: z.string().min(1),
  team_id: z.string().optional(),
});

const TYPED = {
  url_verification: urlVerification,
  event_callback: eventCallback,
  app_rate_limited: appRateLimited,
  block_actions: blockActions,
  view_submission: viewSubmission,
  view_closed: viewClosed,
} as const;

export type ShapeCheck = { ok: true } | { ok: false; reason: string };

function explain(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'the payload does not have the expected shape';
  return `${issue.path.length ? issue.path.join('.') : 'the payload'}: ${issue.message}`;
}

/**
 * Pure: is `body` (the parsed JSON body, the parsed `payload` form field, or the
 * form fields of a slash command) a request Conductor handles, with the shape Bolt needs?
 */
export function checkSlackPayload(body: unknown, from: 'json' | 'payload' | 'form'): ShapeCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reason: 'the payload must be a JSON object' };
  if (from === 'form') {
    const r = slashCommand.safeParse(body);
    return r.success ? { ok: true } : { ok: false, reason: `slash command: ${explain(r.error)}` };
  }
  const type = (body as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, reason: 'type: must be a string' };
  const schema = (TYPED as Record<string, z.ZodType>)[type];
  if (!schema) return { ok: false, reason: `payloads of type ${JSON.stringify(type.slice(0, 50))} are not handled by Conductor` };
  // Events and url_verification come as JSON, interactivity as the `payload` form field.
  const interactive = type === 'block_actions' || type === 'view_submission' || type === 'view_closed';
  if (interactive !== (from === 'payload')) return { ok: false, reason: `a ${type} payload does not come ${from === 'payload' ? 'as a form field' : 'as a JSON body'}` };
  const r = schema.safeParse(body);
  return r.success ? { ok: true } : { ok: false, reason: `${type}: ${explain(r.error)}` };
}
