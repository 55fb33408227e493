import { createHash } from 'node:crypto';
import { Version3Client } from 'jira.js';
import type { Logger } from 'pino';
import type { Ticket, Train } from '../../domain/index.js';
import { type AdfDoc, bulletList, doc, paragraph, text } from './adf.js';
import { fieldErrorsOf, PermanentJiraError, toJiraError } from './errors.js';

export { PermanentJiraError, RetryableJiraError } from './errors.js';

/**
 * The Jira ticket desk (behaviour.md §4 "Tickets"): a parent issue per train and one
 * sub-task per author, assigned to the author's Jira account (found by email).
 *
 * jira.js 5.4.0 and its `Version3Client` (6.x dropped it and declares Node ≥ 22).
 * REST v3 endpoints used, and nothing else (test/support/fake-jira.ts serves exactly these):
 *
 *   POST /rest/api/3/issue                      create parent / sub-task
 *   GET  /rest/api/3/issue/{key}?fields=status   current status before each transition
 *   GET  /rest/api/3/user/search?query=<email>   author → accountId
 *   GET  /rest/api/3/issue/{key}/transitions     transitions with their target status
 *   POST /rest/api/3/issue/{key}/transitions     do one
 *   POST /rest/api/3/search/jql                  the enhanced JQL search (the old /search is being removed)
 *   POST /rest/api/3/issueLink                   "Relates" link: carried ticket ↔ new parent
 *
 * Idempotency by train: every issue Conductor creates carries the labels
 * `conductor` and `conductor-<line>-train-<N>` (sub-tasks also
 * `conductor-author-<hash of the email>`), so a retried `open` finds what an
 * earlier attempt created and only creates what is missing. Jira's search is
 * eventually consistent (an issue created a second ago may be missing from it),
 * so issues created by this process are also remembered in memory.
 *
 * Errors: 429 → RetryLaterError; 4xx (but 401/408/409) → PermanentJiraError
 * (an outbox PermanentEffectError: the item is closed); 5xx, network and
 * timeouts → RetryableJiraError (the outbox retries).
 */
export interface JiraDeskOptions {
  url: string;
  email: string;
  apiToken: string;
  /** Project key, e.g. WEB. */
  project: string;
  /** Status name that means verified, e.g. 'Done' (compared case-insensitively). */
  doneStatus: string;
  log: Logger;
  /** Default 'Sub-task'. */
  subtaskType?: string;
  /** Default 'Task'. */
  parentType?: string;
  /** Per-request timeout; default 15 s. */
  timeoutMs?: number;
}

export interface OpenedTicket {
  authorEmail: string;
  externalKey: string;
  externalUrl: string;
}

export interface JiraDesk {
  open(msg: { line: string; train: Train; key: string }): Promise<OpenedTicket[]>;
  setDone(externalKey: string, done: boolean): Promise<void>;
  states(keys: string[]): Promise<{ key: string; done: boolean }[]>;
}

/** Label every Conductor issue carries (the webhook's JQL filter: `labels = conductor`). */
export const CONDUCTOR_LABEL = 'conductor';
/** Most commits listed in a sub-task's description; the rest are counted. */
export const MAX_LISTED_COMMITS = 50;
const SEARCH_PAGE = 100;
const KEY = /^[A-Z][A-Z0-9_]*-[1-9]\d*$/;
const SUMMARY_LIMIT = 255;
/**
 * Most transitions one setDone takes: enough for the usual workflows (one or
 * two statuses in between), small enough that a strange workflow fails fast
 * with a clear message instead of wandering through it.
 */
export const MAX_WALK = 4;

export function trainLabel(line: string, train: number): string {
  return `conductor-${line.replace(/[^A-Za-z0-9_-]/g, '_')}-train-${train}`;
}

export function authorLabel(email: string): string {
  return `conductor-author-${createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 12)}`;
}

interface SearchIssue {
  id: string;
  key: string;
  fields?: {
    labels?: string[];
    parent?: { key?: string } | null;
    status?: { name?: string } | null;
    issuelinks?: { inwardIssue?: { key?: string }; outwardIssue?: { key?: string } }[];
  };
}

interface JiraUser {
  accountId?: string;
  accountType?: string;
  active?: boolean;
  emailAddress?: string;
}

interface Transition {
  id?: string;
  name?: string;
  /** Jira lists only available transitions unless asked otherwise; false ones are skipped all the same. */
  isAvailable?: boolean;
  to?: { name?: string; statusCategory?: { key?: string } };
}

/** A status and its Jira category key ('new', 'indeterminate', 'done'; null when Jira sends none). */
interface IssueStatus {
  name: string | null;
  category: string | null;
}

// Over 80 lines on purpose: a factory whose inner functions share the client and its memory of created issues.
export function createJiraDesk(o: JiraDeskOptions): JiraDesk {
  if (!/^[A-Z][A-Z0-9_]+$/.test(o.project)) throw new Error(`Jira project key "${o.project}" is not a project key (e.g. WEB)`);
  if (!o.doneStatus.trim()) throw new Error('Jira doneStatus must not be empty');
  const base = o.url.replace(/\/+$/, '');
  const client = new Version3Client({
    host: base,
    authentication: { basic: { email: o.email, apiToken: o.apiToken } },
    baseRequestConfig: { timeout: o.timeoutMs ?? 15_000 },
  });
  const log = o.log.child({ component: 'jira-desk', project: o.project });
  const subtaskType = o.subtaskType ?? 'Sub-task';
  const parentType = o.parentType ?? 'Task';
  const done = o.doneStatus.trim().toLowerCase();
  const norm = (status: string | undefined | null): string => (status ?? '').trim().toLowerCase();
  const isDone = (status: string | undefined | null): boolean => norm(status) === done;
  const browse = (key: string): string => `${base}/browse/${key}`;

  /** What this process created, per train label: covers the search's indexing lag on a quick retry. */
  const created = new Map<string, { parent: string | null; byAuthor: Map<string, string> }>();
  const remember = (label: string): { parent: string | null; byAuthor: Map<string, string> } => {
    let m = created.get(label);
    if (!m) {
      m = { parent: null, byAuthor: new Map() };
      created.set(label, m);
      if (created.size > 200) created.delete(created.keys().next().value!);
    }
    return m;
  };
  const accounts = new Map<string, string>();

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toJiraError(what, err);
    }
  }

  async function search(jql: string, fields: string[]): Promise<SearchIssue[]> {
    const out: SearchIssue[] = [];
    let nextPageToken: string | undefined;
    for (let page = 0; page < 100; page++) {
      const res = await call('the issue search', () =>
        client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost<{ issues?: SearchIssue[]; nextPageToken?: string; isLast?: boolean }>({
          jql,
          fields,
          maxResults: SEARCH_PAGE,
          ...(nextPageToken ? { nextPageToken } : {}),
        }),
      );
      out.push(...(res.issues ?? []));
      if (res.isLast !== false || !res.nextPageToken) break;
      nextPageToken = res.nextPageToken;
    }
    return out;
  }

  /** The author's Jira account: an active human account whose (visible) email matches; null when none. */
  async function accountFor(email: string): Promise<string | null> {
    const wanted = email.trim().toLowerCase();
    const cached = accounts.get(wanted);
    if (cached) return cached;
    const users = await call(`the user search for ${email}`, () => client.userSearch.findUsers<JiraUser[]>({ query: wanted, maxResults: 10 }));
    const humans = (Array.isArray(users) ? users : []).filter((u) => u.accountId && u.active !== false && (u.accountType ?? 'atlassian') === 'atlassian');
    // Jira hides emailAddress for users with a private profile: then a single hit on the email query is the author.
    const exact = humans.find((u) => u.emailAddress?.toLowerCase() === wanted);
    const pick = exact ?? (humans.length === 1 && humans[0]!.emailAddress === undefined ? humans[0] : undefined);
    if (!pick?.accountId) return null;
    accounts.set(wanted, pick.accountId);
    return pick.accountId;
  }

  async function createIssue(what: string, fields: Record<string, unknown>): Promise<string> {
    const res = await call(`creating ${what}`, () => client.issues.createIssue<{ id: string; key: string }>({ fields: fields as never }));
    if (!res?.key) throw new PermanentJiraError(0, `Jira answered creating ${what} without an issue key`);
    return res.key;
  }

  function subtaskDescription(line: string, train: Train, ticket: Ticket, assigned: boolean): AdfDoc {
    const shas = new Set(ticket.commitShas);
    const commits = train.commits.filter((c) => shas.has(c.sha));
    const listed = commits.slice(0, MAX_LISTED_COMMITS);
    const items = listed.map((c) => [text(c.sha.slice(0, 10), 'code'), ` ${firstLine(c.message)}`]);
    if (commits.length > listed.length) items.push([`… and ${commits.length - listed.length} more`]);
    return doc(
      paragraph(
        `${ticket.authorName} <${ticket.authorEmail}>: your changes are on train #${train.number} of ${line} (head ${train.headSha.slice(0, 10)}). ` +
          `Verify them on staging, then press Verify in Slack or move this issue to ${o.doneStatus}.`,
      ),
      bulletList(items),
      ...(assigned ? [] : [paragraph(`No Jira account was found for ${ticket.authorEmail}: this issue is unassigned. Please assign it to them.`)]),
    );
  }

  function parentDescription(line: string, train: Train): AdfDoc {
    const authors = [...new Set(train.tickets.map((t) => `${t.authorName} <${t.authorEmail}>`))];
    return doc(
      paragraph(
        `Release train #${train.number} of ${line}: ${train.commits.length} commit(s) up to ${train.headSha.slice(0, 10)}. ` +
          `Each author has a sub-task; the train deploys once every sub-task is ${o.doneStatus} (or verified in Slack).`,
      ),
      bulletList(authors.map((a) => [a])),
    );
  }

  async function readStatus(key: string): Promise<IssueStatus> {
    const issue = await call(`reading ${key}`, () =>
      client.issues.getIssue<{ fields?: { status?: { name?: string; statusCategory?: { key?: string } } } }>({ issueIdOrKey: key, fields: ['status'] }),
    );
    return { name: issue.fields?.status?.name ?? null, category: issue.fields?.status?.statusCategory?.key ?? null };
  }

  async function currentStatus(key: string): Promise<string | null> {
    return (await readStatus(key)).name;
  }

  /**
   * Where setDone is heading. Done: the configured done status. Not done: an
   * open status, i.e. neither the done status nor another status of Jira's
   * "done" category ("Closed", "Won't Do"): an issue reopened in Conductor must
   * look open in Jira, so such a status is only a step on the way.
   * The same test decides "already there" and "arrived", so a retry after a
   * partial walk carries on from wherever the issue is, and stops when it is there.
   */
  const arrived = (s: IssueStatus, wantDone: boolean): boolean => (wantDone ? isDone(s.name) : !isDone(s.name) && s.category !== 'done');

  /**
   * The next transition of a walk toward the wanted state, or undefined when
   * none gets closer. Statuses already seen in this walk are never targets (no
   * cycles). A transition that arrives wins; reopening prefers an open status
   * like a new issue's ("To Do", then Jira's "new" category). Otherwise a step
   * through a status not seen yet: toward done, "in progress" statuses first,
   * never a done-category status other than the done one (that would close the
   * issue as e.g. "Won't Do"); out of done, the only steps left are through
   * other done-category statuses (e.g. Done → Closed → Reopened).
   */
  function nextStep(transitions: Transition[], wantDone: boolean, visited: Set<string>): Transition | undefined {
    const usable = transitions.filter((t) => !visited.has(norm(t.to!.name)));
    const to = (t: Transition): IssueStatus => ({ name: t.to!.name!, category: t.to!.statusCategory?.key ?? null });
    const rank = <T>(list: T[], score: (t: T) => number): T | undefined => list.map((t, i) => ({ t, s: score(t), i })).sort((a, b) => a.s - b.s || a.i - b.i)[0]?.t;
    const arriving = usable.filter((t) => arrived(to(t), wantDone));
    if (arriving.length) {
      if (wantDone) return arriving[0];
      const categoryRank = { new: 1, indeterminate: 2 } as Record<string, number>;
      return rank(arriving, (t) => (norm(t.to!.name) === 'to do' ? 0 : (categoryRank[t.to!.statusCategory?.key ?? ''] ?? 3)));
    }
    const via = usable.filter((t) => !wantDone || t.to!.statusCategory?.key !== 'done');
    const stepRank = { indeterminate: 0, new: 1 } as Record<string, number>;
    return rank(via, (t) => stepRank[t.to!.statusCategory?.key ?? ''] ?? 2);
  }

  /**
   * Moves the issue to the done status (done) or out of it to an open status
   * (not done), walking the workflow: Jira only offers the transitions of the
   * current status, and a workflow often needs a status in between (To Do →
   * In Progress → Done; Done → Closed → Reopened). At most MAX_WALK
   * transitions, each chosen from a fresh read of the issue (its status may
   * have moved meanwhile, by a person or a post-function). A transition Jira
   * refuses (400) because the issue moved between the listing and the POST is
   * not an error: the walk goes on from the new status. Runs from the
   * outbox, so it is idempotent: already there → nothing is sent; a retry
   * after a walk that broke half way continues from the current status.
   * No way forward → PermanentJiraError naming the status, the transitions
   * it offers and the steps already taken (those stay: Jira has no undo).
   */
  async function setDone(externalKey: string, wantDone: boolean): Promise<void> {
    if (!KEY.test(externalKey)) throw new PermanentJiraError(0, `"${externalKey}" is not a Jira issue key`);
    const goal = wantDone ? `to "${o.doneStatus}"` : `out of "${o.doneStatus}" to an open status`;
    const visited = new Set<string>();
    const taken: string[] = [];
    /** The status read after a refused transition: the next step starts from it. */
    let reread: IssueStatus | null = null;
    for (let step = 1; ; step++) {
      const status = reread ?? (await readStatus(externalKey));
      reread = null;
      if (arrived(status, wantDone)) {
        if (step === 1) log.debug({ key: externalKey, status: status.name, wantDone }, 'jira issue already in the wanted state');
        return;
      }
      /** `summary`: the short reason told in the channel (the message has the transitions for the log and the outbox). */
      const stuck = (why: string, summary: string, transitions: Transition[]): PermanentJiraError => {
        const available = transitions.map((t) => `"${t.name}" → ${t.to!.name}`).join(', ') || 'none';
        const walked = taken.length ? `; moved so far: ${taken.join(', ')}` : '';
        log.warn({ key: externalKey, status: status.name, wantDone, goal, taken }, 'jira issue stuck on its way');
        return new PermanentJiraError(0, `${externalKey} (status ${status.name ?? 'unknown'}) ${why}; available: ${available}${walked}`, { summary });
      };
      visited.add(norm(status.name));
      const res = await call(`listing the transitions of ${externalKey}`, () => client.issues.getTransitions<{ transitions?: Transition[] }>({ issueIdOrKey: externalKey }));
      const transitions = (res.transitions ?? []).filter((t) => t.id && t.to?.name && t.isAvailable !== false);
      const where = `"${status.name ?? 'unknown'}"`;
      if (step > MAX_WALK) throw stuck(`is not ${wantDone ? `"${o.doneStatus}"` : 'open'} after ${MAX_WALK} transitions`, `still ${where} after ${MAX_WALK} transitions`, transitions);
      const pick = nextStep(transitions, wantDone, visited);
      if (!pick) throw stuck(`has no transition ${goal}`, `no transition ${wantDone ? `to "${o.doneStatus}"` : 'to an open status'} from ${where}`, transitions);
      try {
        await call(`moving ${externalKey} to ${pick.to!.name}`, () => client.issues.doTransition({ issueIdOrKey: externalKey, transition: { id: pick.id! } }));
      } catch (err) {
        // Jira answers 400 when the transition is not offered from the issue's status any more: someone moved the
        // issue between the listing and this POST. Then the walk goes on from where they put it (the refused
        // attempt still counts as a step); a 400 with the status unchanged is a real refusal.
        if (!(err instanceof PermanentJiraError && err.status === 400)) throw err;
        const now = await readStatus(externalKey);
        if (norm(now.name) === norm(status.name)) throw err;
        log.info(
          { key: externalKey, step, from: status.name, to: pick.to!.name, movedTo: now.name, wantDone },
          'jira refused the transition: the issue was moved meanwhile; going on from its new status',
        );
        reread = now;
        continue;
      }
      taken.push(`"${pick.name}" → ${pick.to!.name}`);
      log.info({ key: externalKey, step, from: status.name, to: pick.to!.name, transition: pick.name, wantDone }, 'jira issue moved');
      // Jira answers 204 once the transition is made: no need to read the issue back when this one arrives.
      if (arrived({ name: pick.to!.name!, category: pick.to!.statusCategory?.key ?? null }, wantDone)) return;
    }
  }

  return {
    // Over 80 lines on purpose: parent issue, then one sub-task per author, each step idempotent by label, read top to bottom.
    async open({ line, train }) {
      const label = trainLabel(line, train.number);
      const mem = remember(label);
      const found = await search(`project = "${o.project}" AND labels = "${label}" ORDER BY created ASC`, ['labels', 'parent', 'status', 'issuelinks']);
      const parentIssue = found.find((i) => !i.fields?.parent?.key && !i.fields?.labels?.some((l) => l.startsWith('conductor-author-')));
      let parentKey = parentIssue?.key ?? mem.parent;
      const byAuthor = new Map(mem.byAuthor);
      for (const i of found) {
        const a = i.fields?.labels?.find((l) => l.startsWith('conductor-author-'));
        if (a && i.fields?.parent?.key && !byAuthor.has(a)) byAuthor.set(a, i.key);
      }
      if (!parentKey) {
        parentKey = await createIssue(`the issue of train #${train.number}`, {
          project: { key: o.project },
          issuetype: { name: parentType },
          summary: clip(`Train #${train.number} (${line})`),
          labels: [CONDUCTOR_LABEL, label],
          description: parentDescription(line, train),
        });
        log.info({ line, train: train.number, key: parentKey }, 'jira train issue created');
      }
      mem.parent = parentKey;

      const linked = new Set<string>();
      for (const l of parentIssue?.fields?.issuelinks ?? []) {
        if (l.inwardIssue?.key) linked.add(l.inwardIssue.key);
        if (l.outwardIssue?.key) linked.add(l.outwardIssue.key);
      }

      const out: OpenedTicket[] = [];
      for (const ticket of train.tickets) {
        if (ticket.externalKey) {
          // Carried over from an earlier train (extend/derail): keep it, relate it to this train.
          if (!linked.has(ticket.externalKey) && ticket.externalKey !== parentKey) {
            await call(`linking ${ticket.externalKey} to ${parentKey}`, () =>
              client.issueLinks.linkIssues({
                type: { name: 'Relates' },
                inwardIssue: { key: ticket.externalKey! },
                outwardIssue: { key: parentKey },
              }),
            );
            linked.add(ticket.externalKey);
          }
          out.push({ authorEmail: ticket.authorEmail, externalKey: ticket.externalKey, externalUrl: ticket.externalUrl ?? browse(ticket.externalKey) });
          continue;
        }
        const aLabel = authorLabel(ticket.authorEmail);
        let key = byAuthor.get(aLabel);
        if (!key) {
          const accountId = await accountFor(ticket.authorEmail);
          const fields = (assigned: boolean): Record<string, unknown> => ({
            project: { key: o.project },
            issuetype: { name: subtaskType },
            parent: { key: parentKey },
            summary: clip(`Verify ${ticket.authorName || ticket.authorEmail}'s changes on train #${train.number}`),
            labels: [CONDUCTOR_LABEL, label, aLabel],
            description: subtaskDescription(line, train, ticket, assigned),
            ...(assigned && accountId ? { assignee: { accountId } } : {}),
          });
          const what = `the sub-task of ${ticket.authorEmail} on train #${train.number}`;
          try {
            key = await createIssue(what, fields(accountId !== null));
          } catch (err) {
            // The account exists but may not be assignable in this project: create it unassigned rather than not at all.
            if (!(accountId && err instanceof PermanentJiraError && err.status === 400 && 'assignee' in fieldErrorsOf(err.cause))) throw err;
            log.warn({ email: ticket.authorEmail, err }, 'jira refused the assignee; creating the sub-task unassigned');
            key = await createIssue(what, fields(false));
          }
          mem.byAuthor.set(aLabel, key);
          byAuthor.set(aLabel, key);
          log.info({ line, train: train.number, key, author: ticket.authorEmail, assigned: accountId !== null }, 'jira sub-task created');
        }
        // A ticket verified before its sub-task existed is moved to Done by a ticket.sync the caller
        // (deliver.ts) queues once the key is recorded: one path for retries and give-ups.
        out.push({ authorEmail: ticket.authorEmail, externalKey: key, externalUrl: browse(key) });
      }
      return out;
    },

    setDone,

    async states(keys) {
      const valid = [...new Set(keys.filter((k) => KEY.test(k)))];
      const out: { key: string; done: boolean }[] = [];
      for (let i = 0; i < valid.length; i += SEARCH_PAGE) {
        const chunk = valid.slice(i, i + SEARCH_PAGE);
        let issues: SearchIssue[];
        try {
          issues = await search(`key in (${chunk.join(', ')})`, ['status']);
        } catch (err) {
          // JQL refuses the whole query when one key no longer exists (deleted/moved issue):
          // fall back to one read per key, skipping the missing ones.
          if (!(err instanceof PermanentJiraError && err.status === 400)) throw err;
          log.warn({ err }, 'jira search refused the keys; reading them one by one');
          issues = [];
          for (const key of chunk) {
            try {
              const status = await currentStatus(key);
              issues.push({ id: key, key, fields: { status: { name: status ?? '' } } });
            } catch (e) {
              if (e instanceof PermanentJiraError && e.status === 404) continue;
              throw e;
            }
          }
        }
        for (const issue of issues) out.push({ key: issue.key, done: isDone(issue.fields?.status?.name) });
      }
      return out;
    },
  };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').trim().slice(0, 200);
}

function clip(s: string): string {
  return s.length <= SUMMARY_LIMIT ? s : s.slice(0, SUMMARY_LIMIT - 1) + '…';
}
