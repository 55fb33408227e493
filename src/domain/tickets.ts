import type { CommitRef, Policy, Ticket, Train } from './model.js';
import { isRobot, norm } from './policy.js';

/**
 * Rule 9: human authors owe a verification for their commits; robots do not;
 * `[no-verify]` waives it and `[needs-verify]` forces it, even for a robot.
 */
export function needsVerification(commit: CommitRef, policy: Policy): boolean {
  const msg = commit.message.toLowerCase();
  if (msg.includes('[needs-verify]')) return true;
  if (msg.includes('[no-verify]')) return false;
  return !isRobot(policy, commit.authorEmail);
}

/** One ticket per author per train, covering that author's commits that need verification. */
export function ticketsFor(train: Train, policy: Policy, now: Date, previous: Ticket[] = []): Ticket[] {
  const byAuthor = new Map<string, { name: string; commits: CommitRef[] }>();
  for (const c of train.commits) {
    if (!needsVerification(c, policy)) continue;
    const key = norm(c.authorEmail);
    const entry = byAuthor.get(key) ?? { name: c.authorName, commits: [] };
    entry.commits.push(c);
    byAuthor.set(key, entry);
  }
  const tickets: Ticket[] = [];
  for (const [email, { name, commits }] of byAuthor) {
    const old = previous.find((t) => norm(t.authorEmail) === email);
    // A carried ticket stays verified only if every commit it covers now was verified before.
    const verified = commits.every((c) => c.verifiedBy !== null);
    const last = verified ? latestVerification(commits) : null;
    tickets.push({
      authorEmail: email,
      authorName: name,
      state: verified ? 'verified' : 'pending',
      commitShas: commits.map((c) => c.sha),
      verifiedBy: last?.verifiedBy ?? null,
      verifiedAt: last?.verifiedAt ?? null,
      requestedAt: old?.requestedAt ?? null,
      remindedAt: old?.remindedAt ?? null,
      externalKey: old?.externalKey ?? null,
      externalUrl: old?.externalUrl ?? null,
      createdAt: old?.createdAt ?? now,
    });
  }
  return tickets;
}

function latestVerification(commits: CommitRef[]): CommitRef | null {
  let best: CommitRef | null = null;
  for (const c of commits) if (c.verifiedAt && (!best?.verifiedAt || c.verifiedAt > best.verifiedAt)) best = c;
  return best;
}

/** Marks (or unmarks) the ticket's commits, so the state follows them onto a later train. */
export function markCommits(train: Train, ticket: Ticket, by: string | null, at: Date | null): void {
  const shas = new Set(ticket.commitShas);
  for (const c of train.commits) {
    if (shas.has(c.sha)) {
      c.verifiedBy = by;
      c.verifiedAt = at;
    }
  }
}

/** Authors who carry a verification from an earlier train (some of their commits are marked). */
export function hasCarriedVerification(train: Train, ticket: Ticket): boolean {
  const shas = new Set(ticket.commitShas);
  return train.commits.some((c) => shas.has(c.sha) && c.verifiedBy !== null);
}
