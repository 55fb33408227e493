import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerStrictFake, type StrictFakeHandle } from './strict-fakes.js';

/**
 * A strict fake Jenkins on 127.0.0.1 that speaks what the `jenkins` client
 * 1.1.0 sends (paths read from node_modules/jenkins/lib):
 *
 * - `POST {job}/buildWithParameters` (form body) → 201, `Location: <base>/queue/item/<n>/`
 * - `GET /queue/item/<n>/api/json` → `{ id, cancelled, executable: {number, url} | null }`
 * - `GET /queue/api/json` → `{ items: [...] }`, the items still waiting, with
 *   `task {name, url}` and `actions[].parameters[{name, value}]`
 * - `GET {job}/api/json` → the job with `builds` (newest first, each with
 *   `number, url, building, result, actions[].parameters`)
 * - `POST /queue/item/<n>/cancelQueue` → 302
 * - `GET {job}/<number>/api/json` → `{ actions, number, url, building, result }` (honours `tree`)
 * - `POST {job}/<number>/stop` → 302 (the build ends ABORTED)
 * - `POST {job}/<number>/logText/progressiveText` (form `start`) and `GET {job}/<number>/consoleText`
 *
 * The two lists (and a build) honour Jenkins's `tree` query (`builds[number,url]{0,50}`:
 * only the named fields, `_class` always, ranges on arrays); without `tree`
 * a job lists its builds as `{number, url}` only, as Jenkins does at depth 0.
 *
 * where `{job}` is `/job/a/job/b` for the job `a/b`. Every request must carry
 * basic auth with the user and API token, and no CSRF crumb (the runner turns
 * the crumb issuer off). Anything else → 404 and a recorded violation.
 */

export type BuildResult = 'SUCCESS' | 'FAILURE' | 'ABORTED' | 'UNSTABLE';

export interface FakeCall {
  method: string;
  path: string;
  at: number;
}

interface QueueItem {
  id: number;
  job: string;
  params: Record<string, string>;
  createdAt: number;
  cancelled: boolean;
  build: FakeBuild | null;
}

export interface FakeBuild {
  job: string;
  number: number;
  url: string;
  params: Record<string, string>;
  building: boolean;
  result: BuildResult | null;
  log: string;
}

export interface FakeJenkinsOptions {
  jobs: string[];
  user?: string;
  token?: string;
}

export class FakeJenkins {
  readonly user: string;
  readonly token: string;
  readonly calls: FakeCall[] = [];
  readonly violations: string[] = [];
  readonly queue = new Map<number, QueueItem>();
  readonly builds: FakeBuild[] = [];
  /** How long a queue item waits before it gets a build number (Infinity: until `release`). */
  queueDelayMs = 0;
  /** How long the answer to a trigger takes; Jenkins has queued the item already (a slow network or Jenkins). */
  triggerDelayMs = 0;
  /** What `stop` and `cancelQueue` answer: 302 (what the client insists on) or a bare 2xx as some Jenkins versions send. */
  stopStatus: 302 | 200 | 204 = 302;
  private server: http.Server;
  private port = 0;
  private nextQueueId = 100;
  private nextNumber = new Map<string, number>();
  private mode: 'up' | 'refused' | '503' = 'up';
  private failures: number[] = [];
  private lostTriggers: ('reset' | 'hang')[] = [];
  private jobs: Set<string>;
  private strict: StrictFakeHandle | null = null;

  private constructor(opts: FakeJenkinsOptions) {
    this.user = opts.user ?? 'conductor';
    this.token = opts.token ?? 'api-token-123';
    this.jobs = new Set(opts.jobs);
    this.server = this.makeServer();
  }

  static async start(opts: FakeJenkinsOptions): Promise<FakeJenkins> {
    const fake = new FakeJenkins(opts);
    await fake.listen(0);
    fake.strict = registerStrictFake({
      name: 'fake Jenkins',
      violations: () => fake.violations,
      takeUnusedExpectations: () => [...fake.failures.splice(0).map((status) => `failNext ${status}`), ...fake.lostTriggers.splice(0).map((how) => `loseNextTriggerResponse ${how}`)],
    });
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Builds of a job, by number. */
  build(job: string, number: number): FakeBuild {
    const b = this.builds.find((x) => x.job === job && x.number === number);
    if (!b) throw new Error(`no build ${job}#${number}`);
    return b;
  }

  /** The build that the queue item became, once it has one. */
  lastBuild(job: string): FakeBuild | undefined {
    return this.builds.filter((b) => b.job === job).at(-1);
  }

  finish(job: string, number: number, result: BuildResult, log = ''): void {
    const b = this.build(job, number);
    if (!b.building) throw new Error(`${job}#${number} has already finished`);
    b.log += log + `Finished: ${result}\n`;
    b.building = false;
    b.result = result;
  }

  /** Cancels a queue item as a Jenkins user would. */
  cancelQueueItem(id: number): void {
    const item = this.queue.get(id);
    if (!item) throw new Error(`no queue item ${id}`);
    item.cancelled = true;
  }

  /** Lets every waiting queue item start now (with `queueDelayMs = Infinity`). */
  release(): void {
    for (const item of this.queue.values()) if (!item.cancelled && !item.build) this.assign(item);
  }

  /** 'refused': the port stops listening; '503': every request gets 503. */
  async down(how: 'refused' | '503' = 'refused'): Promise<void> {
    this.mode = how;
    if (how === 'refused') {
      await new Promise<void>((r) => {
        this.server.close(() => r());
        this.server.closeAllConnections();
      });
    }
  }

  async up(): Promise<void> {
    if (this.mode === 'refused') {
      this.server = this.makeServer();
      await this.listen(this.port);
    }
    this.mode = 'up';
  }

  /**
   * The next trigger (`buildWithParameters`) is queued as usual but its
   * response is lost: 'reset' destroys the connection, 'hang' never answers
   * (the client's request timeout fires). Jenkins has the item either way.
   */
  loseNextTriggerResponse(how: 'reset' | 'hang' = 'reset'): void {
    this.lostTriggers.push(how);
  }

  /** The next `times` requests get `status`. */
  failNext(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(status);
  }

  callsTo(method: string, pathRe: RegExp): FakeCall[] {
    return this.calls.filter((c) => c.method === method && pathRe.test(c.path));
  }

  expectNoUnexpectedCalls(): void {
    if (this.violations.length) throw new Error(`fake Jenkins saw unexpected requests:\n${this.violations.join('\n')}`);
  }

  async close(): Promise<void> {
    this.strict?.closed();
    if (this.mode === 'refused') return;
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  // -------------------------------------------------------------------------

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private makeServer(): http.Server {
    return http.createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        this.violations.push(`handler crashed on ${req.method} ${req.url}: ${String(err)}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  private assign(item: QueueItem): void {
    const number = this.nextNumber.get(item.job) ?? 1;
    this.nextNumber.set(item.job, number + 1);
    const b: FakeBuild = {
      job: item.job,
      number,
      url: `${this.url}${jobPath(item.job)}/${number}/`,
      params: item.params,
      building: true,
      result: null,
      log: `Started by user ${this.user}\n`,
    };
    item.build = b;
    this.builds.push(b);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const body = await readAll(req);
    this.calls.push({ method, path: u.pathname + u.search, at: Date.now() });
    const where = `${method} ${u.pathname}${u.search}`;

    if (this.mode === '503') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
    const fail = this.failures.shift();
    if (fail !== undefined) return void res.writeHead(fail, { 'content-type': 'text/plain' }).end('injected failure');

    const expected = 'Basic ' + Buffer.from(`${this.user}:${this.token}`).toString('base64');
    if (req.headers.authorization !== expected) {
      this.violations.push(`${where}: bad or missing basic auth`);
      return void res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
    }
    if (Object.keys(req.headers).some((h) => /crumb/i.test(h)) || u.pathname.startsWith('/crumbIssuer')) {
      this.violations.push(`${where}: CSRF crumb used`);
    }

    let m: RegExpExecArray | null;
    if (method === 'GET' && (m = /^\/queue\/item\/(\d+)\/api\/json$/.exec(u.pathname))) {
      const item = this.queue.get(Number(m[1]));
      if (!item) return this.notFound(res, where);
      if (!item.build && !item.cancelled && Date.now() - item.createdAt >= this.queueDelayMs) this.assign(item);
      return json(res, 200, {
        _class: item.cancelled ? 'hudson.model.Queue$CancelledItem' : item.build ? 'hudson.model.Queue$LeftItem' : 'hudson.model.Queue$WaitingItem',
        id: item.id,
        cancelled: item.cancelled,
        task: { name: item.job.split('/').at(-1), url: `${this.url}${jobPath(item.job)}/` },
        executable: item.build ? { number: item.build.number, url: item.build.url } : null,
        why: item.build || item.cancelled ? null : 'Waiting for next available executor',
      });
    }
    if (method === 'GET' && u.pathname === '/queue/api/json') {
      const items = [...this.queue.values()].filter((i) => !i.cancelled && !i.build).map((i) => this.queueItemJson(i));
      return this.answerTree(res, where, u, { _class: 'hudson.model.Queue', discoverableItems: [], items }, null);
    }
    if (method === 'POST' && (m = /^\/queue\/item\/(\d+)\/cancelQueue$/.exec(u.pathname))) {
      const item = this.queue.get(Number(m[1]));
      if (!item) return this.notFound(res, where);
      if (!item.build) item.cancelled = true;
      return void res.writeHead(this.stopStatus, this.stopStatus === 302 ? { location: `${this.url}/queue/` } : {}).end();
    }

    const parsed = parseJobPath(u.pathname);
    if (!parsed || !this.jobs.has(parsed.job)) return this.notFound(res, where);
    const { job, rest } = parsed;

    if (method === 'POST' && rest === '/buildWithParameters') {
      const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
      const item: QueueItem = { id: this.nextQueueId++, job, params, createdAt: Date.now(), cancelled: false, build: null };
      this.queue.set(item.id, item);
      if (this.queueDelayMs <= 0) this.assign(item);
      const lost = this.lostTriggers.shift();
      if (lost === 'reset') return void req.socket.destroy();
      if (lost === 'hang') return; // close() drops the connection
      if (this.triggerDelayMs > 0) await new Promise((r) => setTimeout(r, this.triggerDelayMs));
      return void res.writeHead(201, { location: `${this.url}/queue/item/${item.id}/` }).end();
    }
    if (method === 'GET' && rest === '/api/json') {
      const builds = this.builds.filter((b) => b.job === job).reverse();
      const full = {
        _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
        name: job.split('/').at(-1),
        fullName: job,
        url: `${this.url}${jobPath(job)}/`,
        buildable: true,
        nextBuildNumber: this.nextNumber.get(job) ?? 1,
        builds: builds.map((b) => ({
          _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
          number: b.number,
          url: b.url,
          building: b.building,
          result: b.result,
          actions: parameterActions(b.params),
        })),
      };
      return this.answerTree(res, where, u, full, 'name,fullName,url,buildable,nextBuildNumber,builds[number,url]');
    }
    m = /^\/(\d+)(\/.*)$/.exec(rest);
    const b = m ? this.builds.find((x) => x.job === job && x.number === Number(m![1])) : undefined;
    if (!m || !b) return this.notFound(res, where);
    const action = m[2];
    if (method === 'GET' && action === '/api/json') {
      const full = { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun', actions: parameterActions(b.params), number: b.number, url: b.url, building: b.building, result: b.result };
      return this.answerTree(res, where, u, full, null);
    }
    if (method === 'POST' && action === '/stop') {
      if (b.building) {
        b.building = false;
        b.result = 'ABORTED';
        b.log += 'Aborted by conductor\nFinished: ABORTED\n';
      }
      return void res.writeHead(this.stopStatus, this.stopStatus === 302 ? { location: b.url } : {}).end();
    }
    if (method === 'GET' && action === '/consoleText') {
      return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(b.log);
    }
    if (method === 'POST' && action === '/logText/progressiveText') {
      const size = Buffer.byteLength(b.log);
      let start = Number(new URLSearchParams(body.toString('utf8')).get('start') ?? u.searchParams.get('start') ?? 0);
      if (!(start >= 0) || start > size) start = 0; // Jenkins: "text rolled over"
      const text = Buffer.from(b.log).subarray(start);
      return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-text-size': String(size), ...(b.building ? { 'x-more-data': 'true' } : {}) }).end(text);
    }
    return this.notFound(res, where);
  }

  private queueItemJson(i: QueueItem): Record<string, unknown> {
    return {
      _class: 'hudson.model.Queue$WaitingItem',
      actions: parameterActions(i.params),
      blocked: false,
      buildable: false,
      id: i.id,
      inQueueSince: i.createdAt,
      params: Object.entries(i.params)
        .map(([k, v]) => `\n${k}=${v}`)
        .join(''),
      stuck: false,
      task: { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: i.job.split('/').at(-1), url: `${this.url}${jobPath(i.job)}/`, color: 'notbuilt' },
      url: `queue/item/${i.id}/`,
      why: 'Waiting for next available executor',
    };
  }

  /** `tree` as Jenkins reads it; `fallback` is the depth-0 shape (null: the whole object). A bad tree → 400. */
  private answerTree(res: ServerResponse, where: string, u: URL, full: unknown, fallback: string | null): void {
    const spec = u.searchParams.get('tree') ?? fallback;
    let tree: Tree | null = null;
    try {
      tree = spec === null ? null : parseTree(spec);
    } catch (err) {
      this.violations.push(`${where}: bad tree (${String(err)})`);
      return void res.writeHead(400, { 'content-type': 'text/plain' }).end('bad tree');
    }
    return json(res, 200, tree ? pick(full, tree) : full);
  }

  private notFound(res: ServerResponse, where: string): void {
    this.violations.push(`${where}: not a path this fake serves (or an unknown job/build/queue item)`);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
  }
}

function jobPath(job: string): string {
  return job
    .split('/')
    .filter(Boolean)
    .map((p) => `/job/${encodeURIComponent(p)}`)
    .join('');
}

/** `/job/a/job/b/rest` → `{ job: 'a/b', rest: '/rest' }`. */
function parseJobPath(pathname: string): { job: string; rest: string } | null {
  const parts = pathname.split('/').slice(1);
  const names: string[] = [];
  let i = 0;
  while (parts[i] === 'job' && parts[i + 1] !== undefined) {
    names.push(decodeURIComponent(parts[i + 1]!));
    i += 2;
  }
  if (!names.length) return null;
  return { job: names.join('/'), rest: '/' + parts.slice(i).join('/') };
}

/** Jenkins's `actions`: the build parameters, then a cause (which a `tree` of parameters shows as `{_class}`). */
function parameterActions(params: Record<string, string>): unknown[] {
  return [
    {
      _class: 'hudson.model.ParametersAction',
      parameters: Object.entries(params).map(([name, value]) => ({ _class: 'hudson.model.StringParameterValue', name, value })),
    },
    { _class: 'hudson.model.CauseAction', causes: [{ _class: 'hudson.model.Cause$UserIdCause', shortDescription: 'Started by user conductor' }] },
  ];
}

type Tree = Map<string, { sub: Tree | null; range: [number, number | undefined] | null }>;

/** `a,b[c,d]{0,50}` → fields, their sub-trees and array ranges (`{m,n}`, `{m,}`, `{,n}`, `{n}`). */
function parseTree(src: string): Tree {
  let i = 0;
  const list = (): Tree => {
    const out: Tree = new Map();
    for (;;) {
      let name = '';
      while (i < src.length && !',[]{}'.includes(src[i]!)) name += src[i++];
      let sub: Tree | null = null;
      let range: [number, number | undefined] | null = null;
      if (src[i] === '[') {
        i++;
        sub = list();
        if (src[i++] !== ']') throw new Error(`missing ] at ${i}`);
      }
      if (src[i] === '{') {
        const end = src.indexOf('}', i);
        if (end < 0) throw new Error('missing }');
        const m = /^(\d*)(,?)(\d*)$/.exec(src.slice(i + 1, end));
        if (!m || (!m[1] && !m[3])) throw new Error(`bad range ${src.slice(i, end + 1)}`);
        const from = m[1] ? Number(m[1]) : 0;
        range = m[2] ? [from, m[3] ? Number(m[3]) : undefined] : [from, from + 1];
        i = end + 1;
      }
      if (!name.trim()) throw new Error(`empty field at ${i}`);
      out.set(name.trim(), { sub, range });
      if (src[i] !== ',') return out;
      i++;
    }
  };
  const tree = list();
  if (i !== src.length) throw new Error(`unexpected ${src[i]} at ${i}`);
  return tree;
}

function pick(v: unknown, tree: Tree): unknown {
  if (Array.isArray(v)) return v.map((x) => pick(x, tree));
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if ('_class' in o) out._class = o._class;
  for (const [k, { sub, range }] of tree) {
    if (!(k in o)) continue;
    let x = o[k];
    if (range && Array.isArray(x)) x = x.slice(range[0], range[1]);
    out[k] = pick(x, sub ?? new Map());
  }
  return out;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(data) }).end(data);
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
