import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerStrictFake, type StrictFakeHandle } from './strict-fakes.js';

/**
 * A strict fake Jira Cloud REST v3 on 127.0.0.1 for exactly what
 * src/integrations/jira/jira-desk.ts sends through jira.js 5.4.0:
 *
 * - `POST /rest/api/3/issue` → 201 `{id, key: '<PROJECT>-<n>', self}` (fields validated like Jira: project,
 *   issue type, sub-task ⇔ parent, ADF description, labels without spaces, assignable accountId)
 * - `GET  /rest/api/3/issue/<key>?fields=status` → `{id, key, fields: {status}}`
 * - `GET  /rest/api/3/user/search?query=…` → users whose email or display name contains the query
 * - `GET  /rest/api/3/issue/<key>/transitions` → `{transitions: [{id, name, to: {name, statusCategory}}]}`: the ones the
 *   workflow offers from the issue's current status
 * - `POST /rest/api/3/issue/<key>/transitions` `{transition: {id}}` → 204 (the issue's status changes); an id not
 *   offered from the current status → 400 and a recorded violation (the desk posts only what it just listed),
 *   unless a person moved the issue in between (`moveBeforeNextTransition`)
 * - `POST /rest/api/3/search/jql` (enhanced search) with the JQL forms
 *   `key in (A-1, A-2)` and `project = "P" AND labels = "l" [ORDER BY created ASC]` → `{issues, isLast, nextPageToken?}`;
 *   like Jira, `key in` naming an issue that does not exist → 400
 * - `POST /rest/api/3/issueLink` `{type: {name}, inwardIssue: {key}, outwardIssue: {key}}` → 201
 *
 * The workflow: `statuses` (with their categories; new issues start in the first) and the transitions offered,
 * either Jira-style per status (`workflow`: status → its outgoing transitions) or global (`transitions`: offered
 * from every status but their own target; the default, DEFAULT_TRANSITIONS, lets any status reach any other).
 *
 * Every request needs basic auth with the email and API token (401 otherwise).
 * Anything else → 404 and a recorded violation. Failures can be injected: `failNext` (the next requests, whatever
 * they are) and `failOn` (the next requests of one method and path, e.g. the second transition only).
 */

export interface FakeJiraUser {
  accountId: string;
  email: string;
  displayName: string;
  /** false: Jira hides emailAddress (private profile). Default true. */
  emailVisible?: boolean;
  /** false: the account exists but cannot be assigned in the project (create answers 400 errors.assignee). */
  assignable?: boolean;
  accountType?: 'atlassian' | 'app';
  active?: boolean;
}

export interface FakeTransition {
  id: string;
  name: string;
  to: string;
}

export interface FakeStatus {
  name: string;
  category: 'new' | 'indeterminate' | 'done';
}

export interface FakeIssue {
  id: string;
  key: string;
  type: string;
  summary: string;
  labels: string[];
  description: unknown;
  parent: string | null;
  assignee: string | null;
  status: string;
  links: { type: string; inward: string; outward: string }[];
}

export interface FakeCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface FakeJiraOptions {
  project?: string;
  email?: string;
  token?: string;
  users?: FakeJiraUser[];
  statuses?: FakeStatus[];
  /**
   * Global transitions, offered from any status (except those leading to the current one).
   * Default DEFAULT_TRANSITIONS without a `workflow`, none with one.
   */
  transitions?: FakeTransition[];
  /**
   * Jira's workflow: status name → the transitions offered from it (a status not listed offers none, besides
   * the global `transitions`). Every status named must be in `statuses`.
   */
  workflow?: Record<string, FakeTransition[]>;
  issueTypes?: { name: string; subtask: boolean }[];
}

export const DEFAULT_STATUSES: FakeStatus[] = [
  { name: 'To Do', category: 'new' },
  { name: 'In Progress', category: 'indeterminate' },
  { name: 'Done', category: 'done' },
];

/** Named unlike their targets on purpose: the desk must pick by target status. */
export const DEFAULT_TRANSITIONS: FakeTransition[] = [
  { id: '11', name: 'Back to backlog', to: 'To Do' },
  { id: '21', name: 'Start work', to: 'In Progress' },
  { id: '31', name: 'Ship it', to: 'Done' },
];

const CATEGORY_IDS = { new: 2, indeterminate: 4, done: 3 } as const;

/** An injected failure for the requests of one method and path (`failOn`). */
interface TargetedFailure {
  method: string;
  path: RegExp;
  status: number;
  /** Matching requests still let through before failing. */
  skip: number;
  /** Matching requests still to fail. */
  times: number;
}

export class FakeJira {
  readonly project: string;
  readonly email: string;
  readonly token: string;
  readonly calls: FakeCall[] = [];
  readonly violations: string[] = [];
  readonly issues = new Map<string, FakeIssue>();
  users: FakeJiraUser[];
  statuses: FakeStatus[];
  transitions: FakeTransition[];
  workflow: Record<string, FakeTransition[]> | null;
  issueTypes: { name: string; subtask: boolean }[];
  private server: http.Server;
  private port = 0;
  private nextNumber = 1;
  private failures: number[] = [];
  private targeted: TargetedFailure[] = [];
  /** Issue key → the status a person moves it to just before the next transition POST reaches it. */
  private moves = new Map<string, string>();
  private strict: StrictFakeHandle | null = null;

  private constructor(opts: FakeJiraOptions) {
    this.project = opts.project ?? 'WEB';
    this.email = opts.email ?? 'conductor@acme.test';
    this.token = opts.token ?? 'jira-token-123';
    this.users = opts.users ?? [];
    this.statuses = opts.statuses ?? DEFAULT_STATUSES;
    this.transitions = opts.transitions ?? (opts.workflow ? [] : DEFAULT_TRANSITIONS);
    this.workflow = opts.workflow ?? null;
    // A typo in a test's workflow would otherwise show up as a puzzling walk: refuse it here.
    const known = new Set(this.statuses.map((x) => x.name));
    const named = [...this.transitions.map((t) => t.to), ...Object.entries(this.workflow ?? {}).flatMap(([from, ts]) => [from, ...ts.map((t) => t.to)])];
    for (const n of named) if (!known.has(n)) throw new Error(`fake Jira: the workflow names status "${n}", which is not in statuses`);
    this.issueTypes = opts.issueTypes ?? [
      { name: 'Task', subtask: false },
      { name: 'Sub-task', subtask: true },
    ];
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.violations.push(`${req.method} ${req.url}: fake crashed: ${String(err)}`);
        if (!res.headersSent) this.send(res, 500, { errorMessages: ['fake crashed'] });
      });
    });
  }

  static async start(opts: FakeJiraOptions = {}): Promise<FakeJira> {
    const fake = new FakeJira(opts);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    fake.strict = registerStrictFake({
      name: 'fake Jira',
      violations: () => fake.violations,
      takeUnusedExpectations: () => {
        const unused = [
          ...fake.failures.splice(0).map((status) => `failNext ${status}`),
          ...fake.targeted
            .splice(0)
            .filter((f) => f.times > 0)
            .map((f) => `failOn ${f.method} ${f.path} → ${f.status}`),
          ...[...fake.moves].map(([key, status]) => `moveBeforeNextTransition ${key} → ${status}`),
        ];
        fake.moves.clear();
        return unused;
      },
    });
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.strict?.closed();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  /** The next `times` requests get `status` (and change nothing). */
  failNext(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(status);
  }

  /**
   * The next `times` requests of `method` whose path matches `path` get `status` (and change nothing), after
   * `skip` such requests went through: e.g. `failOn('POST', /\/transitions$/, 500, { skip: 1 })` fails the
   * second transition. `expectNoUnexpectedCalls` reports the ones never used.
   */
  failOn(method: string, path: RegExp, status: number, opts: { skip?: number; times?: number } = {}): void {
    this.targeted.push({ method, path, status, skip: opts.skip ?? 0, times: opts.times ?? 1 });
  }

  issue(key: string): FakeIssue {
    const i = this.issues.get(key);
    if (!i) throw new Error(`fake Jira has no issue ${key}`);
    return i;
  }

  subtasksOf(parentKey: string): FakeIssue[] {
    return [...this.issues.values()].filter((i) => i.parent === parentKey);
  }

  /** Moves an issue as a person in Jira would (no transition check). */
  setStatus(key: string, status: string): void {
    if (!this.statuses.some((s) => s.name === status)) throw new Error(`unknown status ${status}`);
    this.issue(key).status = status;
  }

  /**
   * A person moves the issue to `status` just before the next transition POST for it arrives (after the desk
   * listed the transitions): the POST is then judged from the new status, as Jira would (400 when the
   * transition is not offered there, which is then not a violation of the desk's).
   */
  moveBeforeNextTransition(key: string, status: string): void {
    if (!this.statuses.some((s) => s.name === status)) throw new Error(`unknown status ${status}`);
    this.moves.set(key, status);
  }

  callsTo(method: string, pathRe: RegExp): FakeCall[] {
    return this.calls.filter((c) => c.method === method && pathRe.test(c.path));
  }

  expectNoUnexpectedCalls(): void {
    const unused = [
      ...this.targeted.filter((f) => f.times > 0).map((f) => `failOn ${f.method} ${f.path} → ${f.status} was never used`),
      ...[...this.moves].map(([key, status]) => `moveBeforeNextTransition ${key} → ${status} was never used`),
    ];
    if (unused.length) throw new Error(`fake Jira: ${unused.join('; ')}`);
    if (this.violations.length) throw new Error(`fake Jira saw unexpected requests:\n${this.violations.join('\n')}`);
  }

  // -------------------------------------------------------------------------

  private send(res: ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    const data = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(data) });
    res.end(data);
  }

  private refuse(res: ServerResponse, status: number, errorMessages: string[], errors: Record<string, string> = {}): void {
    this.send(res, status, { errorMessages, errors });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        this.violations.push(`${req.method} ${url.pathname}: body is not JSON`);
        this.refuse(res, 400, ['body is not JSON']);
        return;
      }
    }
    const method = req.method ?? 'GET';
    this.calls.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), body });

    const expectedAuth = 'Basic ' + Buffer.from(`${this.email}:${this.token}`).toString('base64');
    if (req.headers.authorization !== expectedAuth) {
      this.refuse(res, 401, ['Client must be authenticated to access this resource.']);
      return;
    }
    const failure = this.targetedFailure(method, url.pathname) ?? this.failures.shift();
    if (failure !== undefined) {
      this.refuse(res, failure, [`injected failure ${failure}`]);
      return;
    }

    const p = url.pathname;
    let m: RegExpExecArray | null;
    if (method === 'POST' && p === '/rest/api/3/issue') return this.createIssue(res, body);
    if (method === 'GET' && p === '/rest/api/3/user/search') return this.userSearch(res, url.searchParams);
    if (method === 'POST' && p === '/rest/api/3/search/jql') return this.search(res, body);
    if (method === 'POST' && p === '/rest/api/3/issueLink') return this.link(res, body);
    if ((m = /^\/rest\/api\/3\/issue\/([^/]+)\/transitions$/.exec(p))) {
      if (method === 'GET') return this.listTransitions(res, m[1]!);
      if (method === 'POST') return this.doTransition(res, m[1]!, body);
    }
    if (method === 'GET' && (m = /^\/rest\/api\/3\/issue\/([^/]+)$/.exec(p))) return this.getIssue(res, m[1]!, url.searchParams);
    this.violations.push(`${method} ${p}${url.search}: no such endpoint in the fake`);
    this.refuse(res, 404, ['no such endpoint']);
  }

  private targetedFailure(method: string, path: string): number | undefined {
    const f = this.targeted.find((x) => x.times > 0 && x.method === method && x.path.test(path));
    if (!f) return undefined;
    if (f.skip > 0) {
      f.skip--;
      return undefined;
    }
    f.times--;
    return f.status;
  }

  private statusJson(name: string): unknown {
    const s = this.statuses.find((x) => x.name === name) ?? { name, category: 'new' as const };
    return { name: s.name, id: String(this.statuses.indexOf(s) + 1), statusCategory: { id: CATEGORY_IDS[s.category], key: s.category } };
  }

  private createIssue(res: ServerResponse, body: unknown): void {
    const f = ((body as { fields?: Record<string, unknown> } | undefined)?.fields ?? {}) as Record<string, any>;
    const errors: Record<string, string> = {};
    if (f.project?.key !== this.project) errors.project = 'valid project is required';
    const type = this.issueTypes.find((t) => t.name === f.issuetype?.name);
    if (!type) errors.issuetype = 'valid issue type is required';
    if (typeof f.summary !== 'string' || !f.summary.trim()) errors.summary = 'You must specify a summary of the issue.';
    else if (f.summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    if (type?.subtask) {
      if (!f.parent?.key || !this.issues.has(f.parent.key)) errors.parent = 'Given parent issue does not exist.';
    } else if (f.parent !== undefined) errors.parent = 'Only sub-tasks take a parent here';
    if (f.description !== undefined) {
      const d = f.description as { type?: unknown; version?: unknown; content?: unknown };
      if (d?.type !== 'doc' || d.version !== 1 || !Array.isArray(d.content)) errors.description = 'Operation value must be an Atlassian Document.';
      else if (JSON.stringify(d).includes('"text":""')) errors.description = 'text nodes must not be empty';
    }
    if (f.labels !== undefined && (!Array.isArray(f.labels) || f.labels.some((l: unknown) => typeof l !== 'string' || /\s/.test(l) || !l))) {
      errors.labels = 'The label must not contain spaces.';
    }
    let assignee: string | null = null;
    if (f.assignee !== undefined) {
      const user = this.users.find((u) => u.accountId === f.assignee?.accountId);
      if (!user || user.assignable === false) errors.assignee = `User '${String(f.assignee?.accountId)}' cannot be assigned issues.`;
      else assignee = user.accountId;
    }
    if (Object.keys(errors).length) {
      this.refuse(res, 400, [], errors);
      return;
    }
    const n = this.nextNumber++;
    const key = `${this.project}-${n}`;
    const id = String(10000 + n);
    this.issues.set(key, {
      id,
      key,
      type: type!.name,
      summary: f.summary,
      labels: [...((f.labels as string[] | undefined) ?? [])],
      description: f.description ?? null,
      parent: type!.subtask ? f.parent.key : null,
      assignee,
      status: this.statuses[0]!.name,
      links: [],
    });
    this.send(res, 201, { id, key, self: `${this.url}/rest/api/3/issue/${id}` });
  }

  private getIssue(res: ServerResponse, key: string, q: URLSearchParams): void {
    const issue = this.issues.get(key);
    if (!issue) {
      this.refuse(res, 404, ['Issue does not exist or you do not have permission to see it.']);
      return;
    }
    const fields = (q.get('fields') ?? '').split(',').filter(Boolean);
    if (fields.join(',') !== 'status') this.violations.push(`GET /issue/${key}: fields=${q.get('fields')} (the desk reads only status)`);
    this.send(res, 200, { id: issue.id, key, self: `${this.url}/rest/api/3/issue/${issue.id}`, fields: this.fieldsOf(issue, fields) });
  }

  private fieldsOf(issue: FakeIssue, fields: string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      if (f === 'status') out.status = this.statusJson(issue.status);
      else if (f === 'labels') out.labels = issue.labels;
      else if (f === 'summary') out.summary = issue.summary;
      else if (f === 'parent') {
        if (issue.parent) out.parent = { id: this.issue(issue.parent).id, key: issue.parent };
      } else if (f === 'issuelinks') {
        out.issuelinks = issue.links.map((l, i) =>
          l.inward === issue.key
            ? { id: String(i), type: { name: l.type, inward: 'relates to', outward: 'relates to' }, outwardIssue: { key: l.outward } }
            : { id: String(i), type: { name: l.type, inward: 'relates to', outward: 'relates to' }, inwardIssue: { key: l.inward } },
        );
      } else if (f === 'issuetype') {
        out.issuetype = { name: issue.type, subtask: issue.parent !== null };
      } else this.violations.push(`field ${f} is not served by the fake`);
    }
    return out;
  }

  private userSearch(res: ServerResponse, q: URLSearchParams): void {
    const query = (q.get('query') ?? '').trim().toLowerCase();
    if (!query) {
      this.refuse(res, 400, ['One of the query parameters query, accountId or property is required.']);
      return;
    }
    const max = Number(q.get('maxResults') ?? 50);
    const hits = this.users
      .filter((u) => u.email.toLowerCase().includes(query) || u.displayName.toLowerCase().includes(query))
      .slice(0, max)
      .map((u) => ({
        accountId: u.accountId,
        accountType: u.accountType ?? 'atlassian',
        displayName: u.displayName,
        active: u.active ?? true,
        ...(u.emailVisible === false ? {} : { emailAddress: u.email }),
      }));
    this.send(res, 200, hits);
  }

  private available(issue: FakeIssue): FakeTransition[] {
    const own = this.workflow?.[issue.status] ?? [];
    return [...own, ...this.transitions.filter((t) => t.to !== issue.status && !own.some((o) => o.id === t.id))];
  }

  private listTransitions(res: ServerResponse, key: string): void {
    const issue = this.issues.get(key);
    if (!issue) {
      this.refuse(res, 404, ['Issue does not exist or you do not have permission to see it.']);
      return;
    }
    this.send(res, 200, {
      expand: 'transitions',
      transitions: this.available(issue).map((t) => ({ id: t.id, name: t.name, hasScreen: false, isAvailable: true, to: this.statusJson(t.to) })),
    });
  }

  private doTransition(res: ServerResponse, key: string, body: unknown): void {
    const issue = this.issues.get(key);
    if (!issue) {
      this.refuse(res, 404, ['Issue does not exist or you do not have permission to see it.']);
      return;
    }
    const moved = this.moves.get(key);
    if (moved !== undefined) {
      this.moves.delete(key);
      issue.status = moved;
    }
    const id = (body as { transition?: { id?: unknown } } | undefined)?.transition?.id;
    const t = this.available(issue).find((x) => x.id === String(id));
    if (!t) {
      if (moved === undefined) this.violations.push(`POST /issue/${key}/transitions: transition ${String(id)} is not offered from ${issue.status}`);
      this.refuse(res, 400, [`Transition id '${String(id)}' is not valid for this issue.`]);
      return;
    }
    issue.status = t.to;
    this.send(res, 204);
  }

  private search(res: ServerResponse, body: unknown): void {
    const b = (body ?? {}) as { jql?: unknown; fields?: unknown; maxResults?: unknown; nextPageToken?: unknown };
    const jql = typeof b.jql === 'string' ? b.jql.trim() : '';
    const fields = Array.isArray(b.fields) ? (b.fields as string[]) : [];
    let matches: FakeIssue[];
    let m: RegExpExecArray | null;
    if ((m = /^key in \(([^)]*)\)$/i.exec(jql))) {
      const keys = m[1]!
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean);
      const missing = keys.find((k) => !this.issues.has(k));
      if (missing) {
        this.refuse(res, 400, [`An issue with key '${missing}' does not exist for field 'key'.`]);
        return;
      }
      matches = keys.map((k) => this.issue(k));
    } else if ((m = /^project = "([^"]+)" AND labels = "([^"]+)"( ORDER BY created ASC)?$/.exec(jql))) {
      const [, project, label] = m;
      matches = [...this.issues.values()].filter((i) => i.key.startsWith(`${project}-`) && i.labels.includes(label!));
    } else {
      this.violations.push(`search: JQL not understood by the fake: ${jql}`);
      this.refuse(res, 400, [`Error in the JQL Query: ${jql}`]);
      return;
    }
    const max = typeof b.maxResults === 'number' ? b.maxResults : 50;
    const start = typeof b.nextPageToken === 'string' ? Number(b.nextPageToken) : 0;
    const page = matches.slice(start, start + max);
    const isLast = start + max >= matches.length;
    this.send(res, 200, {
      issues: page.map((i) => ({ id: i.id, key: i.key, self: `${this.url}/rest/api/3/issue/${i.id}`, fields: this.fieldsOf(i, fields) })),
      isLast,
      ...(isLast ? {} : { nextPageToken: String(start + max) }),
    });
  }

  private link(res: ServerResponse, body: unknown): void {
    const b = (body ?? {}) as { type?: { name?: unknown }; inwardIssue?: { key?: unknown }; outwardIssue?: { key?: unknown } };
    const type = b.type?.name;
    const inward = b.inwardIssue?.key;
    const outward = b.outwardIssue?.key;
    if (type !== 'Relates') {
      this.refuse(res, 404, [`No issue link type with name '${String(type)}' found.`]);
      return;
    }
    if (typeof inward !== 'string' || typeof outward !== 'string' || !this.issues.has(inward) || !this.issues.has(outward)) {
      this.refuse(res, 404, ['Issue does not exist or you do not have permission to see it.']);
      return;
    }
    const link = { type, inward, outward };
    // Jira keeps one link per type and pair.
    if (!this.issue(inward).links.some((l) => l.inward === inward && l.outward === outward && l.type === type)) {
      this.issue(inward).links.push(link);
      this.issue(outward).links.push(link);
    }
    this.send(res, 201);
  }
}
