import type { CommitInfo } from '../../engine/ports/code-host.js';

/** GitHub's push payload carries at most this many commits (timeline events; we treat webhooks the same way). */
export const PUSH_COMMITS_LIMIT = 20;

/** What Conductor needs from a `push` event. */
export interface PushEvent {
  /** `owner/name`, lower-cased (GitHub names are case-insensitive). */
  repo: string;
  ref: string;
  /** `refs/heads/x` → `x`; null for tags and other refs. */
  branch: string | null;
  before: string;
  after: string;
  forced: boolean;
  deleted: boolean;
  created: boolean;
  /** Oldest first, as GitHub lists them. */
  commits: CommitInfo[];
  /** The payload may not list every pushed commit: a fetch must reconcile. */
  truncated: boolean;
}

/** A push payload that does not have the shape GitHub documents. */
export class MalformedPushError extends Error {
  override readonly name = 'MalformedPushError';
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Obj, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new MalformedPushError(`${where}${key} must be a string`);
  // Git cannot store a NUL in a ref, a name, an email or a message (and PostgreSQL refuses it in text).
  if (v.includes('\u0000')) throw new MalformedPushError(`${where}${key} must not contain a NUL character`);
  return v;
}

function sha(o: Obj, key: string, where: string): string {
  const v = str(o, key, where).toLowerCase();
  if (!SHA.test(v)) throw new MalformedPushError(`${where}${key} must be a commit SHA (hex)`);
  return v;
}

function bool(o: Obj, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new MalformedPushError(`${key} must be a boolean`);
  return v;
}

function commit(c: unknown, i: number): CommitInfo {
  const where = `commits[${i}].`;
  if (!isObj(c)) throw new MalformedPushError(`commits[${i}] must be an object`);
  const author = c.author;
  if (!isObj(author)) throw new MalformedPushError(`${where}author must be an object`);
  const email = author.email;
  // GitHub's schema allows a null email; Conductor then matches nobody by email.
  if (email !== null && email !== undefined && typeof email !== 'string') throw new MalformedPushError(`${where}author.email must be a string`);
  if (typeof email === 'string' && email.includes('\u0000')) throw new MalformedPushError(`${where}author.email must not contain a NUL character`);
  return {
    sha: sha(c, 'id', where),
    authorName: str(author, 'name', `${where}author.`),
    authorEmail: typeof email === 'string' ? email : '',
    message: str(c, 'message', where).replace(/\n+$/, ''),
  };
}

/** Pure: the JSON body of a `push` delivery → PushEvent, or MalformedPushError naming the bad field. */
export function parsePushEvent(payload: unknown): PushEvent {
  if (!isObj(payload)) throw new MalformedPushError('the push payload must be a JSON object');
  const repository = payload.repository;
  if (!isObj(repository)) throw new MalformedPushError('repository must be an object');
  const fullName = str(repository, 'full_name', 'repository.');
  if (!/^[^/\s]+\/[^/\s]+$/.test(fullName)) throw new MalformedPushError('repository.full_name must be owner/name');
  const ref = str(payload, 'ref', '');
  const commitsRaw = payload.commits;
  if (!Array.isArray(commitsRaw)) throw new MalformedPushError('commits must be an array');
  const commits = commitsRaw.map(commit);
  const distinct = payload.distinct_size;
  if (distinct !== undefined && (typeof distinct !== 'number' || !Number.isInteger(distinct) || distinct < 0)) throw new MalformedPushError('distinct_size must be a non-negative integer');
  return {
    repo: fullName.toLowerCase(),
    ref,
    branch: ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length ? ref.slice('refs/heads/'.length) : null,
    before: sha(payload, 'before', ''),
    after: sha(payload, 'after', ''),
    forced: bool(payload, 'forced'),
    deleted: bool(payload, 'deleted'),
    created: bool(payload, 'created'),
    commits,
    truncated: commits.length >= PUSH_COMMITS_LIMIT || (typeof distinct === 'number' && distinct > commits.length),
  };
}
