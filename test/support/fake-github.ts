/**
 * A strict fake of the part of GitHub's REST API Conductor uses, on 127.0.0.1,
 * for tests that point the REAL Octokit at `fake.url`; plus builders for signed
 * push webhooks.
 *
 * - `POST /repos/:owner/:repo/statuses/:sha` only. The body is validated like
 *   GitHub does (state ∈ error|failure|pending|success, context a string,
 *   description ≤ 140 characters, target_url a string when given): a bad body
 *   answers 422 `Validation Failed` and records a violation.
 * - `Authorization: token <t>` or `Bearer <t>` must carry the configured token:
 *   otherwise 401 `Bad credentials` and a violation.
 * - Anything else answers 404 `Not Found` and records a violation;
 *   `expectNoUnexpectedCalls()` throws listing every violation.
 * - `failNext(status, times)` answers the next status calls with that HTTP
 *   status (not a violation).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { githubSignature } from '../../src/integrations/github/signature.js';
import { registerStrictFake } from './strict-fakes.js';

export interface StatusCall {
  owner: string;
  repo: string;
  sha: string;
  state: string;
  description: string | null;
  context: string;
  targetUrl: string | null;
  /** Set when failNext answered this call. */
  injected?: number;
}

export interface FakeGithub {
  url: string;
  token: string;
  /** Accepted status calls (and the ones failNext answered, marked `injected`). */
  statuses: StatusCall[];
  violations: string[];
  failNext(status: number, times?: number): void;
  expectNoUnexpectedCalls(): void;
  close(): Promise<void>;
}

const STATES = new Set(['error', 'failure', 'pending', 'success']);
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

function answer(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeGithub(opts: { token?: string } = {}): Promise<FakeGithub> {
  const token = opts.token ?? 'ghp_test_token';
  const statuses: StatusCall[] = [];
  const violations: string[] = [];
  const failures: number[] = [];
  let nextId = 1;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      violations.push(`fake crashed: ${String(err)}`);
      if (!res.headersSent) answer(res, 500, { message: 'fake failed' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readAll(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([^/]+)$/.exec(path);
    if (req.method !== 'POST' || !m) {
      violations.push(`unexpected ${req.method} ${path}`);
      return answer(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    }
    const auth = /^(?:token|Bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!auth || auth[1] !== token) {
      violations.push(`bad credentials on ${path}: ${req.headers.authorization ? 'wrong token' : 'no Authorization header'}`);
      return answer(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      violations.push(`body of ${path} is not a JSON object`);
      return answer(res, 400, { message: 'Problems parsing JSON' });
    }
    const [, owner, repo, sha] = m as unknown as [string, string, string, string];
    const problems: string[] = [];
    if (!SHA.test(sha)) problems.push(`sha ${sha} is not a commit SHA`);
    if (typeof body.state !== 'string' || !STATES.has(body.state)) problems.push(`state ${JSON.stringify(body.state)} is not one of error, failure, pending, success`);
    if (typeof body.context !== 'string' || body.context.length === 0) problems.push('context must be a non-empty string');
    if (body.description !== undefined && body.description !== null) {
      if (typeof body.description !== 'string') problems.push('description must be a string');
      else if (Array.from(body.description).length > 140) problems.push(`description is ${Array.from(body.description).length} characters (max 140)`);
    }
    if (body.target_url !== undefined && body.target_url !== null && typeof body.target_url !== 'string') problems.push('target_url must be a string');
    if (problems.length) {
      violations.push(`invalid status on ${path}: ${problems.join('; ')}`);
      return answer(res, 422, { message: 'Validation Failed', errors: problems.map((p) => ({ resource: 'Status', code: 'invalid', message: p })) });
    }
    const call: StatusCall = {
      owner: decodeURIComponent(owner),
      repo: decodeURIComponent(repo),
      sha,
      state: body.state as string,
      description: (body.description as string | null | undefined) ?? null,
      context: body.context as string,
      targetUrl: (body.target_url as string | null | undefined) ?? null,
    };
    const injected = failures.shift();
    if (injected !== undefined) {
      statuses.push({ ...call, injected });
      return answer(res, injected, { message: injected === 422 ? 'Validation Failed' : injected === 404 ? 'Not Found' : 'Server Error' });
    }
    statuses.push(call);
    const id = nextId++;
    const now = new Date().toISOString();
    answer(res, 201, {
      url: `${fakeUrl}/repos/${owner}/${repo}/statuses/${sha}`,
      avatar_url: 'https://avatars.githubusercontent.com/u/1?v=4',
      id,
      node_id: `SC_fake${id}`,
      state: call.state,
      description: call.description,
      target_url: call.targetUrl,
      context: call.context,
      created_at: now,
      updated_at: now,
      creator: { login: 'conductor-bot', id: 1, type: 'Bot' },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fakeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const strict = registerStrictFake({
    name: 'fake GitHub',
    violations: () => violations,
    takeUnusedExpectations: () => failures.splice(0).map((status) => `failNext ${status}`),
  });

  return {
    url: fakeUrl,
    token,
    statuses,
    violations,
    failNext(status, times = 1) {
      for (let i = 0; i < times; i++) failures.push(status);
    },
    expectNoUnexpectedCalls() {
      if (violations.length) throw new Error(`fake GitHub saw unexpected calls:\n- ${violations.join('\n- ')}`);
      if (failures.length) throw new Error(`fake GitHub: ${failures.length} failNext answer(s) were never used`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        strict.closed();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------
// Webhooks

export interface PushCommit {
  sha: string;
  authorName?: string;
  authorEmail?: string;
  message?: string;
}

export const ZERO_SHA = '0000000000000000000000000000000000000000';

/** A realistic `push` webhook payload (shape of GitHub's push event documentation). */
export function pushPayload(p: {
  repo: string;
  branch?: string;
  /** Overrides `refs/heads/<branch>` (e.g. `refs/tags/v1`). */
  ref?: string;
  before: string;
  after: string;
  commits: PushCommit[];
  forced?: boolean;
  created?: boolean;
  deleted?: boolean;
}): Record<string, unknown> {
  const [owner, name] = p.repo.split('/') as [string, string];
  const ref = p.ref ?? `refs/heads/${p.branch ?? 'main'}`;
  const html = `https://github.com/${owner}/${name}`;
  const commits = p.commits.map((c, i) => {
    const author = { name: c.authorName ?? 'Ada Lovelace', email: c.authorEmail ?? 'ada@example.com', username: (c.authorName ?? 'ada').toLowerCase().replace(/\s+/g, '-') };
    return {
      id: c.sha,
      tree_id: c.sha.split('').reverse().join(''),
      distinct: true,
      message: c.message ?? `change ${i + 1}`,
      timestamp: new Date(Date.UTC(2026, 0, 1, 10, i)).toISOString().replace('.000Z', '+00:00'),
      url: `${html}/commit/${c.sha}`,
      author,
      committer: author,
      added: [],
      removed: [],
      modified: ['README.md'],
    };
  });
  return {
    ref,
    before: p.before,
    after: p.after,
    repository: {
      id: 123456,
      node_id: 'R_kgDOfake',
      name,
      full_name: `${owner}/${name}`,
      private: true,
      owner: { name: owner, email: null, login: owner, id: 654321, type: 'Organization' },
      html_url: html,
      url: html,
      clone_url: `${html}.git`,
      ssh_url: `git@github.com:${owner}/${name}.git`,
      default_branch: 'main',
      master_branch: 'main',
    },
    pusher: { name: commits.at(-1)?.author.username ?? 'ada', email: commits.at(-1)?.author.email ?? 'ada@example.com' },
    sender: { login: 'ada', id: 1, type: 'User' },
    created: p.created ?? false,
    deleted: p.deleted ?? false,
    forced: p.forced ?? false,
    base_ref: null,
    compare: `${html}/compare/${p.before.slice(0, 12)}...${p.after.slice(0, 12)}`,
    commits,
    head_commit: p.deleted ? null : (commits.at(-1) ?? null),
  };
}

/** The body and headers GitHub sends for `payload` (`X-Hub-Signature-256` over the exact body bytes). */
export function signedPush(secret: string, payload: unknown, delivery: string = randomUUID(), event = 'push'): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/fake',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-github-hook-id': '1',
      'x-hub-signature-256': githubSignature(body, secret),
    },
  };
}

/** A deterministic fake SHA: `sha(1)` → `000…01`-like 40 hex chars distinct per n. */
export function fakeSha(n: number, prefix = 'c'): string {
  return (prefix + n.toString(16)).padStart(40, '0');
}
