import type { Logger } from 'pino';
import type { Effect } from '../domain/index.js';
import { configuredKind, redactSecrets, revertAuthorName } from '../domain/index.js';
import { dispatchEffects, type EffectHandlers, type EffectItem, type OutboxPayloads } from './effects.js';
import type { Engine } from './engine.js';
import { PermanentEffectError } from './errors.js';
import { jobStarted } from './inputs.js';
import { notifyCommitted } from './notify.js';
import type { OutboxItem } from './outbox.js';
import type { BuildRunner } from './ports/build-runner.js';
import type { Chat } from './ports/chat.js';
import type { CodeHost } from './ports/code-host.js';
import type { TicketDesk } from './ports/ticket-desk.js';
import { extendAfterRevert, revertNotMade } from './revert.js';
import { ticketSyncGaveUp } from './tickets-outside.js';

/** The integrations of one line. */
export interface LinePorts {
  codeHost: CodeHost;
  runner: BuildRunner;
  tickets: TicketDesk;
}

export interface DeliveryDeps {
  engine: Engine;
  chat: Chat;
  ports: (line: string) => LinePorts;
  /** Look for new commits now (after Conductor itself pushed a revert or a reset). */
  fetchNow: (line: string) => Promise<void>;
  publicUrl: string;
  log: Logger;
  /** Handlers of the kinds features contribute (GitHub statuses, Slack's App Home refresh). */
  extra?: Partial<EffectHandlers>;
}

/** The kinds the engine delivers itself: the domain's effects and the ticket sync. */
type EngineKind = Effect['kind'] | 'ticket.sync';

/** Turns one outbox item into calls on the line's integrations. */
export function makeEffectHandler(deps: DeliveryDeps): (item: OutboxItem) => Promise<void> {
  return dispatchEffects({ ...engineEffectHandlers(deps), ...deps.extra });
}

/** The handlers of the kinds the engine owns, one per kind, each with its payload typed by its kind. */
export function engineEffectHandlers(deps: DeliveryDeps): Pick<EffectHandlers, EngineKind> {
  const { engine, chat } = deps;
  /** A domain effect names its line; an item for a line no longer configured can never be delivered. */
  const known = <K extends Effect['kind']>(item: EffectItem<K>): OutboxPayloads[K] => {
    const p = item.payload;
    if (!p.line || !engine.lines.has(p.line)) throw new PermanentEffectError(`unknown line in outbox item ${item.id}`);
    return p;
  };
  return {
    'ticket.sync': (item) => syncTicket(deps, item),
    'chat.announce': async (item) => {
      const p = known(item);
      return chat.announce({ line: p.line, train: p.train, text: p.text, broadcast: p.broadcast === true, key: item.idempotencyKey });
    },
    'chat.dm': async (item) => {
      const p = known(item);
      return chat.dm({ line: p.line, to: p.to, train: p.train, text: p.text, askVerify: p.askVerify, key: item.idempotencyKey });
    },
    'chat.card': async (item) => {
      const p = known(item);
      const { state } = await engine.read(p.line, { extraTrains: [p.train] });
      const train = state.trains.find((t) => t.number === p.train);
      if (!train) throw new PermanentEffectError(`train #${p.train} not found`);
      return chat.card({ line: p.line, state, train, key: item.idempotencyKey });
    },
    'job.start': async (item) => startJob(deps, known(item), item.idempotencyKey, item.attempts),
    'job.stop': async (item) => {
      const p = known(item);
      if (!p.jobId) return;
      // The runner may no longer follow the job (restarted since it started): what start recorded lets it find the build.
      const job = await engine.deps.db.job.findUnique({ where: { id: p.jobId }, select: { kind: true, sha: true, externalId: true } });
      const hint = job && { kind: job.kind, line: p.line, train: p.train, sha: job.sha, conductorUrl: deps.publicUrl, externalId: job.externalId };
      return deps.ports(p.line).runner.stop(p.jobId, hint ?? undefined);
    },
    'git.revert': async (item) => {
      const p = known(item);
      const key = item.idempotencyKey;
      const result = await deps.ports(p.line).codeHost.revert(p.sha, {
        idempotencyKey: key,
        requestedBy: { name: p.requestedByName ?? revertAuthorName(p.requestedBy), email: p.requestedBy },
      });
      if (!result.ok) {
        // Said once, in words, after the "is reverting" announcement; the requester gets a DM.
        await revertNotMade(engine, { line: p.line, sha: p.sha, requestedBy: p.requestedBy, reason: result.message, inputKey: key });
        return;
      }
      await deps.fetchNow(p.line);
      if (p.extend) await extendAfterRevert(engine, { line: p.line, train: p.extend.train, sha: p.sha, revertSha: result.revertSha, requestedBy: p.requestedBy });
    },
    'git.reset': async (item) => {
      const p = known(item);
      await deps.ports(p.line).codeHost.resetBranch(p.targetSha, p.backupRef);
      await deps.fetchNow(p.line);
    },
    'tickets.open': async (item) => openTickets(deps, known(item), item.idempotencyKey),
  };
}

/** Written by the saver (not a domain effect) when a ticket with an outside key changes state. */
async function syncTicket(deps: DeliveryDeps, item: EffectItem<'ticket.sync'>): Promise<void> {
  const t = item.payload;
  try {
    return await deps.ports(t.line).tickets.setDone(t.externalKey, t.done);
  } catch (err) {
    // Jira can never follow (its workflow has no way there, no permission, issue gone): the outbox closes the
    // item ("gave up: …") and the poll leaves that ticket alone (tickets-outside.ts). People are told through
    // an engine input (audit entry + announcement in one transaction, delivered by the outbox) rather than a
    // direct chat call here, so a Slack hiccup cannot lose the message. If recording it fails, that error is
    // not permanent: the outbox retries the whole item (the input is keyed by it, so it is told once).
    if (err instanceof PermanentEffectError) {
      const reason = err.summary ?? err.message;
      await ticketSyncGaveUp(deps.engine, { line: t.line, externalKey: t.externalKey, done: t.done, reason, inputKey: item.idempotencyKey });
    }
    throw err;
  }
}

async function openTickets(deps: DeliveryDeps, p: OutboxPayloads['tickets.open'], key: string): Promise<void> {
  const { engine } = deps;
  const { state } = await engine.read(p.line, { extraTrains: [p.train] });
  const train = state.trains.find((t) => t.number === p.train);
  if (!train) return;
  const opened = await deps.ports(p.line).tickets.open({ line: p.line, train, key });
  const verified = new Set(train.tickets.filter((k) => k.state === 'verified').map((k) => k.authorEmail));
  for (const o of opened) {
    await engine.deps.db.$transaction([
      engine.deps.db.ticket.updateMany({
        where: { train: { number: p.train, line: { name: p.line } }, authorEmail: o.authorEmail },
        data: { externalKey: o.externalKey, externalUrl: o.externalUrl },
      }),
      // Verified before the outside ticket existed: it must follow, through the same outbox item a
      // verify makes (retries, the give-up notice, and the poll leaving a given-up ticket alone).
      ...(verified.has(o.authorEmail) && o.externalKey
        ? [
            engine.deps.db.outboxItem.createMany({
              data: [
                {
                  lineId: null,
                  kind: 'ticket.sync',
                  payload: { kind: 'ticket.sync', line: p.line, externalKey: o.externalKey, done: true } satisfies OutboxPayloads['ticket.sync'],
                  idempotencyKey: `${key}:sync:${o.externalKey}`,
                  nextAttemptAt: engine.deps.clock(),
                },
              ],
              skipDuplicates: true,
            }),
          ]
        : []),
    ]);
  }
  // The tickets' keys and links are on the train's page.
  if (opened.length > 0)
    await notifyCommitted(engine.deps.pool, p.line, p.train).catch((err: unknown) => deps.log.warn({ err, line: p.line }, 'could not announce a change to the live pages'));
  if (opened.some((o) => verified.has(o.authorEmail))) engine.deps.onEffects?.();
}

async function startJob(deps: DeliveryDeps, p: OutboxPayloads['job.start'], key: string, attempts: number): Promise<void> {
  if (!p.jobId) throw new PermanentEffectError('job.start without a job id');
  const job = await deps.engine.deps.db.job.findUnique({ where: { id: p.jobId }, include: { train: true } });
  // Stopped (derail) or already started by an earlier delivery: nothing to do.
  if (!job || job.state !== 'queued') return;
  const cfg = deps.engine.lineConfig(p.line);
  const runner = deps.ports(p.line).runner;
  let handle: Awaited<ReturnType<typeof runner.start>>;
  try {
    handle = await runner.start({
      jobId: job.id,
      kind: job.kind,
      line: p.line,
      train: job.train.number,
      sha: job.sha,
      branch: cfg.branch,
      engineer: job.train.engineerEmail,
      conductorUrl: deps.publicUrl,
      timeoutMinutes: cfg.timeouts[configuredKind(job.kind)],
      idempotencyKey: key,
    });
  } catch (err) {
    await waiting(deps, p.line, job.id, job.train.number, job.kind, err, attempts);
    throw err; // the outbox retries with backoff
  }
  const recorded = await jobStarted(deps.engine, job.id, handle.externalId, handle.url);
  // The train was derailed while the job was starting: stop what we just started.
  if (!recorded.ok) {
    deps.log.info({ line: p.line, jobId: job.id }, 'job no longer wanted after start; stopping it');
    await runner.stop(job.id);
  }
}

/**
 * The runner (Jenkins) could not start the job: the job stays queued, its row
 * says what it waits for (shown on the card), and the first failure is told in
 * the train's thread. Nothing is lost: the outbox keeps retrying.
 */
async function waiting(deps: DeliveryDeps, line: string, jobId: number, train: number, kind: string, err: unknown, attempts: number): Promise<void> {
  // Shown on the card and in the thread: a runner's error may quote a URL with credentials.
  const reason = redactSecrets(err instanceof Error ? err.message : String(err), deps.engine.deps.config.secrets).slice(0, 300);
  const what = /jenkins/i.test(reason) ? 'Jenkins' : 'the job runner';
  const changed = await deps.engine.deps.db.job.updateMany({ where: { id: jobId, state: 'queued' }, data: { output: `waiting for ${what}: ${reason}` } });
  if (changed.count === 0) return;
  // The job's note is on the train's page. A lost notice costs a stale page, not a retry.
  await notifyCommitted(deps.engine.deps.pool, line, train).catch((err: unknown) => deps.log.warn({ err, line }, 'could not announce a change to the live pages'));
  if (attempts === 1) {
    await deps.chat
      .announce({ line, train, text: `The ${kind} of train #${train} is waiting for ${what} (${reason}). Conductor keeps retrying; nothing is lost.`, key: `job:${jobId}:waiting` })
      .catch((err: unknown) => deps.log.warn({ err, line }, 'could not tell the channel a job is waiting'));
  }
  const { state } = await deps.engine.read(line, { extraTrains: [train] });
  const t = state.trains.find((x) => x.number === train);
  if (t) await deps.chat.card({ line, state, train: t, key: `job:${jobId}:waiting:${attempts}` }).catch(() => undefined);
}
