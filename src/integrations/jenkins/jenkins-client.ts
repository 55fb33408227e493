import Jenkins from 'jenkins';

/**
 * The part of the `jenkins` client (1.1.0) the runner uses, typed here
 * because its bundled types do not match 1.1.0's option objects.
 */
export interface JenkinsClient {
  job: {
    build(opts: { name: string; parameters: Record<string, string> }): Promise<unknown>;
    get(opts: { name: string; tree: string }): Promise<JobInfo>;
  };
  queue: {
    list(opts: { tree: string }): Promise<QueueItem[] | undefined>;
    item(n: number): Promise<QueueItem>;
    cancel(n: number): Promise<void>;
  };
  build: {
    get(name: string, n: number, opts?: { tree: string }): Promise<BuildInfo>;
    stop(name: string, n: number): Promise<void>;
    log(opts: { name: string; number: number }): Promise<unknown>;
  };
}

/** A Jenkins action; only `ParametersAction` carries `parameters`. */
export interface Action {
  parameters?: { name?: unknown; value?: unknown }[];
}

export interface QueueItem {
  id?: number;
  cancelled?: boolean;
  task?: { name?: string; url?: string };
  actions?: (Action | null)[];
  executable?: { number?: number; url?: string } | null;
}

export interface BuildInfo {
  number?: number;
  url?: string;
  building?: boolean;
  result?: string | null;
  actions?: (Action | null)[];
}

export interface JobInfo {
  builds?: BuildInfo[];
}

export function createJenkinsClient(opts: { url: string; user: string; apiToken: string; requestTimeoutMs: number }): JenkinsClient {
  const base = new URL(opts.url);
  base.username = encodeURIComponent(opts.user);
  base.password = encodeURIComponent(opts.apiToken);
  return new Jenkins({
    baseUrl: base.toString().replace(/\/+$/, ''),
    // API tokens need no CSRF crumb (and the crumb costs an extra GET per POST).
    crumbIssuer: false,
    timeout: opts.requestTimeoutMs,
  } as ConstructorParameters<typeof Jenkins>[0]) as unknown as JenkinsClient;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** build.stop and queue.cancel insist on a 302; newer Jenkins answers 2xx, which is success too. */
export function isRedirectOrOk(err: unknown): boolean {
  const e = err as { res?: { statusCode?: number }; message?: string } | null;
  const status = e?.res?.statusCode;
  if (typeof status === 'number') return status >= 200 && status < 400;
  // The client's require302 check makes a plain Error (no `res`) for a 2xx answer.
  return e instanceof Error && /\bfailed to (stop|cancel): /.test(e.message);
}
