import type { CommitRef, Policy, Train } from './model.js';

/** Permissions of behaviour.md §3. Emails are compared case-insensitively. */
export const norm = (email: string): string => email.trim().toLowerCase();

export const isAdmin = (policy: Policy, who: string): boolean => policy.admins.some((a) => norm(a) === norm(who));
export const isRobot = (policy: Policy, who: string): boolean => policy.robots.some((r) => norm(r) === norm(who));

export const isEngineer = (train: Train | undefined, who: string): boolean => !!train?.engineer && norm(train.engineer) === norm(who);

/** The engineer or an admin: deploy, extend, derail, block, unblock, retry, roll back. */
export const canDrive = (policy: Policy, train: Train | undefined, who: string): boolean => isAdmin(policy, who) || isEngineer(train, who);

export const isAuthorOf = (commit: CommitRef, who: string): boolean => norm(commit.authorEmail) === norm(who);

/** Refusal sentences say who may do it. */
export const refusals = {
  adminOnly: (what: string, policy: Policy) => `Only admins may ${what}. Admins: ${policy.admins.length ? policy.admins.join(', ') : 'none configured'}.`,
  engineerOrAdmin: (what: string, train: Train | undefined) => `Only the engineer${train?.engineer ? ` (${train.engineer})` : ''} or an admin may ${what}.`,
};
