import type { Action, BuildInfo, JenkinsClient } from './jenkins-client.js';

/**
 * Finding in Jenkins what an earlier trigger of a Conductor job left behind.
 *
 * A trigger (`buildWithParameters`) whose response is lost (timeout,
 * connection reset after Jenkins queued it) makes `start` throw, and the
 * outbox retries it: without a look first, the retry would run the job a
 * second time (a second deploy). Every trigger carries CONDUCTOR_JOB_ID, so a
 * queue item or a build carrying the same identity is that earlier trigger.
 */

/** What an earlier trigger left: a queue item still waiting, or the build it became. */
export type Triggered = { kind: 'queued'; queueId: number } | { kind: 'build'; number: number; url: string | null; building: boolean };

/**
 * Parameters that identify the work and are the same on every retry of one
 * job. ENGINEER is left out: the train's engineer may change between two
 * attempts. CONDUCTOR_URL and LINE keep apart two Conductors (staging,
 * production) that share a Jenkins and whose job ids overlap. A search may
 * name only some of them (a stop knows no BRANCH): the others are not compared.
 */
const IDENTITY = ['CONDUCTOR_JOB_ID', 'TRAIN', 'LINE', 'SHA', 'BRANCH', 'CONDUCTOR_URL'] as const;

/** Only the fields read below, to keep the answers small. */
const QUEUE_TREE = 'items[id,task[name,url],actions[parameters[name,value]]]';
/** The newest builds are enough: a retry comes within minutes of the lost trigger. */
const BUILDS_TREE = 'builds[number,url,building,actions[parameters[name,value]]]{0,50}';
/** One build: is it still running, and whose work is it. */
const BUILD_TREE = 'number,url,building,actions[parameters[name,value]]';

/**
 * The queue first, then the builds: an item that leaves the queue between the
 * two looks is then found as a build (the other order could miss it).
 * `consumed` says which build URLs this runner already reported or stopped:
 * those are never adopted again. Throws when Jenkins cannot be asked (the
 * caller must not trigger blindly then).
 */
export async function findTriggered(client: JenkinsClient, name: string, params: Record<string, string>, consumed: (buildUrl: string) => boolean): Promise<Triggered | null> {
  const items = (await client.queue.list({ tree: QUEUE_TREE })) ?? [];
  for (const item of items) {
    if (typeof item?.id !== 'number' || item.cancelled) continue;
    if (!item.task?.url || jobNameOfUrl(item.task.url) !== normalizeName(name)) continue;
    if (sameWork(parametersOf(item.actions), params)) return { kind: 'queued', queueId: item.id };
  }
  const job = await client.job.get({ name, tree: BUILDS_TREE });
  for (const b of job?.builds ?? []) {
    if (typeof b?.number !== 'number') continue;
    if (b.url && consumed(b.url)) continue;
    if (sameWork(parametersOf(b.actions), params)) return { kind: 'build', number: b.number, url: b.url ?? null, building: b.building !== false };
  }
  return null;
}

/**
 * The build `<name>#<number>` that a start recorded, if it still exists and is
 * the work `params` describe: Jenkins numbers builds from 1 again when a job
 * is recreated, so a recorded number alone could name someone else's build.
 * null when it is gone (404) or is not this work. Throws when Jenkins cannot
 * be asked.
 */
export async function recordedBuild(
  client: JenkinsClient,
  name: string,
  number: number,
  params: Record<string, string>,
): Promise<{ number: number; url: string | null; building: boolean } | null> {
  let info: BuildInfo;
  try {
    info = await client.build.get(name, number, { tree: BUILD_TREE });
  } catch (err) {
    if ((err as { notFound?: boolean } | null)?.notFound) return null;
    throw err;
  }
  // The record names it: a missing parameter (one the Jenkins job does not declare) is no reason to doubt it, a different one is.
  if (!consistent(parametersOf(info?.actions), params)) return null;
  return { number, url: info?.url ?? null, building: info?.building !== false };
}

/** `web/build#12` → `{ name: 'web/build', number: 12 }`; Jenkins job names cannot contain `#`. */
export function parseExternalId(externalId: string): { name: string; number: number } | null {
  const m = /^(.+)#(\d+)$/.exec(externalId.trim());
  if (!m) return null;
  const number = Number(m[2]);
  return Number.isSafeInteger(number) && number > 0 ? { name: m[1]!, number } : null;
}

/**
 * CONDUCTOR_JOB_ID must be there and equal; the other identity parameters
 * must be equal when present (Jenkins drops parameters a job does not
 * declare, so their absence proves nothing).
 */
function sameWork(got: Map<string, string>, wanted: Record<string, string>): boolean {
  if (wanted.CONDUCTOR_JOB_ID === undefined || got.get('CONDUCTOR_JOB_ID') !== wanted.CONDUCTOR_JOB_ID) return false;
  return consistent(got, wanted);
}

/** No identity parameter that both sides name differs. */
function consistent(got: Map<string, string>, wanted: Record<string, string>): boolean {
  return IDENTITY.every((k) => wanted[k] === undefined || !got.has(k) || got.get(k) === wanted[k]);
}

function parametersOf(actions: (Action | null)[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of actions ?? []) {
    for (const p of a?.parameters ?? []) {
      if (typeof p?.name === 'string') out.set(p.name, p.value === null || p.value === undefined ? '' : String(p.value));
    }
  }
  return out;
}

/**
 * `http://ci/jenkins/job/web/job/build/` → `web/build`, whatever Jenkins's
 * root URL or context path. Anything after the job (a pipeline's
 * `…/job/build/12/` placeholder task) is not the job itself: null.
 */
function jobNameOfUrl(url: string): string | null {
  let parts: string[];
  try {
    parts = new URL(url, 'http://jenkins.invalid').pathname.split('/').filter(Boolean);
  } catch {
    return null;
  }
  const first = parts.indexOf('job');
  if (first < 0) return null;
  const names: string[] = [];
  let i = first;
  while (parts[i] === 'job' && parts[i + 1] !== undefined) {
    names.push(safeDecode(parts[i + 1]!));
    i += 2;
  }
  return i === parts.length ? names.join('/') : null;
}

function normalizeName(name: string): string {
  return name.split('/').filter(Boolean).join('/');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
