/**
 * Environment variables (behaviour.md §5). This folder is the one place that knows
 * their names; the rest of Conductor reads the typed `Env`.
 *
 * Rules: values are trimmed and an empty value counts as unset; every value
 * is validated; integrations come as groups that are present only when
 * configured (`env.slack`, `env.github`, `env.jenkins`, `env.jira`).
 */
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, describeValue } from './errors.js';
import { check, Invalid, leaf, problem } from './schema.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Every environment variable Conductor reads. */
export const ENV_KEYS = [
  'PORT',
  'DATABASE_URL',
  'CONDUCTOR_DATA_DIR',
  'CONDUCTOR_CONFIG',
  'CONDUCTOR_PUBLIC_URL',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'SLACK_API_URL',
  'SLACK_CLIENT_ID',
  'SLACK_CLIENT_SECRET',
  'OIDC_ISSUER_URL',
  'OIDC_CLIENT_ID',
  'OIDC_CLIENT_SECRET',
  'GITHUB_TOKEN',
  'GITHUB_WEBHOOK_SECRET',
  'GITHUB_API_URL',
  'JENKINS_URL',
  'JENKINS_USER',
  'JENKINS_API_TOKEN',
  'JENKINS_WEBHOOK_TOKEN',
  'JIRA_URL',
  'JIRA_EMAIL',
  'JIRA_API_TOKEN',
  'JIRA_WEBHOOK_SECRET',
  'CONDUCTOR_API_TOKEN',
  'CONDUCTOR_SESSION_SECRET',
  'LOG_LEVEL',
  'LOG_FORMAT',
] as const;
export type EnvKey = (typeof ENV_KEYS)[number];

/**
 * Variables whose values are secrets: never logged, never echoed in error
 * messages. `DATABASE_URL` is here because it usually carries a password.
 */
export const SECRET_ENV_KEYS = [
  'DATABASE_URL',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'SLACK_CLIENT_SECRET',
  'OIDC_CLIENT_SECRET',
  'GITHUB_TOKEN',
  'GITHUB_WEBHOOK_SECRET',
  'JENKINS_API_TOKEN',
  'JENKINS_WEBHOOK_TOKEN',
  'JIRA_API_TOKEN',
  'JIRA_WEBHOOK_SECRET',
  'CONDUCTOR_API_TOKEN',
  'CONDUCTOR_SESSION_SECRET',
] as const satisfies readonly EnvKey[];

/**
 * Paths of the secret fields inside `Env` (and inside an `AppConfig` under `env.`),
 * in pino's `redact.paths` syntax, e.g. `['env.slack.botToken', …]` via `secretEnvPaths('env')`.
 */
/** The secret values set in `env` (the fields `secretEnvPaths` names): job output is cleaned of them. */
export function secretValues(env: object): string[] {
  const out: string[] = [];
  for (const p of secretEnvPaths()) {
    let v: unknown = env;
    for (const k of p.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (typeof v === 'string' && v) out.push(v);
  }
  return out;
}

export function secretEnvPaths(prefix = ''): string[] {
  const p = prefix === '' ? '' : `${prefix}.`;
  return [
    'databaseUrl',
    'apiToken',
    'sessionSecret',
    'slack.botToken',
    'slack.signingSecret',
    'slack.appToken',
    'signIn.clientSecret',
    'github.token',
    'github.webhookSecret',
    'jenkins.apiToken',
    'jenkins.webhookToken',
    'jira.apiToken',
    'jira.webhookSecret',
  ].map((k) => p + k);
}

export interface SlackEnv {
  botToken: string;
  signingSecret: string;
  /** Set: Socket Mode; unset: HTTP receiver on `/slack/events`. */
  appToken?: string;
  /** Web API base URL, always ending with `/` (default `https://slack.com/api/`). */
  apiUrl: string;
}

/**
 * The OpenID Connect issuer of the Web App's sign-in. Unset: the local
 * sign-in (loopback only). Sign in with Slack is an issuer like any other, at
 * the origin of `SLACK_API_URL` (https://slack.com unless pointed elsewhere).
 */
export interface SignInEnv {
  kind: 'slack' | 'oidc';
  /** The issuer identifier as given (discovery at `<issuer>/.well-known/openid-configuration`; it must match the document's `issuer`). */
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface GitHubEnv {
  /** For commit statuses; unset: no statuses are posted. */
  token?: string;
  /** For `X-Hub-Signature-256` on `/webhooks/github`. */
  webhookSecret?: string;
  /** REST base URL without a trailing slash (default `https://api.github.com`). */
  apiUrl: string;
}

export interface JenkinsEnv {
  /** Without a trailing slash. */
  url: string;
  user: string;
  apiToken: string;
  /** The bearer token Jenkins sends to `/webhooks/jenkins`; unset: callbacks are refused and results come by polling. */
  webhookToken?: string;
}

export interface JiraEnv {
  /** Without a trailing slash. */
  url: string;
  email: string;
  apiToken: string;
  /** The secret Jira's webhook carries to `/webhooks/jira`; unset: webhooks are refused and changes come by polling. */
  webhookSecret?: string;
}

export interface Env {
  port: number;
  /** Unset: embedded PostgreSQL under `dataDir`. */
  databaseUrl?: string;
  /** Absolute. */
  dataDir: string;
  /** Absolute path of the YAML config file. */
  configPath: string;
  /** True when `CONDUCTOR_CONFIG` was set: then a missing file is an error instead of the demo line. */
  configPathExplicit: boolean;
  /** Base URL people and webhooks reach Conductor at, without a trailing slash (default `http://localhost:<port>`). */
  publicUrl: string;
  logLevel: LogLevel;
  /** Unset: pretty when standard output is a terminal, JSON otherwise (the logger decides). */
  logFormat?: LogFormat;
  /** Bearer token for `/api/*`; unset: the API answers the loopback interface only. */
  apiToken?: string;
  /** Seals the Web App's session cookie (at least 32 characters; all processes share it). Unset: generated under `dataDir`. */
  sessionSecret?: string;
  slack?: SlackEnv;
  signIn?: SignInEnv;
  github?: GitHubEnv;
  jenkins?: JenkinsEnv;
  jira?: JiraEnv;
}

export type RawEnv = Record<string, string | undefined>;

// ---------------------------------------------------------------------------
// Value checks
// ---------------------------------------------------------------------------

function isSecret(key: EnvKey): boolean {
  return (SECRET_ENV_KEYS as readonly string[]).includes(key);
}

/** A URL with one of `protocols`; secrets are never echoed back. */
function url(key: EnvKey, protocols: readonly string[], what: string) {
  return leaf<string>(what, (value) => {
    if (typeof value !== 'string') return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return new Invalid(`expected ${what}, got ${isSecret(key) ? 'a value that is not a URL' : describeValue(value)}`);
    }
    if (!protocols.includes(parsed.protocol)) {
      return new Invalid(`expected ${what}, got ${isSecret(key) ? `a ${parsed.protocol}// URL` : describeValue(value)}`);
    }
    if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname === '') {
      return new Invalid(`expected ${what}, got ${describeValue(value)} (no host)`);
    }
    return value;
  });
}

const HTTP = ['http:', 'https:'] as const;
const httpUrl = (key: EnvKey) => url(key, HTTP, 'an http:// or https:// URL');
const text = leaf<string>('a value', (v) => (typeof v === 'string' ? v : undefined));

function withoutTrailingSlash(u: string): string {
  return u.replace(/\/+$/, '');
}
function withTrailingSlash(u: string): string {
  return u.endsWith('/') ? u : `${u}/`;
}

const port = leaf<number>('an integer from 1 to 65535', (v) => {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= 1 && n <= 65535 ? n : undefined;
});

const logLevel = leaf<LogLevel>(`one of ${LOG_LEVELS.join(', ')}`, (v) => {
  if (typeof v !== 'string') return undefined;
  const lower = v.toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : undefined;
});

const logFormat = leaf<LogFormat>(`one of ${LOG_FORMATS.join(', ')}`, (v) => {
  if (typeof v !== 'string') return undefined;
  const lower = v.toLowerCase();
  return (LOG_FORMATS as readonly string[]).includes(lower) ? (lower as LogFormat) : undefined;
});

const email = leaf<string>('an email address', (v) => (typeof v === 'string' && /^[^\s@,;<>]+@[^\s@,;<>]+$/.test(v) ? v.toLowerCase() : undefined));

/** Shape of the cleaned environment; every key optional (defaults are applied when building `Env`). */
const envSchema = z.object({
  PORT: port.optional(),
  DATABASE_URL: url('DATABASE_URL', ['postgres:', 'postgresql:'], 'a postgres:// or postgresql:// URL').optional(),
  CONDUCTOR_DATA_DIR: text.optional(),
  CONDUCTOR_CONFIG: text.optional(),
  CONDUCTOR_PUBLIC_URL: httpUrl('CONDUCTOR_PUBLIC_URL').optional(),
  SLACK_BOT_TOKEN: text.optional(),
  SLACK_SIGNING_SECRET: text.optional(),
  SLACK_APP_TOKEN: text.optional(),
  SLACK_API_URL: httpUrl('SLACK_API_URL').optional(),
  SLACK_CLIENT_ID: text.optional(),
  SLACK_CLIENT_SECRET: text.optional(),
  OIDC_ISSUER_URL: httpUrl('OIDC_ISSUER_URL').optional(),
  OIDC_CLIENT_ID: text.optional(),
  OIDC_CLIENT_SECRET: text.optional(),
  GITHUB_TOKEN: text.optional(),
  GITHUB_WEBHOOK_SECRET: text.optional(),
  GITHUB_API_URL: httpUrl('GITHUB_API_URL').optional(),
  JENKINS_URL: httpUrl('JENKINS_URL').optional(),
  JENKINS_USER: text.optional(),
  JENKINS_API_TOKEN: text.optional(),
  JENKINS_WEBHOOK_TOKEN: text.optional(),
  JIRA_URL: httpUrl('JIRA_URL').optional(),
  JIRA_EMAIL: email.optional(),
  JIRA_API_TOKEN: text.optional(),
  JIRA_WEBHOOK_SECRET: text.optional(),
  CONDUCTOR_API_TOKEN: text.optional(),
  // Never echoed: a short secret is still a secret.
  CONDUCTOR_SESSION_SECRET: leaf<string>('at least 32 characters', (v) =>
    typeof v !== 'string' ? undefined : v.length >= 32 ? v : new Invalid(`expected at least 32 characters, got ${v.length}`),
  ).optional(),
  LOG_LEVEL: logLevel.optional(),
  LOG_FORMAT: logFormat.optional(),
} satisfies Record<EnvKey, z.ZodType>);

/** The known variables with trimmed, non-empty values only (empty counts as unset). */
export function cleanEnv(raw: RawEnv): Partial<Record<EnvKey, string>> {
  const out: Partial<Record<EnvKey, string>> = {};
  for (const key of ENV_KEYS) {
    const value = raw[key]?.trim();
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** Variables that only make sense together (checked on presence, so they are reported even when a value is also bad). */
function dependencyProblems(env: Partial<Record<EnvKey, string>>): string[] {
  const problems: string[] = [];
  const has = (k: EnvKey) => env[k] !== undefined;

  if (has('SLACK_BOT_TOKEN') !== has('SLACK_SIGNING_SECRET')) {
    const [missing, present] = has('SLACK_BOT_TOKEN') ? (['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN'] as const) : (['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET'] as const);
    problems.push(problem('', [missing], `is not set, but ${present} is: Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or neither, to run without Slack)`));
  }
  if (has('SLACK_APP_TOKEN') && !has('SLACK_BOT_TOKEN')) {
    problems.push(problem('', ['SLACK_APP_TOKEN'], 'is set, but SLACK_BOT_TOKEN is not: Socket Mode needs the bot token and the signing secret too'));
  }

  const group = (name: string, urlKey: EnvKey, required: EnvKey[], optional: EnvKey[]) => {
    if (has(urlKey)) {
      for (const k of required) {
        if (!has(k)) problems.push(problem('', [k], `is not set, but ${urlKey} is: ${name} needs ${[urlKey, ...required].join(', ')}`));
      }
    } else {
      for (const k of [...required, ...optional]) {
        if (has(k)) problems.push(problem('', [k], `is set, but ${urlKey} is not: set ${urlKey} to use ${name}, or unset ${k}`));
      }
    }
  };
  problems.push(...signInProblems(env));
  group('Jenkins', 'JENKINS_URL', ['JENKINS_USER', 'JENKINS_API_TOKEN'], ['JENKINS_WEBHOOK_TOKEN']);
  group('Jira', 'JIRA_URL', ['JIRA_EMAIL', 'JIRA_API_TOKEN'], ['JIRA_WEBHOOK_SECRET']);
  return problems;
}

/** Loopback hosts: the only ones an http:// (not https://) issuer may be on (tests, a local Keycloak). */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** The sign-in issuer: Slack's pair or OIDC's three, not both, with a session secret every process shares. */
function signInProblems(env: Partial<Record<EnvKey, string>>): string[] {
  const problems: string[] = [];
  const has = (k: EnvKey) => env[k] !== undefined;
  const slack = ['SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET'] as const;
  const oidc = ['OIDC_ISSUER_URL', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const;
  const partial = (keys: readonly EnvKey[], name: string) => {
    const set = keys.filter(has);
    if (set.length === 0 || set.length === keys.length) return;
    for (const k of keys.filter((k) => !has(k))) {
      problems.push(problem('', [k], `is not set, but ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'}: ${name} needs ${keys.join(', ')} (or none of them)`));
    }
  };
  partial(slack, 'Sign in with Slack');
  partial(oidc, 'OpenID Connect sign-in');
  const slackSet = slack.some(has);
  const oidcSet = oidc.some(has);
  if (slackSet && oidcSet) {
    problems.push(
      problem(
        '',
        ['SLACK_CLIENT_ID'],
        'is set, and so is OIDC_ISSUER_URL/OIDC_CLIENT_ID: choose one sign-in, Sign in with Slack (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET) or another OpenID Connect issuer (OIDC_*), and unset the other',
      ),
    );
  }
  if ((slackSet || oidcSet) && !has('CONDUCTOR_SESSION_SECRET')) {
    problems.push(
      problem(
        '',
        ['CONDUCTOR_SESSION_SECRET'],
        `is not set, but ${slackSet ? 'SLACK_CLIENT_ID' : 'OIDC_ISSUER_URL'} is: with a sign-in issuer, set a session secret of at least 32 characters, the same in every Conductor process (e.g. openssl rand -base64 48)`,
      ),
    );
  }
  const issuerKey: EnvKey | null = oidcSet ? 'OIDC_ISSUER_URL' : slackSet ? 'SLACK_API_URL' : null;
  const issuer = issuerKey ? env[issuerKey] : undefined;
  if (issuerKey && issuer !== undefined && URL.canParse(issuer)) {
    const u = new URL(issuer);
    if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
      problems.push(
        problem('', [issuerKey], `is an http:// URL on ${describeValue(u.hostname)}: a sign-in issuer must use https:// (http:// only on this machine: localhost, 127.x.x.x, [::1])`),
      );
    }
  }
  return problems;
}

/**
 * Validates the environment without throwing. `cwd` resolves the relative
 * `CONDUCTOR_DATA_DIR` and `CONDUCTOR_CONFIG` (default `process.cwd()`).
 */
export function validateEnv(raw: RawEnv, opts: { cwd?: string } = {}): { env: Env; problems: [] } | { env: null; problems: string[] } {
  const cwd = opts.cwd ?? process.cwd();
  const cleaned = cleanEnv(raw);
  const parsed = check(envSchema, cleaned, '');
  const problems = [...(parsed.ok ? [] : parsed.problems), ...dependencyProblems(cleaned)];
  if (!parsed.ok || problems.length > 0) return { env: null, problems };
  const v = parsed.value;

  const portNumber = v.PORT ?? 3000;
  const env: Env = {
    port: portNumber,
    dataDir: path.resolve(cwd, v.CONDUCTOR_DATA_DIR ?? './.conductor'),
    configPath: path.resolve(cwd, v.CONDUCTOR_CONFIG ?? './conductor.yml'),
    configPathExplicit: v.CONDUCTOR_CONFIG !== undefined,
    publicUrl: withoutTrailingSlash(v.CONDUCTOR_PUBLIC_URL ?? `http://localhost:${portNumber}`),
    logLevel: v.LOG_LEVEL ?? 'info',
  };
  if (v.LOG_FORMAT !== undefined) env.logFormat = v.LOG_FORMAT;
  if (v.DATABASE_URL !== undefined) env.databaseUrl = v.DATABASE_URL;
  if (v.CONDUCTOR_API_TOKEN !== undefined) env.apiToken = v.CONDUCTOR_API_TOKEN;
  if (v.CONDUCTOR_SESSION_SECRET !== undefined) env.sessionSecret = v.CONDUCTOR_SESSION_SECRET;
  if (v.SLACK_BOT_TOKEN !== undefined && v.SLACK_SIGNING_SECRET !== undefined) {
    env.slack = {
      botToken: v.SLACK_BOT_TOKEN,
      signingSecret: v.SLACK_SIGNING_SECRET,
      apiUrl: withTrailingSlash(v.SLACK_API_URL ?? 'https://slack.com/api/'),
    };
    if (v.SLACK_APP_TOKEN !== undefined) env.slack.appToken = v.SLACK_APP_TOKEN;
  }
  if (v.SLACK_CLIENT_ID !== undefined && v.SLACK_CLIENT_SECRET !== undefined) {
    // Slack's OpenID Connect issuer is https://slack.com: the origin of its Web API, so tests can point both at one fake.
    env.signIn = { kind: 'slack', issuerUrl: new URL(v.SLACK_API_URL ?? 'https://slack.com/api/').origin, clientId: v.SLACK_CLIENT_ID, clientSecret: v.SLACK_CLIENT_SECRET };
  } else if (v.OIDC_ISSUER_URL !== undefined && v.OIDC_CLIENT_ID !== undefined && v.OIDC_CLIENT_SECRET !== undefined) {
    env.signIn = { kind: 'oidc', issuerUrl: v.OIDC_ISSUER_URL, clientId: v.OIDC_CLIENT_ID, clientSecret: v.OIDC_CLIENT_SECRET };
  }
  if (v.GITHUB_TOKEN !== undefined || v.GITHUB_WEBHOOK_SECRET !== undefined) {
    env.github = { apiUrl: withoutTrailingSlash(v.GITHUB_API_URL ?? 'https://api.github.com') };
    if (v.GITHUB_TOKEN !== undefined) env.github.token = v.GITHUB_TOKEN;
    if (v.GITHUB_WEBHOOK_SECRET !== undefined) env.github.webhookSecret = v.GITHUB_WEBHOOK_SECRET;
  }
  if (v.JENKINS_URL !== undefined && v.JENKINS_USER !== undefined && v.JENKINS_API_TOKEN !== undefined) {
    env.jenkins = { url: withoutTrailingSlash(v.JENKINS_URL), user: v.JENKINS_USER, apiToken: v.JENKINS_API_TOKEN };
    if (v.JENKINS_WEBHOOK_TOKEN !== undefined) env.jenkins.webhookToken = v.JENKINS_WEBHOOK_TOKEN;
  }
  if (v.JIRA_URL !== undefined && v.JIRA_EMAIL !== undefined && v.JIRA_API_TOKEN !== undefined) {
    env.jira = { url: withoutTrailingSlash(v.JIRA_URL), email: v.JIRA_EMAIL, apiToken: v.JIRA_API_TOKEN };
    if (v.JIRA_WEBHOOK_SECRET !== undefined) env.jira.webhookSecret = v.JIRA_WEBHOOK_SECRET;
  }
  return { env, problems: [] };
}

/** Validates the environment; throws `ConfigError` listing every problem. */
export function parseEnv(raw: RawEnv, opts: { cwd?: string } = {}): Env {
  const result = validateEnv(raw, opts);
  if (result.env === null) throw new ConfigError(result.problems);
  return result.env;
}

/** A copy of `env` safe to log: secret fields replaced by `[redacted]`. */
export function redactEnv(env: Env): Env {
  const r = '[redacted]';
  const copy: Env = structuredClone(env);
  if (copy.databaseUrl !== undefined) copy.databaseUrl = redactUrlPassword(copy.databaseUrl);
  if (copy.apiToken !== undefined) copy.apiToken = r;
  if (copy.slack) {
    copy.slack.botToken = r;
    copy.slack.signingSecret = r;
    if (copy.slack.appToken !== undefined) copy.slack.appToken = r;
  }
  if (copy.signIn) copy.signIn.clientSecret = r;
  if (copy.github) {
    if (copy.github.token !== undefined) copy.github.token = r;
    if (copy.github.webhookSecret !== undefined) copy.github.webhookSecret = r;
  }
  if (copy.jenkins) {
    copy.jenkins.apiToken = r;
    if (copy.jenkins.webhookToken !== undefined) copy.jenkins.webhookToken = r;
  }
  if (copy.jira) {
    copy.jira.apiToken = r;
    if (copy.jira.webhookSecret !== undefined) copy.jira.webhookSecret = r;
  }
  return copy;
}

/** `postgres://user:secret@host/db` → `postgres://user:[redacted]@host/db`. */
export function redactUrlPassword(u: string): string {
  try {
    const parsed = new URL(u);
    if (parsed.password === '') return u;
    parsed.password = 'redacted';
    return parsed.toString().replace(':redacted@', ':[redacted]@');
  } catch {
    return '[redacted]';
  }
}
