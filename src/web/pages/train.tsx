/**
 * `GET /lines/<line>/trains/<n>` (docs/behaviour.md §7): one train with its
 * timeline, jobs (a running local job's output followed live by the browser
 * script), and commits grouped by author with their tickets, a page of authors
 * at a time so a 5,000-commit train stays readable.
 */
import type { VNode } from 'preact';
import { UnknownLineError } from '../../engine/engine.js';
import { type AuthorGroup, COMMITS_SHOWN, type JobView, readTrainPage, type TimelineStep, type TrainPage } from '../../engine/read/train-page.js';
import type { RouteContext } from '../../http/router.js';
import { RevertButton, RevertForm } from '../actions/forms.js';
import { type TrainPageActions, trainPageActions } from '../actions/page-actions.js';
import type { SignedIn } from '../auth/session.js';
import type { PageResult, WebContext } from '../context.js';
import { queryOf } from '../respond.js';
import { firstLine, formatDuration, NotFound, StateBadge, safeHref, TableWrap, Time, TrainState } from './parts.js';

/** Bytes of a running job's output shown (and polled by the script). */
export const LIVE_OUTPUT_BYTES = 64 * 1024;

/** What the runner holds of the train's running local jobs, by job id (read when the page is rendered). */
export type LiveOutputs = Map<number, string>;

export async function trainPage(web: WebContext, ctx: RouteContext & { me?: SignedIn }): Promise<PageResult> {
  const line = ctx.params.line ?? '';
  const text = ctx.params.n ?? '';
  const n = /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : null;
  const authors = Number(queryOf(ctx.req).get('authors') ?? '1');
  if (!web.engine.lines.has(line)) return notFound(`No line is called “${line.slice(0, 100)}”.`);
  if (n === null) return notFound(`“${text.slice(0, 100)}” is not a train number.`);
  let p: Awaited<ReturnType<typeof readTrainPage>>;
  try {
    p = await readTrainPage(web.engine, line, n, Number.isSafeInteger(authors) ? authors : 1);
  } catch (err) {
    if (err instanceof UnknownLineError) return notFound(`No line is called “${line.slice(0, 100)}”.`);
    throw err;
  }
  if (!p) return notFound(`Line ${line} has no train #${n}.`);
  const live: LiveOutputs = new Map();
  const runner = web.runner?.(line);
  for (const j of p.jobs) {
    if (j.id === null || !j.local || j.state !== 'running' || !runner?.liveOutput) continue;
    const out = await runner.liveOutput(j.id, LIVE_OUTPUT_BYTES).catch(() => null);
    if (out !== null) live.set(j.id, out);
  }
  // The buttons this person may use (src/web/actions).
  const listed = p.authors.flatMap((g) => g.commits.map((c) => ({ sha: c.sha, message: c.message, authorEmail: g.authorEmail })));
  const actions = ctx.me ? trainPageActions(web, p.lineState, n, ctx.me, trainHref(line, n), listed) : undefined;
  return { title: `Train #${n} · ${line}`, live: [line], body: <TrainView p={p} live={live} actions={actions} /> };
}

function notFound(what: string): PageResult {
  return { status: 404, title: 'Not found', body: <NotFound what={what} /> };
}

const trainHref = (line: string, n: number) => `/lines/${encodeURIComponent(line)}/trains/${n}`;

export function TrainView({ p, live, actions }: { p: TrainPage; live: LiveOutputs; actions?: TrainPageActions }) {
  const t = p.train;
  const verified = t.tickets.filter((k) => k.state === 'verified').length;
  return (
    <>
      <nav class="crumbs" aria-label="Train">
        <a href={`/lines/${encodeURIComponent(p.line)}`}>{p.line}</a>
        {p.previous !== null ? (
          <a href={trainHref(p.line, p.previous)} rel="prev" data-testid="previous">
            {`← #${p.previous}`}
          </a>
        ) : (
          <span class="muted">no earlier train</span>
        )}
        {p.next !== null ? (
          <a href={trainHref(p.line, p.next)} rel="next" data-testid="next">
            {`#${p.next} →`}
          </a>
        ) : (
          <span class="muted">no later train</span>
        )}
      </nav>
      <h1>
        Train #{t.number} <TrainState state={t.state} />
      </h1>
      <dl class="facts">
        <dt>Head</dt>
        <dd>
          <code class="sha">{t.headSha.slice(0, 12)}</code>
        </dd>
        <dt>Engineer</dt>
        <dd>{t.engineer ?? 'none'}</dd>
        <dt>Commits</dt>
        <dd>{`${p.commitCount} by ${p.authorCount} ${p.authorCount === 1 ? 'author' : 'authors'}; verified ${verified}/${t.tickets.length}`}</dd>
        <dt>Started</dt>
        <dd>
          <Time at={t.createdAt} /> {`by ${t.createdBy}`}
        </dd>
        {p.bisect !== null && (
          <>
            <dt>Culprit search</dt>
            <dd>
              <a href="#culprit">
                <StateBadge state={p.bisect.state} />
              </a>
            </dd>
          </>
        )}
        {p.health !== null && (
          <>
            <dt>Health</dt>
            <dd>
              <a href="#health">
                <StateBadge state={p.health.state} />
              </a>
            </dd>
          </>
        )}
        {t.blocked !== null && (
          <>
            <dt>Blocked</dt>
            <dd class="why">{t.blocked}</dd>
          </>
        )}
        {p.notDeployableReason !== null && (
          <>
            <dt>Not deployable</dt>
            <dd class="why">{p.notDeployableReason}</dd>
          </>
        )}
        {t.derailReason !== null && (
          <>
            <dt>Derailed</dt>
            <dd class="why">{t.derailReason}</dd>
          </>
        )}
        {p.replaces !== null && (
          <>
            <dt>Replaced</dt>
            <dd>
              <a href={trainHref(p.line, p.replaces)}>{`train #${p.replaces}`}</a> (extend)
            </dd>
          </>
        )}
        {p.replacedBy !== null && (
          <>
            <dt>Replaced by</dt>
            <dd>
              <a href={trainHref(p.line, p.replacedBy)}>{`train #${p.replacedBy}`}</a> (extend)
            </dd>
          </>
        )}
      </dl>
      {actions?.panel}
      {p.bisect && <CulpritSearch p={p} action={actions?.revertExtend ?? null} />}
      <Timeline steps={p.timeline} />
      {/* The culprit search's builds are listed in its own section. */}
      <Jobs line={p.line} train={t.number} jobs={p.jobs.filter((j) => j.kind !== 'bisect')} live={live} />
      {p.health && <Health h={p.health} />}
      <Commits p={p} revert={actions?.revert} />
    </>
  );
}

function Timeline({ steps }: { steps: TimelineStep[] }) {
  return (
    <section aria-labelledby="timeline">
      <h2 id="timeline">Timeline</h2>
      {steps.length === 0 ? (
        <p class="muted">Nothing recorded yet.</p>
      ) : (
        <ol class="timeline">
          {steps.map((s, i) => (
            <li key={i} data-action={s.action}>
              <Time at={s.at} />
              {s.tookMs !== null && <span class="took" title="since the step before">{` +${formatDuration(s.tookMs)}`}</span>}
              <span class="what">{` ${s.text}`}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Jobs({ line, train, jobs, live }: { line: string; train: number; jobs: JobView[]; live: LiveOutputs }) {
  return (
    <section aria-labelledby="jobs">
      <h2 id="jobs">Jobs</h2>
      {jobs.length === 0 ? (
        <p class="muted">No job yet.</p>
      ) : (
        <ul class="jobs">
          {jobs.map((j) => {
            const out = j.id !== null ? live.get(j.id) : undefined;
            return (
              <li key={`${j.kind}-${j.attempt}`} class="job" data-job={`${j.kind}-${j.attempt}`}>
                <p>
                  <strong>{j.kind === 'deploy' ? 'production deploy' : j.kind === 'bisect' ? 'culprit search build' : j.kind}</strong>
                  {j.kind === 'bisect' && (
                    <>
                      {' at '}
                      <code class="sha">{j.sha.slice(0, 8)}</code>
                    </>
                  )}
                  {j.attempt > 1 && j.kind !== 'bisect' && ` (attempt ${j.attempt})`} <StateBadge state={j.state} />
                  {j.startedAt && (
                    <>
                      {' started '}
                      <Time at={j.startedAt} />
                    </>
                  )}
                  {j.finishedAt && (
                    <>
                      {' finished '}
                      <Time at={j.finishedAt} />
                    </>
                  )}
                  {j.durationMs !== null && ` · took ${formatDuration(j.durationMs)}`}
                  {safeHref(j.url) && (
                    <>
                      {' · '}
                      <a href={safeHref(j.url)!} rel="noreferrer">
                        console
                      </a>
                    </>
                  )}
                </p>
                {j.state === 'unknown' && <p class="why">Outcome unknown: check production.</p>}
                {out !== undefined && j.id !== null && (
                  <pre class="output" data-follow={`/lines/${encodeURIComponent(line)}/trains/${train}/jobs/${j.id}/output`}>
                    {out}
                  </pre>
                )}
                {j.tail && out === undefined && (
                  <details open={j.troubled}>
                    <summary>Last lines of the output</summary>
                    <pre class="output">{j.tail}</pre>
                  </details>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** behaviour.md §8: the search for the commit that broke the build, its builds, and its one action. */
function CulpritSearch({ p, action }: { p: TrainPage; action: VNode | null }) {
  const b = p.bisect!;
  const builds = p.jobs.filter((j) => j.kind === 'bisect');
  const c = b.culpritCommit;
  return (
    <section aria-labelledby="culprit" data-bisect={b.state}>
      <h2 id="culprit">Culprit search</h2>
      <p>
        <StateBadge state={b.state} /> {b.state === 'running' && 'Building some of the train’s commits to find the first one whose build fails. The train itself waits as it is.'}
        {b.state === 'found' &&
          (c ? (
            <strong data-testid="culprit">
              {'The build first fails at '}
              <code class="sha">{c.sha.slice(0, 8)}</code>
              {` (${c.authorName || c.authorEmail}, “${firstLine(c.message, 72)}”).`}
            </strong>
          ) : (
            <strong data-testid="culprit">{`The build first fails at ${b.culprit?.sha.slice(0, 8) ?? '?'}.`}</strong>
          ))}
        {b.state === 'flaky' && (
          <strong>
            {'The build results disagree between '}
            <code class="sha">{b.range?.fromSha.slice(0, 8)}</code>
            {' and '}
            <code class="sha">{b.range?.toSha.slice(0, 8)}</code>
            {' (a flaky build?): that range could not be split. Retry the build, or look at those commits by hand.'}
          </strong>
        )}
        {b.state === 'cancelled' && `Cancelled: ${b.reason ?? 'no reason recorded'}.`} <span class="muted">{`${b.builds} of at most ${b.maxBuilds} builds (⌈log₂ ${b.commits}⌉ + 2).`}</span>
      </p>
      {b.state === 'found' && action}
      {builds.length > 0 && (
        <TableWrap label="Culprit search builds">
          <table class="stack bisect-builds">
            <thead>
              <tr>
                <th scope="col">Build</th>
                <th scope="col">Commit</th>
                <th scope="col">Result</th>
                <th scope="col">Took</th>
                <th scope="col">Output</th>
              </tr>
            </thead>
            <tbody>
              {builds.map((j) => (
                <tr key={j.attempt} data-sha={j.sha}>
                  <td>{`#${j.attempt}`}</td>
                  <td>
                    <code class="sha">{j.sha.slice(0, 8)}</code>
                  </td>
                  <td>
                    <StateBadge state={j.state} />
                  </td>
                  <td data-label="Took">{j.durationMs !== null ? formatDuration(j.durationMs) : '—'}</td>
                  <td class="main">
                    {j.tail ? (
                      <details>
                        <summary>Last lines</summary>
                        <pre class="output">{j.tail}</pre>
                      </details>
                    ) : (
                      safeHref(j.url) && (
                        <a href={safeHref(j.url)!} rel="noreferrer">
                          console
                        </a>
                      )
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

const HEALTH_WORDS = {
  watching: 'Watched by the line’s health check until the end of the soak.',
  healthy: 'The soak ended without a trip.',
  failed: 'The health check tripped: the line was blocked.',
} as const;

/** behaviour.md §8: the watch after the deploy, and every check result (newest first). */
function Health({ h }: { h: NonNullable<TrainPage['health']> }) {
  return (
    <section aria-labelledby="health" data-health={h.state}>
      <h2 id="health">Health checks</h2>
      <p>
        <StateBadge state={h.state} /> {` ${HEALTH_WORDS[h.state]} `}
        {h.failures > 0 && <strong>{`${h.failures} ${h.failures === 1 ? 'failure' : 'failures'} in a row. `}</strong>}
        <span class="muted">
          {'Watched from '}
          <Time at={h.since} />
          {' to '}
          <Time at={h.until} />.
        </span>
      </p>
      {h.checks.length === 0 ? (
        <p class="muted">No check has run yet.</p>
      ) : (
        <TableWrap label="Health check results">
          <table class="stack health-checks">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Result</th>
                <th scope="col">Value</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {h.checks.map((c, i) => (
                <tr key={i} data-outcome={c.outcome}>
                  <td class="nowrap">
                    <Time at={c.checkedAt} />
                  </td>
                  <td>
                    <StateBadge state={c.outcome} />
                  </td>
                  <td data-label="Value">{c.value !== null ? String(c.value) : c.exitCode !== null ? `exit ${c.exitCode}` : '—'}</td>
                  <td class="main">{c.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {h.total > h.checks.length && <p class="muted">{`The newest ${h.checks.length} of ${h.total} results.`}</p>}
    </section>
  );
}

type RevertOf = TrainPageActions['revert'] | undefined;

function Commits({ p, revert }: { p: TrainPage; revert: RevertOf }) {
  const href = (page: number) => `${trainHref(p.line, p.train.number)}?authors=${page}#commits`;
  return (
    <section aria-labelledby="commits">
      <h2 id="commits">{`Commits (${p.commitCount}) by author (${p.authorCount})`}</h2>
      {p.authorPages > 1 && <AuthorPager p={p} href={href} />}
      <ul class="authors">
        {p.authors.map((g) => (
          <Author key={g.authorEmail} g={g} revert={revert} />
        ))}
      </ul>
      {p.authorPages > 1 && <AuthorPager p={p} href={href} />}
    </section>
  );
}

function AuthorPager({ p, href }: { p: TrainPage; href: (page: number) => string }) {
  return (
    <nav class="pager" aria-label="Authors">
      {p.authorPage > 1 ? <a href={href(p.authorPage - 1)}>← earlier authors</a> : <span />}
      <span>{`authors page ${p.authorPage} of ${p.authorPages}`}</span>
      {p.authorPage < p.authorPages ? <a href={href(p.authorPage + 1)}>more authors →</a> : <span />}
    </nav>
  );
}

function Author({ g, revert }: { g: AuthorGroup; revert: RevertOf }) {
  const shown = g.commits.slice(0, COMMITS_SHOWN);
  const rest = g.commits.slice(COMMITS_SHOWN);
  const k = g.ticket;
  return (
    <li class="author" data-author={g.authorEmail}>
      <p>
        <strong>{g.authorEmail}</strong>
        {` · ${g.count} ${g.count === 1 ? 'commit' : 'commits'} · `}
        {k ? <StateBadge state={k.state} /> : <span class="muted">no ticket</span>}
        {k?.verifiedBy && k.verifiedAt && (
          <>
            {` by ${k.verifiedBy} `}
            <Time at={k.verifiedAt} />
          </>
        )}
        {k?.externalKey &&
          (safeHref(k.externalUrl) ? (
            <>
              {' · '}
              <a href={safeHref(k.externalUrl)!} rel="noreferrer">
                {k.externalKey}
              </a>
            </>
          ) : (
            ` · ${k.externalKey}`
          ))}
      </p>
      <CommitList commits={shown} author={g.authorEmail} revert={revert} />
      {rest.length > 0 && (
        <details>
          <summary>{`${g.count - COMMITS_SHOWN} more`}</summary>
          <CommitList commits={rest} author={g.authorEmail} revert={revert} />
          {g.count > g.commits.length && <p class="muted">{`and ${g.count - g.commits.length} more not shown here`}</p>}
        </details>
      )}
    </li>
  );
}

function CommitList({ commits, author, revert }: { commits: AuthorGroup['commits']; author: string; revert: RevertOf }) {
  const may = revert?.can(author) ?? false;
  const list = (
    <ul class="commits">
      {commits.map((c) => (
        <li key={c.sha}>
          <code class="sha">{c.sha.slice(0, 8)}</code> {(c.message.split('\n')[0] ?? '').slice(0, 200)}
          {may && <RevertButton sha={c.sha} />}
        </li>
      ))}
    </ul>
  );
  // One form per list, each button reverting its commit (src/web/actions/forms.tsx).
  return may && revert ? <RevertForm base={revert.base}>{list}</RevertForm> : list;
}
