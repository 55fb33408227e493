/** The domain: pure train rules. No I/O, no clock, no randomness of its own. */

export * from './bisect.js';
export * from './deployability.js';
export { type Decision, Draft, refuse } from './draft.js';
export * from './effects.js';
export * from './health.js';
export * from './identity.js';
export { canAutoStart, inAutoTime, pickEngineer, platformBase, short } from './lifecycle.js';
export * from './model.js';
export * from './output-tail.js';
export * from './policy.js';
export * from './rules/health.js';
export * from './rules/inputs.js';
export * from './rules/people.js';
export * from './rules/revert-extend.js';
export * from './rules/settings.js';
export * from './rules/train-commands.js';
export * from './tickets.js';
export * from './time.js';
export { endSentence, plural as pluralWord, pluralAgree } from './words.js';
