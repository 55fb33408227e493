// Holds `manifest.yml` against three things:
// - the manifest shape of `@slack/web-api` (`AppsManifestValidateArguments['manifest']`):
//   `toManifest` below rebuilds the parsed YAML field by field into a typed literal, so
//   `tsc` fails if a field the manifest uses is renamed or retyped there, and the run
//   fails on a missing field, a wrong type or a key it does not know;
// - Slack's own limits (lengths, patterns), from Slack's manifest JSON schema v1
//   (github.com/slackapi/manifest-schema, schemas/manifest.schema.1.0.0.json) and the
//   field docs of `@slack/web-api`;
// - what the app registers (src/slack/registrations.ts): the slash command, the bot
//   events and the bot scopes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppsManifestValidateArguments } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMAND_NAMES } from '../../src/commands/command.js';
import { BOT_SCOPES, EVENTS, SLASH_COMMAND } from '../../src/slack/registrations.js';
import { SIGN_IN_SCOPES } from '../../src/web/auth/oidc.js';

const MANIFEST_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../manifest.yml');

// ---------------------------------------------------------------------------
// The typed shape, taken apart

type Manifest = AppsManifestValidateArguments['manifest'];
type Metadata = NonNullable<Manifest['_metadata']>;
type DisplayInformation = Manifest['display_information'];
type Features = NonNullable<Manifest['features']>;
type AppHome = NonNullable<Features['app_home']>;
type BotUser = NonNullable<Features['bot_user']>;
type SlashCommand = NonNullable<Features['slash_commands']>[number];
type OAuthConfig = NonNullable<Manifest['oauth_config']>;
type OAuthScopes = NonNullable<OAuthConfig['scopes']>;
type BotScope = NonNullable<OAuthScopes['bot']>[number];
type UserScope = NonNullable<OAuthScopes['user']>[number];
type Settings = NonNullable<Manifest['settings']>;
type EventSubscriptions = NonNullable<Settings['event_subscriptions']>;
type BotEvent = NonNullable<EventSubscriptions['bot_events']>[number];
type Interactivity = NonNullable<Settings['interactivity']>;

// What the app registers must be scopes and events Slack knows (compile time).
const KNOWN_SCOPES: readonly BotScope[] = BOT_SCOPES;
const KNOWN_USER_SCOPES: readonly UserScope[] = SIGN_IN_SCOPES;
const KNOWN_EVENTS: readonly BotEvent[] = EVENTS;

// ---------------------------------------------------------------------------
// Slack's limits (manifest schema v1)

const LIMITS = {
  appName: { min: 1, max: 35 },
  appDescription: { min: 1, max: 140 },
  longDescription: { min: 175, max: 4000 },
  backgroundColor: /^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/,
  botDisplayName: { min: 1, max: 80, pattern: /^[a-z0-9._-]+$/ },
  command: { min: 2, max: 32, pattern: /^\/[a-z0-9_-]+$/ },
  commandDescription: { min: 1, max: 2000 },
  usageHint: { min: 1, max: 1000 },
  commandUrl: { max: 3000, pattern: /^https?:\/\// },
  requestUrl: { max: 3500, pattern: /^https?:\/\// },
  scope: { max: 50 },
  scopes: { max: 255 },
  event: { max: 50 },
  events: { max: 100 },
  slashCommands: { min: 1, max: 50 },
} as const;

// ---------------------------------------------------------------------------
// A small reader: unknown → typed, with the path of the first problem

type Check<T> = (value: unknown, at: string) => T;

function fail(at: string, expected: string, got: unknown): never {
  throw new Error(`manifest.yml: ${at}: expected ${expected}, got ${JSON.stringify(got)}`);
}

/** A mapping whose keys are all among `keys` (Slack rejects unknown keys: additionalProperties false). */
function mapping<K extends string>(value: unknown, at: string, keys: readonly K[]): Partial<Record<K, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(at, 'a mapping', value);
  for (const key of Object.keys(value)) {
    if (!(keys as readonly string[]).includes(key)) fail(`${at}.${key}`, `one of the keys ${keys.join(', ')}`, key);
  }
  return value as Partial<Record<K, unknown>>;
}

/** The keys of `T` that the reader accepts; each must be a key of `T` (compile time). */
function keysOf<T>() {
  return <const K extends readonly (keyof T & string)[]>(...keys: K): K => keys;
}

function string(limits: { min?: number; max: number; pattern?: RegExp }): Check<string> {
  return (value, at) => {
    if (typeof value !== 'string') fail(at, 'a string', value);
    const min = limits.min ?? 1;
    if (value.length < min || value.length > limits.max) fail(at, `${min} to ${limits.max} characters (has ${value.length})`, value);
    if (limits.pattern && !limits.pattern.test(value)) fail(at, `a string matching ${limits.pattern}`, value);
    return value;
  };
}

const boolean: Check<boolean> = (value, at) => (typeof value === 'boolean' ? value : fail(at, 'true or false', value));

function integer(allowed: readonly number[]): Check<number> {
  return (value, at) => (typeof value === 'number' && allowed.includes(value) ? value : fail(at, `one of ${allowed.join(', ')}`, value));
}

/** One of `values`, typed as their union. */
function oneOf<T extends string>(values: readonly T[], what: string): Check<T> {
  return (value, at) => ((values as readonly unknown[]).includes(value) ? (value as T) : fail(at, `${what} (one of ${values.join(', ')})`, value));
}

function list<T>(item: Check<T>, limits: { min?: number; max: number; unique?: boolean }): Check<T[]> {
  return (value, at) => {
    if (!Array.isArray(value)) fail(at, 'a list', value);
    const min = limits.min ?? 0;
    if (value.length < min || value.length > limits.max) fail(at, `${min} to ${limits.max} items (has ${value.length})`, value);
    if (limits.unique && new Set(value).size !== value.length) fail(at, 'no duplicates', value);
    return value.map((v, i) => item(v, `${at}[${i}]`));
  };
}

/** Absent stays absent (undefined); present must pass `check`. */
function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, at) => (value === undefined ? undefined : check(value, at));
}

function required<T>(check: Check<T>): Check<T> {
  return (value, at) => (value === undefined ? fail(at, 'a value (required)', value) : check(value, at));
}

// ---------------------------------------------------------------------------
// The manifest, rebuilt field by field. Each literal is checked against its type
// (excess property checks catch a renamed field; a missing required one fails too).

const readMetadata: Check<Metadata> = (value, at) => {
  const m = mapping(value, at, keysOf<Metadata>()('major_version', 'minor_version'));
  return {
    major_version: required(integer([1]))(m.major_version, `${at}.major_version`),
    minor_version: optional(integer([0, 1]))(m.minor_version, `${at}.minor_version`),
  } satisfies Metadata;
};

const readDisplayInformation: Check<DisplayInformation> = (value, at) => {
  const m = mapping(value, at, keysOf<DisplayInformation>()('name', 'description', 'long_description', 'background_color'));
  return {
    name: required(string(LIMITS.appName))(m.name, `${at}.name`),
    description: optional(string(LIMITS.appDescription))(m.description, `${at}.description`),
    long_description: optional(string(LIMITS.longDescription))(m.long_description, `${at}.long_description`),
    background_color: optional(string({ max: 7, pattern: LIMITS.backgroundColor }))(m.background_color, `${at}.background_color`),
  } satisfies DisplayInformation;
};

const readAppHome: Check<AppHome> = (value, at) => {
  const m = mapping(value, at, keysOf<AppHome>()('home_tab_enabled', 'messages_tab_enabled', 'messages_tab_read_only_enabled'));
  return {
    home_tab_enabled: optional(boolean)(m.home_tab_enabled, `${at}.home_tab_enabled`),
    messages_tab_enabled: optional(boolean)(m.messages_tab_enabled, `${at}.messages_tab_enabled`),
    messages_tab_read_only_enabled: optional(boolean)(m.messages_tab_read_only_enabled, `${at}.messages_tab_read_only_enabled`),
  } satisfies AppHome;
};

const readBotUser: Check<BotUser> = (value, at) => {
  const m = mapping(value, at, keysOf<BotUser>()('display_name', 'always_online'));
  return {
    display_name: required(string(LIMITS.botDisplayName))(m.display_name, `${at}.display_name`),
    always_online: optional(boolean)(m.always_online, `${at}.always_online`),
  } satisfies BotUser;
};

const readSlashCommand: Check<SlashCommand> = (value, at) => {
  const m = mapping(value, at, keysOf<SlashCommand>()('command', 'description', 'should_escape', 'url', 'usage_hint'));
  return {
    command: required(string(LIMITS.command))(m.command, `${at}.command`),
    description: required(string(LIMITS.commandDescription))(m.description, `${at}.description`),
    should_escape: optional(boolean)(m.should_escape, `${at}.should_escape`),
    url: optional(string(LIMITS.commandUrl))(m.url, `${at}.url`),
    usage_hint: optional(string(LIMITS.usageHint))(m.usage_hint, `${at}.usage_hint`),
  } satisfies SlashCommand;
};

const readFeatures: Check<Features> = (value, at) => {
  const m = mapping(value, at, keysOf<Features>()('app_home', 'bot_user', 'slash_commands'));
  return {
    app_home: optional(readAppHome)(m.app_home, `${at}.app_home`),
    bot_user: optional(readBotUser)(m.bot_user, `${at}.bot_user`),
    slash_commands: optional(list(readSlashCommand, LIMITS.slashCommands))(m.slash_commands, `${at}.slash_commands`),
  } satisfies Features;
};

const readOAuthConfig: Check<OAuthConfig> = (value, at) => {
  const m = mapping(value, at, keysOf<OAuthConfig>()('redirect_urls', 'scopes'));
  const scopesAt = `${at}.scopes`;
  const s = mapping(required((v) => v)(m.scopes, scopesAt), scopesAt, keysOf<OAuthScopes>()('user', 'bot'));
  const userScope = (v: unknown, where: string): UserScope => oneOf(KNOWN_USER_SCOPES, 'a scope in SIGN_IN_SCOPES')(v, where);
  // A scope must be one the app registers (and so, at compile time, one Slack knows).
  const scope = (v: unknown, where: string): BotScope => {
    string(LIMITS.scope)(v, where);
    return oneOf(KNOWN_SCOPES, 'a scope in BOT_SCOPES')(v, where);
  };
  return {
    redirect_urls: optional(list(string(LIMITS.requestUrl), { max: 1000, unique: true }))(m.redirect_urls, `${at}.redirect_urls`),
    scopes: {
      user: optional(list(userScope, { ...LIMITS.scopes, unique: true }))(s.user, `${scopesAt}.user`),
      bot: required(list(scope, { ...LIMITS.scopes, unique: true }))(s.bot, `${scopesAt}.bot`),
    } satisfies OAuthScopes,
  } satisfies OAuthConfig;
};

const readSettings: Check<Settings> = (value, at) => {
  const m = mapping(value, at, keysOf<Settings>()('event_subscriptions', 'interactivity', 'org_deploy_enabled', 'socket_mode_enabled', 'token_rotation_enabled'));
  const eventsAt = `${at}.event_subscriptions`;
  const e = mapping(required((v) => v)(m.event_subscriptions, eventsAt), eventsAt, keysOf<EventSubscriptions>()('request_url', 'bot_events'));
  const event = (v: unknown, where: string): BotEvent => {
    string(LIMITS.event)(v, where);
    return oneOf(KNOWN_EVENTS, 'an event in EVENTS')(v, where);
  };
  const interactivityAt = `${at}.interactivity`;
  const i = mapping(required((v) => v)(m.interactivity, interactivityAt), interactivityAt, keysOf<Interactivity>()('is_enabled', 'request_url'));
  return {
    event_subscriptions: {
      request_url: optional(string(LIMITS.requestUrl))(e.request_url, `${eventsAt}.request_url`),
      bot_events: required(list(event, { ...LIMITS.events, unique: true }))(e.bot_events, `${eventsAt}.bot_events`),
    } satisfies EventSubscriptions,
    interactivity: {
      is_enabled: required(boolean)(i.is_enabled, `${interactivityAt}.is_enabled`),
      request_url: optional(string(LIMITS.requestUrl))(i.request_url, `${interactivityAt}.request_url`),
    } satisfies Interactivity,
    org_deploy_enabled: optional(boolean)(m.org_deploy_enabled, `${at}.org_deploy_enabled`),
    socket_mode_enabled: optional(boolean)(m.socket_mode_enabled, `${at}.socket_mode_enabled`),
    token_rotation_enabled: optional(boolean)(m.token_rotation_enabled, `${at}.token_rotation_enabled`),
  } satisfies Settings;
};

const TOP_KEYS = ['_metadata', 'display_information', 'features', 'oauth_config', 'settings'] as const satisfies readonly (keyof Manifest)[];

function toManifest(value: unknown): Manifest {
  const m = mapping(value, '(top)', TOP_KEYS);
  return {
    _metadata: required(readMetadata)(m._metadata, '_metadata'),
    display_information: required(readDisplayInformation)(m.display_information, 'display_information'),
    features: required(readFeatures)(m.features, 'features'),
    oauth_config: required(readOAuthConfig)(m.oauth_config, 'oauth_config'),
    settings: required(readSettings)(m.settings, 'settings'),
  } satisfies Manifest;
}

// ---------------------------------------------------------------------------

const text = fs.readFileSync(MANIFEST_PATH, 'utf8');
const parsed: unknown = parse(text);
const manifest = toManifest(parsed);

// Narrowed views of the parts the app needs (toManifest made them required).
function parts(m: Manifest) {
  const features = m.features!;
  const commands = features.slash_commands!;
  const settings = m.settings!;
  return {
    features,
    commands,
    command: commands[0]!,
    scopes: m.oauth_config!.scopes!.bot!,
    userScopes: m.oauth_config!.scopes!.user!,
    redirectUrls: m.oauth_config!.redirect_urls!,
    events: settings.event_subscriptions!,
    interactivity: settings.interactivity!,
    settings,
  };
}

describe('manifest.yml', () => {
  it('parses into the typed manifest of @slack/web-api without losing a field', () => {
    expect(parsed).toBeTypeOf('object');
    // toEqual ignores the `undefined` of absent optional fields: anything the YAML has
    // and the typed manifest lacks (or the other way round) fails here.
    expect(manifest).toEqual(parsed);
    expect(manifest._metadata?.major_version).toBe(1);
  });

  it('rejects what Slack would reject', () => {
    const clone = (): Record<string, any> => structuredClone(parsed) as Record<string, any>;
    let bad = clone();
    bad.display_information.description = 'x'.repeat(141);
    expect(() => toManifest(bad)).toThrow(/display_information\.description: expected 1 to 140 characters/);
    bad = clone();
    bad.features.app_home.home_tab_enable = true;
    expect(() => toManifest(bad)).toThrow(/features\.app_home\.home_tab_enable: expected one of the keys/);
    bad = clone();
    bad.features.slash_commands[0].usage_hint = 'x'.repeat(1001);
    expect(() => toManifest(bad)).toThrow(/usage_hint: expected 1 to 1000 characters/);
    bad = clone();
    bad.settings.interactivity.is_enabled = 'yes';
    expect(() => toManifest(bad)).toThrow(/settings\.interactivity\.is_enabled: expected true or false/);
    bad = clone();
    bad.oauth_config.scopes.bot.push('channels:history');
    expect(() => toManifest(bad)).toThrow(/oauth_config\.scopes\.bot\[6\]: expected a scope in BOT_SCOPES/);
    bad = clone();
    delete bad.display_information.name;
    expect(() => toManifest(bad)).toThrow(/display_information\.name: expected a value \(required\)/);
  });

  it('shows the app as "Conductor" with a bot user "conductor"', () => {
    const { features } = parts(manifest);
    expect(manifest.display_information.name).toBe('Conductor');
    expect(manifest.display_information.description).toBeTypeOf('string');
    expect(manifest.display_information.background_color).toMatch(LIMITS.backgroundColor);
    expect(features.bot_user).toEqual({ display_name: 'conductor', always_online: true });
  });

  it('registers exactly the slash command the app listens to', () => {
    const { commands, command } = parts(manifest);
    expect(commands).toHaveLength(1);
    expect(command.command).toBe(SLASH_COMMAND);
    expect(command.should_escape).toBe(true);
    expect(command.description.length).toBeLessThanOrEqual(LIMITS.commandDescription.max);
    expect(command.usage_hint).toBeTypeOf('string');
    expect(command.usage_hint!.length).toBeLessThanOrEqual(LIMITS.usageHint.max);
  });

  it('names only real subcommands in the usage hint', () => {
    const hint = parts(manifest).command.usage_hint!;
    const firstWords = hint.split(' | ').map((segment) => segment.trim().split(/\s+/)[0]);
    for (const word of firstWords) expect(COMMAND_NAMES).toContain(word);
    for (const main of ['help', 'status', 'start', 'verify', 'deploy'] as const) expect(firstWords).toContain(main);
  });

  it('subscribes to exactly EVENTS and asks for exactly BOT_SCOPES', () => {
    const { events, scopes } = parts(manifest);
    expect(events.bot_events).toEqual([...EVENTS]);
    expect(scopes).toEqual([...BOT_SCOPES]);
  });

  it('asks for exactly the sign-in scopes as user scopes, and redirects sign-in to /auth/callback on the same host', () => {
    const { userScopes, redirectUrls, command } = parts(manifest);
    expect(userScopes).toEqual([...SIGN_IN_SCOPES]);
    expect(redirectUrls).toHaveLength(1);
    const callback = new URL(redirectUrls[0]!);
    expect(callback.protocol).toBe('https:');
    expect(callback.pathname).toBe('/auth/callback');
    expect(callback.host).toBe(new URL(command.url!).host);
  });

  it('sends commands, interactivity and events to /slack/events on one https host', () => {
    const { command, events, interactivity } = parts(manifest);
    const urls = [command.url, events.request_url, interactivity.request_url];
    for (const url of urls) {
      expect(url).toBeTypeOf('string');
      expect(new URL(url!).protocol).toBe('https:');
      expect(new URL(url!).pathname).toBe('/slack/events');
    }
    expect(new Set(urls.map((u) => new URL(u!).origin)).size).toBe(1);
  });

  it('turns on interactivity and the Home tab, and nothing the app does not use', () => {
    const { features, interactivity, settings } = parts(manifest);
    expect(interactivity.is_enabled).toBe(true);
    expect(features.app_home?.home_tab_enabled).toBe(true);
    expect(features.app_home?.messages_tab_enabled).toBe(true);
    expect(settings.org_deploy_enabled).toBe(false);
    expect(settings.socket_mode_enabled).toBe(false);
    expect(settings.token_rotation_enabled).toBe(false);
  });

  it('tells the reader to replace the host and how to use Socket Mode', () => {
    expect(text).toContain('CONDUCTOR_PUBLIC_URL');
    expect(text).toContain('SLACK_APP_TOKEN');
    expect(text).toMatch(/socket_mode_enabled: true/);
  });
});
