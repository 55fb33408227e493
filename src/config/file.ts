/**
 * The YAML config file, `conductor.yml` (behaviour.md §5): parsed, validated with zod
 * and normalised into typed objects. Unknown keys are errors; every problem
 * is collected and reported together, each naming its key path.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { HEALTH_OPERATORS, type HealthCheckConfig, type HealthCondition, parseCondition } from '../domain/health.js';
import { type AutoTimeWindow, parseDayItems, WEEKDAYS, type Weekday } from '../domain/time.js';
import { ConfigError } from './errors.js';
import { check, Invalid, leaf, list, problem, strictObject } from './schema.js';

// ---------------------------------------------------------------------------
// Normalised types
// ---------------------------------------------------------------------------

export type LineMode = 'schedule' | 'manual';

/** How a build, deploy or rollback runs. */
export type JobConfig = { kind: 'command'; command: string; timeoutMinutes: number } | { kind: 'jenkins'; job: string; timeoutMinutes: number };

export type TicketsConfig = { kind: 'builtin' } | { kind: 'jira'; project: string };

export interface GitHubRepo {
  owner: string;
  name: string;
  /** `owner/name`. */
  fullName: string;
}

export interface LineConfig {
  name: string;
  /** A git URL as written, or an absolute path (relative paths are resolved against the config file's directory). */
  repo: string;
  /** From `github:`, or inferred when `repo` is a github.com URL; null otherwise. */
  github: GitHubRepo | null;
  branch: string;
  /** Slack channel ID, e.g. `C0123ABC`; null when the line has no channel. */
  channel: string | null;
  mode: LineMode;
  /** IANA zone of `autoTime` and `freeze`: the line's own `timezone` or the file's. */
  timezone: string;
  /** Times normalised to `HH:MM`, days in week order without duplicates. Empty: trains never start by themselves. */
  autoTime: AutoTimeWindow[];
  /** `YYYY-MM-DD`, sorted, without duplicates. */
  freeze: string[];
  build: JobConfig;
  deploy: JobConfig;
  /** The configured rollback job, or the deploy job when none is configured. */
  rollback: JobConfig;
  tickets: TicketsConfig;
  /** At most this many platform commits per train (the oldest); null: no cap. */
  maxCommits: number | null;
  reminderMinutes: number;
  /** How often the remote is fetched, in seconds. */
  pollSeconds: number;
  /** behaviour.md §8: the health check that watches each deploy, with the line's watch keys; null when none. */
  healthCheck: HealthCheckConfig | null;
  /** behaviour.md §8: culprit finding after a failed build (default on), and how many of its builds run at once (default 2). */
  bisect: boolean;
  bisectParallel: number;
}

export interface FileConfig {
  timezone: string;
  /** Lower-cased, without duplicates. */
  admins: string[];
  /** Lower-cased, without duplicates. */
  robots: string[];
  jenkins: { pollSeconds: number };
  jira: { pollSeconds: number; doneStatus: string };
  lines: LineConfig[];
}

/** Which integrations the environment configures (a line may only use those). */
export interface Integrations {
  jenkins: boolean;
  jira: boolean;
}

export const DEFAULT_TIMEZONE = 'UTC';
export const DEFAULTS = {
  branch: 'main',
  mode: 'schedule' as LineMode,
  buildTimeoutMinutes: 30,
  deployTimeoutMinutes: 60,
  reminderMinutes: 30,
  pollSeconds: 60,
  jenkinsPollSeconds: 15,
  jiraPollSeconds: 60,
  jiraDoneStatus: 'Done',
  healthIntervalSeconds: 30,
  soakMinutes: 15,
  failuresToTrip: 3,
  bisectParallel: 2,
} as const;

/** The whole week, all day: the auto-time of a line that does not set `autoTime`. */
export function wholeWeek(): AutoTimeWindow[] {
  return [{ days: [...WEEKDAYS], start: '00:00', end: '24:00' }];
}

// ---------------------------------------------------------------------------
// Value parsers (exported for reuse, e.g. by tests)
// ---------------------------------------------------------------------------

const LINE_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const MAX_MINUTES = 10_080; // a week: keeps timers far below setTimeout's 24.8-day limit

/** An IANA zone, in its canonical spelling when it differs only by case (`europe/paris` → `Europe/Paris`). */
export function parseTimezone(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat(undefined, { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  return resolved.toLowerCase() === value.toLowerCase() ? resolved : value;
}

/** `H:MM` or `HH:MM` → `HH:MM`; `24:00` only when `role` is `end`. */
export function parseTimeOfDay(value: unknown, role: 'start' | 'end'): string | undefined | Invalid {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{1,2}):(\d{2})$/.exec(value.trim());
  if (!m) return undefined;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (hours === 24 && minutes === 0) {
    return role === 'end' ? '24:00' : new Invalid('24:00 can only end a window (it is the end of the day); start at "00:00" instead');
  }
  if (hours > 23 || minutes > 59) return undefined;
  return `${String(hours).padStart(2, '0')}:${m[2]}`;
}

/** A real calendar date written `YYYY-MM-DD`. */
export function parseDate(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return daysInMonth !== undefined && day >= 1 && day <= daysInMonth ? value : undefined;
}

const DAYS_HELP = 'use mon … sun, ranges like mon-fri or fri-mon, lists like mon,wed,fri or [mon, wed], or daily, weekdays, weekends';

/**
 * Days as a list (`[mon, wed]`) or a string (`mon-fri`, `mon,wed,fri`, `fri-mon`,
 * `weekdays`); list items may be ranges or groups too. Same grammar as
 * `/conductor autotime set`. Returns distinct days in week order.
 */
export function parseDays(value: unknown): Weekday[] | undefined | Invalid {
  let items: string[];
  if (typeof value === 'string') items = [value];
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) items = value as string[];
  else return undefined;
  const days = parseDayItems(items);
  if ('empty' in days) return new Invalid(`no days given: ${DAYS_HELP}`);
  if ('unknown' in days) return new Invalid(`unknown day ${JSON.stringify(days.unknown)}: ${DAYS_HELP}`);
  return days;
}

/** Branch name as git accepts it (`refs/heads/` is stripped). */
export function parseBranch(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.startsWith('refs/heads/') ? value.slice('refs/heads/'.length) : value;
  const bad =
    name === '' ||
    name === '@' ||
    /[\s~^:?*[\\\x00-\x1f\x7f]/.test(name) ||
    name.includes('..') ||
    name.includes('@{') ||
    name.includes('//') ||
    name.startsWith('/') ||
    name.startsWith('-') ||
    name.endsWith('/') ||
    name.endsWith('.') ||
    name.endsWith('.lock') ||
    name.split('/').some((part) => part.startsWith('.'));
  return bad ? undefined : name;
}

function parseGitHub(value: unknown): GitHubRepo | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\/([A-Za-z0-9._-]+?)(?:\.git)?$/.exec(value);
  if (!m || m[2] === '.' || m[2] === '..') return undefined;
  return { owner: m[1]!, name: m[2]!, fullName: `${m[1]}/${m[2]}` };
}

/** `owner/name` of a github.com URL (https, ssh or scp-like), else undefined. */
export function githubFromRepoUrl(repo: string): GitHubRepo | undefined {
  const m = /^(?:https?:\/\/(?:[^@/]+@)?|ssh:\/\/(?:[^@/]+@)?|git:\/\/|(?:[^@/:]+@)?)(?:www\.)?github\.com[:/]([^/]+\/[^/]+?)\/?$/i.exec(repo);
  return m ? parseGitHub(m[1]!) : undefined;
}

/** True when git would treat `repo` as a remote URL rather than a local path. */
export function isRemoteUrl(repo: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) return true;
  // scp-like `[user@]host:path`: a colon before any slash (git's rule), and not a Windows drive letter.
  const colon = repo.indexOf(':');
  const slash = repo.indexOf('/');
  return colon > 1 && (slash === -1 || colon < slash);
}

/** URLs are kept as written; paths are resolved against `baseDir` (and `~/` against the home directory). */
export function resolveRepo(repo: string, baseDir: string): string {
  if (isRemoteUrl(repo)) return repo;
  if (repo === '~' || repo.startsWith('~/')) return path.join(os.homedir(), repo.slice(1));
  return path.resolve(baseDir, repo);
}

// ---------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------

const nonEmptyString = (what: string) => leaf<string>(what, (v) => (typeof v === 'string' && v.trim() !== '' ? v : undefined));

const positiveInt = (what: string, max: number, fallback?: number) =>
  leaf<number>(what, (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max ? v : undefined), fallback === undefined ? undefined : { default: fallback });

const minutes = (fallback: number) =>
  leaf<number>(`a number of minutes greater than 0 and at most ${MAX_MINUTES}`, (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= MAX_MINUTES ? v : undefined), {
    default: fallback,
  });

const pollSeconds = (fallback: number) => positiveInt('a whole number of seconds from 1 to 86400', 86_400, fallback);

const timezone = leaf<string>('an IANA time zone such as "Europe/Paris" or "UTC"', parseTimezone);

const email = leaf<string>('an email address', (v) => (typeof v === 'string' && /^[^\s@,;<>]+@[^\s@,;<>]+$/.test(v.trim()) ? v.trim().toLowerCase() : undefined));
const emailList = list(email, 'a list of email addresses').optional();

const window = strictObject(
  {
    days: leaf<Weekday[]>('days such as mon-fri or [mon, wed]', parseDays),
    start: leaf<string>('a 24-hour time HH:MM', (v) => parseTimeOfDay(v, 'start')),
    end: leaf<string>('a 24-hour time HH:MM (or 24:00 for the end of the day)', (v) => parseTimeOfDay(v, 'end')),
  },
  'an auto-time window {days, start, end}',
).transform((w, ctx): AutoTimeWindow => {
  if (w.start === w.end) {
    ctx.addIssue({
      code: 'custom',
      path: ['end'],
      message: `the window ${w.start}-${w.end} is empty: start and end must differ (use "00:00" to "24:00" for a whole day)`,
    });
    return z.NEVER;
  }
  return { days: w.days, start: w.start, end: w.end };
});

function job(defaultTimeout: number) {
  return strictObject(
    {
      jenkins: nonEmptyString('a Jenkins job name').optional(),
      command: nonEmptyString('a shell command').optional(),
      timeoutMinutes: minutes(defaultTimeout),
    },
    '{jenkins: <job>} or {command: <shell command>}',
  ).transform((j, ctx): JobConfig => {
    if (j.jenkins !== undefined && j.command !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set either jenkins or command, not both' });
      return z.NEVER;
    }
    if (j.jenkins !== undefined) return { kind: 'jenkins', job: j.jenkins, timeoutMinutes: j.timeoutMinutes };
    if (j.command !== undefined) return { kind: 'command', command: j.command, timeoutMinutes: j.timeoutMinutes };
    ctx.addIssue({ code: 'custom', message: 'missing: expected jenkins: <job> or command: <shell command>' });
    return z.NEVER;
  });
}

const projectKey = leaf<string>('a Jira project key such as WEB (letters, digits and _, starting with a letter)', (v) => {
  if (typeof v !== 'string') return undefined;
  const key = v.trim().toUpperCase();
  return /^[A-Z][A-Z0-9_]+$/.test(key) ? key : undefined;
});

const tickets = z.preprocess(
  (v) => (v === undefined || v === 'builtin' ? { builtin: true } : v),
  strictObject(
    {
      builtin: z.literal(true).optional(),
      jira: projectKey.optional(),
    },
    '"builtin" or {jira: <PROJECT KEY>}',
  ).transform((t, ctx): TicketsConfig => {
    if (t.jira !== undefined && t.builtin) {
      ctx.addIssue({ code: 'custom', message: 'set either builtin or jira, not both' });
      return z.NEVER;
    }
    return t.jira !== undefined ? { kind: 'jira', project: t.jira } : { kind: 'builtin' };
  }),
);

const healthyIf = leaf<HealthCondition>(`a comparison such as "< 0.01" (one of ${HEALTH_OPERATORS.join(' ')} and a number)`, (v) =>
  typeof v === 'string' ? (parseCondition(v) ?? undefined) : undefined,
);

const httpUrl = leaf<string>('an http(s) URL such as http://prometheus:9090', (v) => {
  if (typeof v !== 'string') return undefined;
  try {
    const u = new URL(v.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? v.trim().replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
});

type ProbeOnly = HealthCheckConfig['probe'];

/** `{command}` or `{prometheus, query, healthyIf}`. */
const healthCheck = strictObject(
  {
    command: nonEmptyString('a shell command').optional(),
    prometheus: httpUrl.optional(),
    query: nonEmptyString('a PromQL query').optional(),
    healthyIf: healthyIf.optional(),
  },
  '{command: <shell command>} or {prometheus: <base URL>, query: <PromQL>, healthyIf: "< 0.01"}',
).transform((h, ctx): ProbeOnly => {
  if (h.command !== undefined) {
    const extra = (['prometheus', 'query', 'healthyIf'] as const).filter((k) => h[k] !== undefined);
    if (extra.length > 0) {
      ctx.addIssue({ code: 'custom', message: `set either command or prometheus (with query and healthyIf), not both (also set: ${extra.join(', ')})` });
      return z.NEVER;
    }
    return { kind: 'command', command: h.command };
  }
  if (h.prometheus === undefined) {
    ctx.addIssue({ code: 'custom', message: 'missing: expected command: <shell command> or prometheus: <base URL> with query and healthyIf' });
    return z.NEVER;
  }
  if (h.query === undefined || h.healthyIf === undefined) {
    for (const k of ['query', 'healthyIf'] as const)
      if (h[k] === undefined)
        ctx.addIssue({ code: 'custom', path: [k], message: `missing: a prometheus check needs ${k === 'query' ? 'a PromQL query' : 'healthyIf, a comparison such as "< 0.01"'}` });
    return z.NEVER;
  }
  return { kind: 'prometheus', baseUrl: h.prometheus, query: h.query, healthyIf: h.healthyIf };
});

/** The line keys that only mean something with a `healthCheck`. */
const HEALTH_KEYS = ['intervalSeconds', 'soakMinutes', 'failuresToTrip', 'autoRollback'] as const;

const lineSchema = strictObject(
  {
    name: leaf<string>('a line name of lower-case letters, digits, ".", "_" or "-", starting with a letter or digit', (v) => (typeof v === 'string' && LINE_NAME.test(v) ? v : undefined)),
    repo: nonEmptyString('a git URL or a path to a repository'),
    github: leaf<GitHubRepo>('a GitHub repository as owner/name', parseGitHub).optional(),
    branch: leaf<string>('a git branch name', parseBranch, { default: DEFAULTS.branch }),
    channel: leaf<string>('a Slack channel ID such as C0123ABC', (v) => {
      if (typeof v !== 'string') return undefined;
      if (/^[CG][A-Z0-9]{2,}$/.test(v)) return v;
      if (v.startsWith('#')) {
        return new Invalid(`expected a Slack channel ID such as C0123ABC, got the channel name ${JSON.stringify(v)} (in Slack, the channel's details show its ID)`);
      }
      return undefined;
    }).optional(),
    mode: leaf<LineMode>('"schedule" or "manual"', (v) => (v === 'schedule' || v === 'manual' ? v : undefined), {
      default: DEFAULTS.mode,
    }),
    timezone: timezone.optional(),
    autoTime: list(window, 'a list of auto-time windows {days, start, end}').optional(),
    freeze: list(leaf<string>('a date YYYY-MM-DD', parseDate), 'a list of dates YYYY-MM-DD').optional(),
    build: job(DEFAULTS.buildTimeoutMinutes),
    deploy: job(DEFAULTS.deployTimeoutMinutes),
    rollback: job(DEFAULTS.deployTimeoutMinutes).optional(),
    tickets,
    maxCommits: positiveInt('a whole number greater than 0', Number.MAX_SAFE_INTEGER).optional(),
    reminderMinutes: minutes(DEFAULTS.reminderMinutes),
    pollSeconds: pollSeconds(DEFAULTS.pollSeconds),
    healthCheck: healthCheck.optional(),
    intervalSeconds: positiveInt('a whole number of seconds from 1 to 86400', 86_400, DEFAULTS.healthIntervalSeconds),
    soakMinutes: minutes(DEFAULTS.soakMinutes),
    failuresToTrip: positiveInt('a whole number from 1 to 1000', 1000, DEFAULTS.failuresToTrip),
    autoRollback: leaf<boolean>('true or false', (v) => (typeof v === 'boolean' ? v : undefined), { default: false }),
    bisect: leaf<boolean>('true or false', (v) => (typeof v === 'boolean' ? v : undefined), { default: true }),
    bisectParallel: positiveInt('a whole number from 1 to 8', 8, DEFAULTS.bisectParallel),
  },
  'a line: a mapping with name, repo, build and deploy',
);

const topSchema = strictObject(
  {
    timezone: timezone.optional(),
    admins: emailList,
    robots: emailList,
    jenkins: strictObject({ pollSeconds: pollSeconds(DEFAULTS.jenkinsPollSeconds) }, 'a mapping {pollSeconds}').optional(),
    jira: strictObject(
      {
        pollSeconds: pollSeconds(DEFAULTS.jiraPollSeconds),
        doneStatus: nonEmptyString('a Jira status name such as "Done"').optional(),
      },
      'a mapping {pollSeconds, doneStatus}',
    ).optional(),
    // Checked line by line below, so that a bad top-level value does not hide the lines' problems.
    lines: list(z.unknown(), 'a list of lines', { count: 1, message: 'expected at least one line' }),
  },
  'a mapping with timezone, admins, robots and lines',
);

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

export interface ParseFileOptions {
  /** Shown before every problem, e.g. `conductor.yml` (default: the base name of `path`). */
  displayName?: string;
  /** The file's absolute path: relative repo paths are resolved against its directory. */
  path: string;
  /** Which integrations the environment configures; lines using others are errors. Default: both. */
  integrations?: Integrations;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function dedupe(values: string[]): string[] {
  return [...new Set(values)];
}

/** Validates and normalises the text of a config file without throwing. */
// Over 80 lines on purpose: one pass over the file's keys in file order, so the messages come in the order a person reads the file.
export function validateConfigText(text: string, opts: ParseFileOptions): { config: FileConfig; problems: [] } | { config: null; problems: string[] } {
  const name = opts.displayName ?? path.basename(opts.path);
  const prefix = `${name}: `;
  const integrations = opts.integrations ?? { jenkins: true, jira: true };
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { merge: true, prettyErrors: false, lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      config: null,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        const message = e.message.replace(/\s+at line \d+, column \d+:[\s\S]*$/, '').trim();
        return `${name}: line ${pos.line}, column ${pos.col}: YAML syntax error: ${message}`;
      }),
    };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return { config: null, problems: [`${prefix}${(e as Error).message}`] };
  }
  if (raw === null || raw === undefined) {
    return { config: null, problems: [`${prefix}the file is empty: expected a mapping with at least "lines"`] };
  }
  // Top-level keys starting with `x-` are ignored: a place for YAML anchors shared by lines.
  if (isPlainObject(raw)) {
    raw = Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')));
  }

  const problems: string[] = [];
  const top = check(topSchema, raw, prefix);
  if (!top.ok) problems.push(...top.problems);

  const rawLines = (raw as { lines?: unknown }).lines;
  const fileTimezone = (top.ok ? top.value.timezone : undefined) ?? DEFAULT_TIMEZONE;
  const configDir = path.dirname(path.resolve(opts.path));
  const lines: LineConfig[] = [];
  const byName = new Map<string, number>();
  const byRepoBranch = new Map<string, number>();
  (Array.isArray(rawLines) ? (rawLines as unknown[]) : []).forEach((rawLine, index) => {
    const at = (...rest: PropertyKey[]) => ['lines', index, ...rest];
    const result = check(lineSchema, rawLine, prefix, ['lines', index]);
    if (!result.ok) problems.push(...result.problems);

    // Checks across keys and lines read the raw line, so they are reported even when another key is wrong.
    const rawObject = isPlainObject(rawLine) ? rawLine : {};
    const lineName = typeof rawObject.name === 'string' ? rawObject.name : `#${index}`;
    if (typeof rawObject.name === 'string') {
      const other = byName.get(rawObject.name);
      if (other !== undefined) {
        problems.push(problem(prefix, at('name'), `duplicate line name ${JSON.stringify(rawObject.name)} (lines[${other}] has it too)`));
      } else byName.set(rawObject.name, index);
    }
    if (!integrations.jenkins) {
      for (const key of ['build', 'deploy', 'rollback'] as const) {
        const j = rawObject[key];
        if (isPlainObject(j) && typeof j.jenkins === 'string') {
          problems.push(
            problem(
              prefix,
              at(key, 'jenkins'),
              `line ${JSON.stringify(lineName)} uses the Jenkins job ${JSON.stringify(j.jenkins)}, but Jenkins is not configured: set JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN`,
            ),
          );
        }
      }
    }
    const t = rawObject.tickets;
    if (!integrations.jira && isPlainObject(t) && typeof t.jira === 'string') {
      problems.push(
        problem(
          prefix,
          at('tickets', 'jira'),
          `line ${JSON.stringify(lineName)} uses the Jira project ${JSON.stringify(t.jira)}, but Jira is not configured: set JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN`,
        ),
      );
    }
    if (rawObject.healthCheck === undefined) {
      for (const key of HEALTH_KEYS)
        if (rawObject[key] !== undefined) problems.push(problem(prefix, at(key), `only applies to a health check: set healthCheck on line ${JSON.stringify(lineName)}, or remove ${key}`));
    }
    if (!result.ok) return;
    const line = result.value;

    const repo = resolveRepo(line.repo, configDir);
    const repoKey = `${repo.replace(/\/+$/, '').replace(/\.git$/, '')}@${line.branch}`;
    const sameRepo = byRepoBranch.get(repoKey);
    if (sameRepo !== undefined) {
      problems.push(problem(prefix, at('branch'), `lines[${sameRepo}] already watches branch ${JSON.stringify(line.branch)} of this repository: one line per branch`));
    } else byRepoBranch.set(repoKey, index);

    lines.push({
      name: line.name,
      repo,
      github: line.github ?? githubFromRepoUrl(line.repo) ?? null,
      branch: line.branch,
      channel: line.channel ?? null,
      mode: line.mode,
      timezone: line.timezone ?? fileTimezone,
      autoTime: line.autoTime ?? wholeWeek(),
      freeze: dedupe(line.freeze ?? []).sort(),
      build: line.build,
      deploy: line.deploy,
      rollback: line.rollback ?? { ...line.deploy },
      tickets: line.tickets,
      maxCommits: line.maxCommits ?? null,
      reminderMinutes: line.reminderMinutes,
      pollSeconds: line.pollSeconds,
      healthCheck: line.healthCheck
        ? { probe: line.healthCheck, intervalSeconds: line.intervalSeconds, soakMinutes: line.soakMinutes, failuresToTrip: line.failuresToTrip, autoRollback: line.autoRollback }
        : null,
      bisect: line.bisect,
      bisectParallel: line.bisectParallel,
    });
  });

  if (!top.ok || problems.length > 0) return { config: null, problems };
  const t = top.value;
  return {
    config: {
      timezone: t.timezone ?? DEFAULT_TIMEZONE,
      admins: dedupe(t.admins ?? []),
      robots: dedupe(t.robots ?? []),
      jenkins: { pollSeconds: t.jenkins?.pollSeconds ?? DEFAULTS.jenkinsPollSeconds },
      jira: {
        pollSeconds: t.jira?.pollSeconds ?? DEFAULTS.jiraPollSeconds,
        doneStatus: t.jira?.doneStatus ?? DEFAULTS.jiraDoneStatus,
      },
      lines,
    },
    problems: [],
  };
}

/** Validates and normalises the text of a config file; throws `ConfigError` listing every problem. */
export function parseConfigText(text: string, opts: ParseFileOptions): FileConfig {
  const result = validateConfigText(text, opts);
  if (result.config === null) throw new ConfigError(result.problems);
  return result.config;
}

/** Reads and parses the config file at `opts.path`; throws `ConfigError` (also when it cannot be read). */
export async function readConfigFile(opts: ParseFileOptions): Promise<FileConfig> {
  let text: string;
  try {
    text = await readFile(opts.path, 'utf8');
  } catch (e) {
    const name = opts.displayName ?? path.basename(opts.path);
    throw new ConfigError([`${name}: cannot read the file: ${(e as Error).message}`]);
  }
  return parseConfigText(text, opts);
}
