/**
 * Everything Conductor registers with Slack, in one place: the manifest test
 * holds `manifest.yml` against these, and the listeners use them.
 */
export const SLASH_COMMAND = '/conductor';

/** Buttons. Each carries `value` = JSON of `ActionValue`. */
export const ACTIONS = {
  verify: 'train.verify',
  reopen: 'train.reopen',
  deploy: 'train.deploy',
  claim: 'train.claim',
  retry: 'train.retry',
  extend: 'train.extend',
  derail: 'train.derail',
  /** behaviour.md §8: revert the culprit the search found and extend the train with the revert. */
  revertExtend: 'train.revert-extend',
} as const;
export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];

/** What a button names: the line and the train it acts on. */
export interface ActionValue {
  line: string;
  train: number;
}

/** Modals. The confirmation modal carries `private_metadata` = JSON of `ConfirmMetadata`. */
export const VIEWS = {
  confirm: 'conductor.confirm',
} as const;

export interface ConfirmMetadata {
  line: string;
  /** The command text to run once confirmed, e.g. `emergency prod is down`. */
  text: string;
  /** Where the command was typed, to answer there. */
  channel: string | null;
}

/** Events the app subscribes to. */
export const EVENTS = ['app_home_opened'] as const;

/** Bot scopes the manifest requests. */
export const BOT_SCOPES = ['commands', 'chat:write', 'chat:write.public', 'im:write', 'users:read', 'users:read.email'] as const;
