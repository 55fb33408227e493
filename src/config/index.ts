/**
 * Configuration: the environment (env.ts) and the YAML config file (file.ts),
 * or the demo line (demo.ts) when there is no file at the default path.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { EngineConfig } from '../engine/line-config.js';
import { demoConfig } from './demo.js';
import { cleanEnv, type Env, type RawEnv, secretValues, validateEnv } from './env.js';
import { ConfigError } from './errors.js';
import { type FileConfig, validateConfigText } from './file.js';

export { DEMO_ADMIN, DEMO_LINE_NAME, DEMO_ROBOT, demoConfig, demoRepoPath } from './demo.js';
export {
  ENV_KEYS,
  type Env,
  type EnvKey,
  type GitHubEnv,
  type JenkinsEnv,
  type JiraEnv,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  parseEnv,
  type RawEnv,
  redactEnv,
  redactUrlPassword,
  SECRET_ENV_KEYS,
  type SlackEnv,
  secretEnvPaths,
  validateEnv,
} from './env.js';
export { ConfigError } from './errors.js';
export {
  DEFAULT_TIMEZONE,
  DEFAULTS,
  type FileConfig,
  type GitHubRepo,
  type Integrations,
  type JobConfig,
  type LineConfig,
  type LineMode,
  parseConfigText,
  readConfigFile,
  type TicketsConfig,
  validateConfigText,
  wholeWeek,
} from './file.js';

export interface AppConfig {
  env: Env;
  file: FileConfig;
  /** `demo`: there was no file at the default path, so `file` is `demoConfig(env.dataDir)`. */
  source: 'file' | 'demo';
  /** Absolute path of the config file (the path that was looked for, in demo mode). */
  configPath: string;
}

export interface LoadConfigOptions {
  /** Usually `process.env`. */
  env: RawEnv;
  /** Resolves relative `CONDUCTOR_DATA_DIR` / `CONDUCTOR_CONFIG`; default `process.cwd()`. */
  cwd?: string;
}

/** How a path is shown in messages: relative to `cwd` when inside it, else absolute. */
function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

async function readIfExists(file: string): Promise<{ text: string } | { missing: true } | { error: string }> {
  try {
    const s = await stat(file);
    if (s.isDirectory()) return { error: 'is a directory, expected a YAML file' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { error: `cannot read the file: ${(e as Error).message}` };
  }
  try {
    return { text: await readFile(file, 'utf8') };
  } catch (e) {
    return { error: `cannot read the file: ${(e as Error).message}` };
  }
}

/**
 * Reads and validates the environment and the config file (or falls back to
 * the demo line when no file exists at the default path). Every problem of
 * both is collected and thrown together as one `ConfigError`.
 */
export async function loadConfig(opts: LoadConfigOptions): Promise<AppConfig> {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const envResult = validateEnv(opts.env, { cwd });
  const cleaned = cleanEnv(opts.env);
  const configPath = path.resolve(cwd, cleaned.CONDUCTOR_CONFIG ?? './conductor.yml');
  const explicit = cleaned.CONDUCTOR_CONFIG !== undefined;
  const name = displayPath(configPath, cwd);
  const problems = [...envResult.problems];

  const read = await readIfExists(configPath);
  let file: FileConfig | null = null;
  let source: AppConfig['source'] = 'file';
  if ('missing' in read) {
    if (explicit) {
      problems.push(`CONDUCTOR_CONFIG: the file ${configPath} does not exist (unset CONDUCTOR_CONFIG to run the demo line without a config file)`);
    } else if (envResult.env) {
      source = 'demo';
      file = demoConfig(envResult.env.dataDir);
    }
  } else if ('error' in read) {
    problems.push(`${name}: ${read.error}`);
  } else {
    // Integrations count as configured when their URL is set: if a companion variable is missing, the
    // environment problems already say so, and the file is not blamed for it too.
    const result = validateConfigText(read.text, {
      path: configPath,
      displayName: name,
      integrations: { jenkins: cleaned.JENKINS_URL !== undefined, jira: cleaned.JIRA_URL !== undefined },
    });
    problems.push(...result.problems);
    file = result.config;
  }

  if (problems.length > 0 || envResult.env === null || file === null) throw new ConfigError(problems);
  return { env: envResult.env, file, source, configPath };
}

/** What the engine needs of the config: each line's runtime settings, the people, the public URL and the secrets. */
export function engineConfig(config: AppConfig): EngineConfig {
  const { env, file } = config;
  return {
    lines: file.lines.map((l) => ({
      commitStatuses: !!(l.github && env.github?.token),
      name: l.name,
      branch: l.branch,
      maxCommits: l.maxCommits ?? null,
      reminderMinutes: l.reminderMinutes,
      health: l.healthCheck,
      bisect: { enabled: l.bisect, parallel: l.bisectParallel },
      timeouts: { build: l.build.timeoutMinutes, deploy: l.deploy.timeoutMinutes, rollback: l.rollback.timeoutMinutes },
    })),
    policy: { admins: file.admins, robots: file.robots },
    publicUrl: env.publicUrl,
    secrets: secretValues(env),
  };
}
