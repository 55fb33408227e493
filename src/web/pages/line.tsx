/**
 * `GET /lines/<line>` (docs/behaviour.md §7): the current train (richer than
 * the Slack card), the platform, the last trains (`?before=` pages), the mode,
 * auto-time as a week grid, freeze dates and what production runs.
 */

import type { VNode } from 'preact';
import { UnknownLineError } from '../../engine/engine.js';
import { type CurrentTrain, type LinePage, readLinePage } from '../../engine/read/line-page.js';
import type { RouteContext } from '../../http/router.js';
import { linePageActions } from '../actions/page-actions.js';
import type { SignedIn } from '../auth/session.js';
import type { PageResult, WebContext } from '../context.js';
import { queryOf } from '../respond.js';
import { ScheduleLink } from '../schedule/view.js';
import { formatDuration, NotFound, StateBadge, safeHref, TableWrap, Time, TrainState, WeekGrid } from './parts.js';

export async function linePage(web: WebContext, ctx: RouteContext & { me?: SignedIn }): Promise<PageResult> {
  const line = ctx.params.line ?? '';
  const beforeText = queryOf(ctx.req).get('before');
  if (!web.engine.lines.has(line)) return { status: 404, title: 'Not found', body: <NotFound what={`No line is called “${line.slice(0, 100)}”.`} /> };
  // A bad cursor is not worth an error page: the list starts at the newest train.
  const before = beforeText !== null && /^[1-9][0-9]{0,8}$/.test(beforeText) ? Number(beforeText) : null;
  try {
    const p = await readLinePage(web.engine, line, before);
    // The buttons this person may use (src/web/actions).
    const actions = ctx.me ? linePageActions(web, p.lineState, ctx.me, lineHref(line)) : null;
    return { title: line, live: [line], body: <LineView p={p} now={web.engine.deps.clock()} actions={actions} /> };
  } catch (err) {
    if (err instanceof UnknownLineError) return { status: 404, title: 'Not found', body: <NotFound what={`No line is called “${line.slice(0, 100)}”.`} /> };
    throw err;
  }
}

const lineHref = (line: string) => `/lines/${encodeURIComponent(line)}`;
const trainHref = (line: string, n: number) => `${lineHref(line)}/trains/${n}`;
const firstLine = (m: string) => (m.split('\n')[0] ?? '').slice(0, 200);

export function LineView({ p, now, actions }: { p: LinePage; now: Date; actions?: VNode | null }) {
  return (
    <>
      <h1>{p.line}</h1>
      <p class="meta">
        {`branch ${p.branch} · `}
        {p.mode === 'manual' ? (
          <span class="badge warn">{`manual mode${p.manualReason ? `: ${p.manualReason}` : ''}${p.manualSetBy ? ` (set by ${p.manualSetBy})` : ''}`}</span>
        ) : (
          <span class="badge">schedule mode</span>
        )}{' '}
        <span class="badge">{p.inAutoTime ? 'in auto-time' : 'outside auto-time'}</span>
      </p>
      {p.healthBlock !== null && (
        <p class="why" data-testid="health-block">
          <span class="badge warn">new trains are blocked</span> {`${p.healthBlock}. An admin clears it with `}
          <code>unblock</code>.
        </p>
      )}
      <p class="production" data-testid="production">
        {p.production ? (
          <>
            {'Production runs '}
            <a href={trainHref(p.line, p.production.number)}>{`train #${p.production.number}`}</a> <code class="sha">{p.production.headSha.slice(0, 8)}</code>
            {' since '}
            <Time at={p.production.since} />
            {` by ${p.production.by}`}
            {p.production.rolledBackFrom !== null && `, rolled back from #${p.production.rolledBackFrom}`}.
          </>
        ) : (
          'No train deployed yet.'
        )}
      </p>
      {p.whyIdle && <p class="idle">{p.whyIdle}</p>}
      <Current line={p.line} c={p.current} />
      <Platform p={p} now={now} />
      {actions}
      <Trains p={p} />
      <AutoTime p={p} />
    </>
  );
}

function Current({ line, c }: { line: string; c: CurrentTrain | null }) {
  if (!c) {
    return (
      <section class="panel" aria-labelledby="current">
        <h2 id="current">Current train</h2>
        <p>No train yet.</p>
      </section>
    );
  }
  const t = c.train;
  return (
    <section class="panel" aria-labelledby="current">
      <h2 id="current">
        <a href={trainHref(line, t.number)}>{`Train #${t.number}`}</a> <TrainState state={t.state} />
      </h2>
      <p>
        {`${c.commits} ${c.commits === 1 ? 'commit' : 'commits'} by ${c.authors} · engineer ${t.engineer ?? 'none'} · verified ${c.verified}/${t.tickets.length} · head `}
        <code class="sha">{t.headSha.slice(0, 8)}</code>
      </p>
      {t.health && (
        <p data-health={t.health.state}>
          {'Health check: '}
          <StateBadge state={t.health.state} />
          {t.health.failures > 0 && t.health.state === 'watching' ? ` ${t.health.failures} ${t.health.failures === 1 ? 'failure' : 'failures'} in a row` : ''}
        </p>
      )}
      {t.blocked !== null && <p class="why">{`Blocked: ${t.blocked}`}</p>}
      {c.notDeployableReason !== null && <p class="why">{c.notDeployableReason}</p>}
      {t.derailReason !== null && <p class="why">{`Derailed: ${t.derailReason}`}</p>}
      {t.jobs.length > 0 && (
        <ul class="inline">
          {t.jobs.map((j) => (
            <li key={`${j.kind}-${j.attempt}`}>
              {`${j.kind === 'deploy' ? 'production deploy' : j.kind}${j.attempt > 1 ? ` (attempt ${j.attempt})` : ''} `}
              <StateBadge state={j.state} />
              {safeHref(j.url) && (
                <>
                  {' '}
                  <a href={safeHref(j.url)!} rel="noreferrer">
                    console
                  </a>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {t.tickets.some((k) => k.state === 'pending') && (
        <p>
          {'Waiting for: '}
          {t.tickets
            .filter((k) => k.state === 'pending')
            .map((k) => k.authorEmail)
            .join(', ')}
        </p>
      )}
    </section>
  );
}

function Platform({ p, now }: { p: LinePage; now: Date }) {
  const pl = p.platform;
  return (
    <section aria-labelledby="platform">
      <h2 id="platform">Platform</h2>
      {pl.count === 0 ? (
        <p class="muted">Nothing is waiting.</p>
      ) : (
        <>
          <p>
            {`${pl.count} ${pl.count === 1 ? 'commit' : 'commits'} by ${pl.authors} ${pl.authors === 1 ? 'author' : 'authors'}`}
            {pl.oldestSeenAt && `, the oldest waiting for ${formatDuration(now.getTime() - pl.oldestSeenAt.getTime())}`}.
          </p>
          <TableWrap label="The platform">
            <table>
              <thead>
                <tr>
                  <th scope="col">Commit</th>
                  <th scope="col">Author</th>
                  <th scope="col">Message</th>
                  <th scope="col">Seen</th>
                </tr>
              </thead>
              <tbody>
                {pl.commits.map((c) => (
                  <tr key={c.sha}>
                    <td>
                      <code class="sha">{c.sha.slice(0, 8)}</code>
                    </td>
                    <td>{c.authorEmail}</td>
                    <td>{firstLine(c.message)}</td>
                    <td>{c.firstSeenAt ? <Time at={c.firstSeenAt} /> : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          {pl.count > pl.commits.length && <p class="muted">{`and ${pl.count - pl.commits.length} more`}</p>}
        </>
      )}
    </section>
  );
}

function Trains({ p }: { p: LinePage }) {
  return (
    <section aria-labelledby="trains">
      <h2 id="trains">Trains</h2>
      {p.trains.length === 0 ? (
        <p class="muted">No train yet.</p>
      ) : (
        <TableWrap label="Trains">
          <table>
            <thead>
              <tr>
                <th scope="col">Train</th>
                <th scope="col">State</th>
                <th scope="col">Commits</th>
                <th scope="col">Engineer</th>
                <th scope="col">Started</th>
                <th scope="col">Took</th>
              </tr>
            </thead>
            <tbody>
              {p.trains.map((t) => (
                <tr key={t.number} data-train={t.number}>
                  <td>
                    <a href={trainHref(p.line, t.number)}>{`#${t.number}`}</a>
                  </td>
                  <td>
                    <TrainState state={t.state} />
                  </td>
                  <td>{`${t.commits} by ${t.authors}`}</td>
                  <td>{t.engineer ?? 'none'}</td>
                  <td>
                    <Time at={t.createdAt} />
                  </td>
                  <td>{t.endedAt ? formatDuration(t.endedAt.getTime() - t.createdAt.getTime()) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {(p.paged || p.olderBefore !== null) && (
        <nav class="pager" aria-label="Trains">
          {p.paged ? <a href={`${lineHref(p.line)}#trains`}>← newest trains</a> : <span />}
          {p.olderBefore !== null ? <a href={`${lineHref(p.line)}?before=${p.olderBefore}#trains`}>older trains →</a> : <span />}
        </nav>
      )}
    </section>
  );
}

function AutoTime({ p }: { p: LinePage }) {
  return (
    <section aria-labelledby="autotime">
      <h2 id="autotime">Auto-time</h2>
      <p class="muted">{`Hours in ${p.timezone}; trains start by themselves in the marked hours${p.mode === 'manual' ? ' (not now: the line is in manual mode)' : ''}.`}</p>
      <WeekGrid grid={p.weekGrid} caption={p.autoTimeText} />
      <ScheduleLink line={p.line} />
      <h3>Freeze dates</h3>
      {p.freezes.length === 0 ? (
        <p class="muted">None ahead.</p>
      ) : (
        <ul class="inline">
          {p.freezes.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
