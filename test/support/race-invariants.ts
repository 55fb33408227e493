// Invariants of one line, checked IN THE DATABASE after a race test
// (test/engine/races.test.ts). Each check returns sentences naming what is
// wrong, so a failing run says which train or commit broke which rule. The
// checks read through any `pg` client, so a test can also run them inside a
// transaction it corrupted on purpose (and rolls back) to prove they can fail.

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

const GOING = new Set(['delivering', 'verifying']);
const LIVE = new Set(['delivering', 'verifying', 'deploying']);

const norm = (email: string): string => email.trim().toLowerCase();

/** The same rule as src/domain/tickets.ts, restated here so the check does not trust the code under test. */
function needsVerification(message: string, authorEmail: string, robots: string[]): boolean {
  const msg = message.toLowerCase();
  if (msg.includes('[needs-verify]')) return true;
  if (msg.includes('[no-verify]')) return false;
  return !robots.map(norm).includes(norm(authorEmail));
}

interface TrainRow {
  id: number;
  number: number;
  state: string;
  head_sha: string;
  deploy_started_at: Date | null;
  deployed_at: Date | null;
  derail_reason: string | null;
  replaces_train_id: number | null;
  created_by: string;
  bisect: { state: string; builds: number; commits: number } | null;
}
interface CommitRow {
  id: number;
  sha: string;
  position: string;
  state: string;
  train_id: number | null;
  author_email: string;
  message: string;
}
interface JobRow {
  id: number;
  train_id: number;
  kind: string;
  state: string;
  attempt: number;
  output: string | null;
}
interface AuditRow {
  action: string;
  train_id: number | null;
  details: Record<string, unknown>;
}

export interface LineSnapshot {
  lineId: number;
  nextTrainNumber: number;
  commitSeq: number;
  trains: TrainRow[];
  commits: CommitRow[];
  members: { train_id: number; commit_id: number }[];
  tickets: { train_id: number; author_email: string; state: string; commit_shas: string[] }[];
  jobs: JobRow[];
  audit: AuditRow[];
}

export async function snapshot(db: Queryable, line: string): Promise<LineSnapshot> {
  const l = (await db.query<{ id: number; next_train_number: number; commit_seq: string }>('SELECT id, next_train_number, commit_seq FROM line WHERE name = $1', [line])).rows[0];
  if (!l) throw new Error(`line ${line} is not in the database`);
  const p = [l.id];
  // One query after another: `db` may be a single client (a test's corrupted transaction).
  const trains = await db.query<TrainRow>(
    `SELECT id, number, state, head_sha, deploy_started_at, deployed_at, derail_reason, replaces_train_id, created_by, bisect
     FROM train WHERE line_id = $1 ORDER BY number`,
    p,
  );
  const commits = await db.query<CommitRow>('SELECT id, sha, position::text, state, train_id, author_email, message FROM commit WHERE line_id = $1 ORDER BY commit.position', p);
  const members = await db.query<{ train_id: number; commit_id: number }>('SELECT tc.train_id, tc.commit_id FROM train_commit tc JOIN train t ON t.id = tc.train_id WHERE t.line_id = $1', p);
  const tickets = await db.query<{ train_id: number; author_email: string; state: string; commit_shas: string[] }>(
    'SELECT train_id, author_email, state, commit_shas FROM ticket WHERE line_id = $1',
    p,
  );
  const jobs = await db.query<JobRow>('SELECT j.id, j.train_id, j.kind, j.state, j.attempt, j.output FROM job j JOIN train t ON t.id = j.train_id WHERE t.line_id = $1', p);
  const audit = await db.query<AuditRow>('SELECT action, train_id, details FROM audit_entry WHERE line_id = $1 ORDER BY id', p);
  return {
    lineId: l.id,
    nextTrainNumber: l.next_train_number,
    commitSeq: Number(l.commit_seq),
    trains: trains.rows,
    commits: commits.rows,
    members: members.rows,
    tickets: tickets.rows,
    jobs: jobs.rows,
    audit: audit.rows,
  };
}

/** The train rules (behaviour.md §2, DESIGN "domain" invariants) as they must hold in the tables. */
export function stateViolations(s: LineSnapshot, robots: string[]): string[] {
  const bad: string[] = [];
  const trainById = new Map(s.trains.map((t) => [t.id, t]));
  const commitById = new Map(s.commits.map((c) => [c.id, c]));
  const name = (trainId: number | null) => (trainId === null ? 'none' : `#${trainById.get(trainId)?.number ?? `?id${trainId}`}`);

  // At most one going train (rule 2), at most one deploying train (rule 2: the next deploy waits).
  const going = s.trains.filter((t) => GOING.has(t.state));
  if (going.length > 1) bad.push(`${going.length} going trains: ${going.map((t) => `#${t.number} ${t.state}`).join(', ')}`);
  const deploying = s.trains.filter((t) => t.state === 'deploying');
  if (deploying.length > 1) bad.push(`${deploying.length} trains deploying at once: ${deploying.map((t) => `#${t.number}`).join(', ')}`);

  // Train numbers are 1..N with no gap, and the line's counter is N+1.
  s.trains.forEach((t, i) => {
    if (t.number !== i + 1) bad.push(`train numbers not contiguous: position ${i} holds #${t.number}`);
  });
  if (s.nextTrainNumber !== s.trains.length + 1) bad.push(`line.next_train_number is ${s.nextTrainNumber} with ${s.trains.length} trains`);

  // Commit positions are 1..N in branch order, and the counter agrees.
  s.commits.forEach((c, i) => {
    if (Number(c.position) !== i + 1) bad.push(`commit positions not contiguous: ${c.sha.slice(0, 8)} at ${c.position}, expected ${i + 1}`);
  });
  if (s.commitSeq !== s.commits.length) bad.push(`line.commit_seq is ${s.commitSeq} with ${s.commits.length} commits`);

  // Every commit is in exactly one of {platform, one live train, a deployed train, removed},
  // and its train_id agrees with train_commit membership and with the train's state.
  const heldBy = new Map<number, number[]>(); // commit -> non-derailed trains it is a member of
  const membersOf = new Map<number, number[]>(); // train -> commits
  for (const m of s.members) {
    membersOf.set(m.train_id, [...(membersOf.get(m.train_id) ?? []), m.commit_id]);
    const t = trainById.get(m.train_id);
    if (t && t.state !== 'derailed') heldBy.set(m.commit_id, [...(heldBy.get(m.commit_id) ?? []), m.train_id]);
  }
  for (const c of s.commits) {
    const sha = c.sha.slice(0, 8);
    const holders = heldBy.get(c.id) ?? [];
    if (holders.length > 1) bad.push(`commit ${sha} is on ${holders.length} non-derailed trains: ${holders.map(name).join(', ')}`);
    const t = c.train_id === null ? undefined : trainById.get(c.train_id);
    switch (c.state) {
      case 'platform':
      case 'removed':
        if (c.train_id !== null) bad.push(`commit ${sha} is ${c.state} but train_id points to ${name(c.train_id)}`);
        if (holders.length > 0) bad.push(`commit ${sha} is ${c.state} but rides non-derailed train ${holders.map(name).join(', ')}`);
        break;
      case 'train':
      case 'deployed': {
        const want = c.state === 'train' ? LIVE : new Set(['deployed']);
        if (!t) {
          bad.push(`commit ${sha} is ${c.state} without a train`);
          break;
        }
        if (!want.has(t.state)) bad.push(`commit ${sha} is ${c.state} on train #${t.number}, which is ${t.state}`);
        if (holders.length !== 1 || holders[0] !== t.id)
          bad.push(`commit ${sha} points to train #${t.number} but is a member of ${holders.length ? holders.map(name).join(', ') : 'no non-derailed train'}`);
        break;
      }
      default:
        bad.push(`commit ${sha} has unknown state ${c.state}`);
    }
  }
  for (const t of s.trains) {
    const mine = (membersOf.get(t.id) ?? []).map((id) => commitById.get(id)!).sort((a, b) => Number(a.position) - Number(b.position));
    if (mine.length === 0) bad.push(`train #${t.number} has no commits`);
    if (mine.length && mine[mine.length - 1]!.sha !== t.head_sha)
      bad.push(`train #${t.number} head ${t.head_sha.slice(0, 8)} is not its newest commit ${mine[mine.length - 1]!.sha.slice(0, 8)}`);
    if (t.state === 'derailed') {
      if (!t.derail_reason) bad.push(`derailed train #${t.number} has no reason`);
      const open = s.jobs.filter((j) => j.train_id === t.id && (j.state === 'queued' || j.state === 'running'));
      if (open.length) bad.push(`derailed train #${t.number} still has ${open.length} unfinished job(s)`);
      continue;
    }
    const want = t.state === 'deployed' ? 'deployed' : 'train';
    for (const c of mine) {
      if (c.train_id !== t.id || c.state !== want) bad.push(`train #${t.number} (${t.state}) holds commit ${c.sha.slice(0, 8)} whose row says ${c.state} on ${name(c.train_id)}`);
    }
  }

  // Deploys: a deployed train had every ticket verified, a successful build,
  // exactly one successful deploy job, and its deploy started exactly once.
  const auditFor = (action: string, trainId: number) => s.audit.filter((a) => a.action === action && a.train_id === trainId);
  for (const t of s.trains) {
    const jobs = s.jobs.filter((j) => j.train_id === t.id);
    const deploysOk = jobs.filter((j) => j.kind === 'deploy' && j.state === 'succeeded').length;
    const started = auditFor('train.deploy-started', t.id).length;
    const deployedAudit = auditFor('train.deployed', t.id).length;
    const everStarted = t.state === 'deploying' || t.state === 'deployed';
    if (started !== (everStarted ? 1 : 0)) bad.push(`train #${t.number} (${t.state}) has ${started} deploy-started audit entries`);
    if (everStarted !== (t.deploy_started_at !== null)) bad.push(`train #${t.number} (${t.state}) deploy_started_at is ${t.deploy_started_at}`);
    if (!everStarted && jobs.some((j) => j.kind === 'deploy')) bad.push(`train #${t.number} (${t.state}) has a deploy job but never started a deploy`);
    if (t.state === 'deployed') {
      if (deploysOk !== 1) bad.push(`deployed train #${t.number} has ${deploysOk} successful deploy jobs`);
      if (deployedAudit !== 1) bad.push(`deployed train #${t.number} has ${deployedAudit} train.deployed audit entries`);
      if (!jobs.some((j) => j.kind === 'build' && j.state === 'succeeded')) bad.push(`deployed train #${t.number} never built successfully`);
      const tickets = s.tickets.filter((k) => k.train_id === t.id);
      for (const k of tickets) if (k.state !== 'verified') bad.push(`deployed train #${t.number}: ticket of ${k.author_email} is ${k.state}`);
      for (const id of membersOf.get(t.id) ?? []) {
        const c = commitById.get(id)!;
        if (!needsVerification(c.message, c.author_email, robots)) continue;
        const k = tickets.find((x) => norm(x.author_email) === norm(c.author_email));
        if (!k || k.state !== 'verified' || !k.commit_shas.includes(c.sha))
          bad.push(`deployed train #${t.number}: commit ${c.sha.slice(0, 8)} by ${c.author_email} was never verified on it`);
      }
    } else {
      if (deploysOk !== 0) bad.push(`train #${t.number} (${t.state}) has ${deploysOk} successful deploy jobs`);
      if (deployedAudit !== 0) bad.push(`train #${t.number} (${t.state}) has ${deployedAudit} train.deployed audit entries`);
    }
  }

  // Every finished job was finished once: by one result, one timeout, or one stop.
  for (const j of s.jobs) {
    const t = trainById.get(j.train_id)!;
    const matches = (a: AuditRow) => a.train_id === j.train_id && a.details.kind === j.kind && a.details.attempt === j.attempt;
    const results = s.audit.filter((a) => (a.action === 'job.succeeded' || a.action === 'job.failed') && matches(a));
    const timeouts = s.audit.filter((a) => a.action === 'job.timed-out' && matches(a));
    const stopped = (j.output ?? '').includes('[stopped by Conductor]') ? 1 : 0;
    const ends = results.length + timeouts.length + stopped;
    const what = `job ${j.kind} #${j.attempt} of train #${t.number} (${j.state})`;
    if (j.state === 'queued' || j.state === 'running') {
      if (ends !== 0) bad.push(`${what} is unfinished but has ${ends} endings`);
    } else if (ends !== 1) {
      bad.push(`${what} ended ${ends} times (${results.length} results, ${timeouts.length} timeouts, ${stopped} stops)`);
    } else if (results.length === 1 && results[0]!.action !== `job.${j.state}`) {
      bad.push(`${what} disagrees with its audit entry ${results[0]!.action}`);
    }
    if (j.state === 'running' && s.audit.filter((a) => a.action === 'job.started' && matches(a)).length !== 1) bad.push(`${what} is running without exactly one job.started entry`);
  }

  // Each train was created exactly once, by a creation or an extension.
  for (const t of s.trains) {
    const created = auditFor('train.created', t.id).length;
    const extended = auditFor('train.extended', t.id).length;
    const want = t.replaces_train_id === null ? [1, 0] : [0, 1];
    if (created !== want[0] || extended !== want[1]) bad.push(`train #${t.number} has ${created} created and ${extended} extended entries`);
    if (t.replaces_train_id !== null && trainById.get(t.replaces_train_id)?.state !== 'derailed')
      bad.push(`train #${t.number} replaced train ${name(t.replaces_train_id)}, which is not derailed`);
  }

  // behaviour.md §8: a culprit search's builds are its train's bisect jobs, never more than ⌈log₂ n⌉ + 2;
  // a search that ended has no build left running, and a train without a search has no bisect job.
  for (const t of s.trains) {
    const searched = s.jobs.filter((j) => j.train_id === t.id && j.kind === 'bisect');
    const b = t.bisect;
    if (!b) {
      if (searched.length > 0) bad.push(`train #${t.number} has ${searched.length} bisect jobs but no search`);
      continue;
    }
    if (searched.length !== b.builds) bad.push(`train #${t.number}: the search counts ${b.builds} builds, ${searched.length} bisect jobs exist`);
    if (b.builds > Math.ceil(Math.log2(b.commits)) + 2) bad.push(`train #${t.number}: ${b.builds} search builds for ${b.commits} commits, above the bound`);
    if (b.state !== 'running' && searched.some((j) => j.state === 'queued' || j.state === 'running')) bad.push(`train #${t.number}: the search is ${b.state} but a build still runs`);
  }
  return bad;
}

/** Audit actions and the inputs that write them (one entry per applied input). */
export const AUDIT_OF_INPUT: Record<string, string[]> = {
  deploy: ['train.deploy-started'],
  derail: ['train.derailed'],
  extend: ['train.extended'],
  block: ['train.blocked'],
  unblock: ['train.unblocked'],
  engineer: ['train.engineer'],
  mode: ['line.mode'],
  emergency: ['line.emergency'],
  verify: ['ticket.verified'],
  reopen: ['ticket.reopened'],
  retry: ['job.retried'],
  rollback: ['line.rollback'],
  revert: ['commit.revert-requested'],
  freeze: ['line.freeze-add', 'line.freeze-remove'],
  jobStarted: ['job.started'],
  jobFinished: ['job.succeeded', 'job.failed'],
};

/** Entries not tied one-to-one to an input kind; they are explained by other tables (see auditViolations). */
const DERIVED = new Set([
  'commits.arrived',
  'branch.rewritten',
  'train.created',
  'train.deployed',
  'job.timed-out',
  'ticket.reminded',
  'job.unknown',
  'line.rolled-back',
  // behaviour.md §8: the culprit search follows a failed build, its builds' results, and what cancels it.
  'bisect.started',
  'bisect.built',
  'bisect.found',
  'bisect.flaky',
  'bisect.cancelled',
]);

export interface Applied {
  /** Applied inputs per kind: calls with an ok reply, each idempotency key counted once. */
  byKind: Map<string, number>;
  /** Commits the ok push replies say they recorded (keys counted once). */
  commitsRecorded: number;
  /** Push replies that recorded at least one commit (keys counted once). */
  pushesWithCommits: number;
  /** Trains `start` created. */
  starts: number;
  /** ok tick replies. */
  ticks: number;
}

/**
 * Every applied input has its audit entry and no input was applied twice:
 * the ok replies callers received, counted per idempotency key, must equal the
 * audit rows of the matching actions, exactly. A replayed key applied twice
 * writes a second entry; a lost write leaves a reply without its entry.
 */
export function auditViolations(s: LineSnapshot, applied: Applied, admins: string[]): string[] {
  const bad: string[] = [];
  const count = (actions: string[]) => s.audit.filter((a) => actions.includes(a.action)).length;
  for (const [kind, actions] of Object.entries(AUDIT_OF_INPUT)) {
    const want = applied.byKind.get(kind) ?? 0;
    const got = count(actions);
    if (got !== want) bad.push(`${want} applied ${kind} input(s) but ${got} ${actions.join('/')} audit entries`);
  }
  const arrived = s.audit.filter((a) => a.action === 'commits.arrived');
  if (arrived.length !== applied.pushesWithCommits) bad.push(`${applied.pushesWithCommits} pushes recorded commits but ${arrived.length} commits.arrived entries`);
  const arrivedSum = arrived.reduce((n, a) => n + Number(a.details.count), 0);
  if (arrivedSum !== s.commits.length || applied.commitsRecorded !== s.commits.length)
    bad.push(`${s.commits.length} commit rows, replies say ${applied.commitsRecorded} recorded, audit says ${arrivedSum}`);
  const started = s.trains.filter((t) => t.replaces_train_id === null && admins.includes(t.created_by)).length;
  if (started !== applied.starts) bad.push(`${applied.starts} applied start(s) but ${started} trains created by hand`);
  const tickOnly = count(['job.timed-out', 'ticket.reminded']);
  if (tickOnly > 0 && applied.ticks === 0) bad.push(`${tickOnly} timeout/reminder entries but no tick was applied`);
  const known = new Set([...Object.values(AUDIT_OF_INPUT).flat(), ...DERIVED]);
  for (const a of s.audit) if (!known.has(a.action)) bad.push(`unexpected audit action ${a.action}`);
  return bad;
}
