/**
 * `GET /insights?line=&days=` (docs/behaviour.md §7): one line's delivery
 * figures over 7, 30 or 90 days (any 1–365 by URL): the four DORA keys with
 * their definitions, where the time goes, derails, platform length. Every
 * chart is server-drawn SVG with its numbers in a table beside it. It reads
 * the same read model as `GET /api/lines/<line>/insights`.
 */
import { FAILURE_ACTIONS, type FailureSignal, formatDuration, formatRate, INSIGHT_PERIODS, INSIGHTS_DEFAULT_DAYS, parseInsightsDays } from '../../domain/insights.js';
import { type InsightsJson, type Percentiles, readInsights } from '../../engine/read/insights.js';
import type { RouteContext } from '../../http/router.js';
import type { PageResult, WebContext } from '../context.js';
import { queryOf } from '../respond.js';
import { axisDuration, BarChart, LineChart, RangeBars } from './charts.js';
import { TableWrap, Time, TrainLink } from './parts.js';

export const insightsHref = (line: string, days: number): string =>
  `/insights?${new URLSearchParams({ line, ...(days === INSIGHTS_DEFAULT_DAYS ? {} : { days: String(days) }) }).toString()}`;

export async function insightsPage(web: WebContext, ctx: RouteContext): Promise<PageResult> {
  const params = queryOf(ctx.req);
  const lines = [...web.engine.lines.keys()];
  const base = { title: 'Insights', nav: 'insights' as const };
  const line = params.get('line')?.trim() || lines[0];
  const days = parseInsightsDays(params.get('days'));
  if (line === undefined) return { ...base, body: <p class="note">No line is configured.</p> };
  if (!web.engine.lines.has(line))
    return { ...base, status: 404, body: <Problem lines={lines} days={INSIGHTS_DEFAULT_DAYS} text={`No line is called ${JSON.stringify(line.slice(0, 100))}.`} /> };
  if (typeof days === 'string') return { ...base, status: 400, body: <Problem lines={lines} line={line} days={INSIGHTS_DEFAULT_DAYS} text={days} /> };
  const insights = await readInsights(web.engine, line, days);
  return { ...base, title: `Insights · ${line}`, body: <Insights lines={lines} i={insights} /> };
}

function Problem({ lines, line, days, text }: { lines: string[]; line?: string; days: number; text: string }) {
  return (
    <>
      <h1>Insights</h1>
      <Selectors lines={lines} line={line ?? ''} days={days} />
      <p class="error" role="alert">
        {text}
      </p>
    </>
  );
}

function Selectors({ lines, line, days }: { lines: string[]; line: string; days: number }) {
  return (
    <div class="insight-selectors">
      <nav aria-label="Line">
        <span class="selector-label">Line</span>
        <ul class="pills">
          {lines.map((l) => (
            <li key={l}>
              <a href={insightsHref(l, days)} aria-current={l === line ? 'page' : undefined}>
                {l}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <nav aria-label="Period">
        <span class="selector-label">Period</span>
        <ul class="pills">
          {INSIGHT_PERIODS.map((d) => (
            <li key={d}>
              <a href={insightsHref(line || lines[0] || '', d)} aria-current={d === days ? 'page' : undefined}>
                {`${d} days`}
              </a>
            </li>
          ))}
        </ul>
      </nav>
    </div>
  );
}

const p50p90 = (p: Percentiles): string => (p.p50 === null ? '–' : `${formatDuration(p.p50)} (p90 ${formatDuration(p.p90)})`);
const SIGNALS: Record<FailureSignal, string> = { rollback: 'rollback', emergency: 'emergency reset', revert: 'revert of one of its commits', health: 'tripped health check' };

export function Insights({ lines, i }: { lines: string[]; i: InsightsJson }) {
  const labels = i.trend.map((b) => b.start.slice(5));
  const per = i.bucket === 'day' ? 'day' : 'week';
  return (
    <>
      <h1>
        Insights <span class="muted">{`· ${i.line}, last ${i.days} days`}</span>
      </h1>
      <Selectors lines={lines} line={i.line} days={i.days} />
      <p class="note">
        From <Time at={i.from} /> to <Time at={i.to} />; days and weeks in {i.timezone}. The same figures as JSON: <code>{`GET /api/lines/${i.line}/insights?days=${i.days}`}</code>.
      </p>

      <section aria-labelledby="keys">
        <h2 id="keys">The four keys</h2>
        <dl class="keys">
          <div data-key="deployment-frequency">
            <dt>Deployment frequency</dt>
            <dd class="figure">{`${i.deploymentsPerDay} a day`}</dd>
            <dd>{`${i.deployments} production deploy${i.deployments === 1 ? '' : 's'}, ${i.deploymentsPerWeek} a week.`}</dd>
            <dd class="definition">Trains whose production deploy succeeded in the period.</dd>
          </div>
          <div data-key="lead-time">
            <dt>Lead time for changes</dt>
            <dd class="figure">{formatDuration(i.leadTimeSeconds.p50)}</dd>
            <dd>{i.leadTimeSeconds.p50 === null ? 'No commit reached production.' : `p90 ${formatDuration(i.leadTimeSeconds.p90)}, over ${i.leadTimeSeconds.commits} commits.`}</dd>
            <dd class="definition">Per commit, from the moment Conductor first saw it on the branch to the production deploy of the train that carried it (median).</dd>
          </div>
          <div data-key="change-failure-rate">
            <dt>Change failure rate</dt>
            <dd class="figure">{formatRate(i.changeFailureRate)}</dd>
            <dd>{`${i.failedDeployments} of ${i.deployments} deploys.`}</dd>
            <dd class="definition">Deployed trains followed, before the next deploy, by a rollback, an emergency reset, a revert of one of their commits, or a tripped health check.</dd>
          </div>
          <div data-key="time-to-restore">
            <dt>Time to restore</dt>
            <dd class="figure">{formatDuration(i.timeToRestoreSeconds.p50)}</dd>
            <dd>
              {i.timeToRestoreSeconds.p50 === null ? 'Nothing to restore.' : `p90 ${formatDuration(i.timeToRestoreSeconds.p90)}, ${i.timeToRestoreSeconds.restored} restored.`}
              {i.timeToRestoreSeconds.open > 0 && ` ${i.timeToRestoreSeconds.open} not restored yet.`}
            </dd>
            <dd class="definition">From that failure signal to the next successful deploy or rollback (median).</dd>
          </div>
        </dl>
      </section>

      <section aria-labelledby="trend">
        <h2 id="trend">{`Deploys and lead time per ${per}`}</h2>
        <div class="chart-pair">
          <BarChart
            id="chart-deploys"
            title={`Production deploys per ${per}`}
            desc={`${i.deployments} deploys over ${i.trend.length} ${per}s, at most ${Math.max(0, ...i.trend.map((b) => b.deployments))} in one ${per}. The table lists every ${per}.`}
            labels={labels}
            values={i.trend.map((b) => b.deployments)}
          />
          <LineChart
            id="chart-lead"
            title={`Lead time for changes per ${per}, p50 and p90`}
            desc={`Median lead time over the period ${formatDuration(i.leadTimeSeconds.p50)}, p90 ${formatDuration(i.leadTimeSeconds.p90)}. Solid line p50, dashed line p90; the table lists every ${per}.`}
            labels={labels}
            series={[
              { name: 'p50', className: 'series-a', values: i.trend.map((b) => b.leadTimeSeconds.p50) },
              { name: 'p90', className: 'series-b', values: i.trend.map((b) => b.leadTimeSeconds.p90) },
            ]}
            format={axisDuration}
          />
        </div>
        <p class="legend">
          <span class="key key-a">lead time p50</span> <span class="key key-b">lead time p90</span>
        </p>
        <details open>
          <summary>{`The numbers per ${per}`}</summary>
          <TableWrap label={`Deploys and lead time per ${per}`}>
            <table class="numbers">
              <thead>
                <tr>
                  <th scope="col">{per === 'day' ? 'Day' : 'Week of'}</th>
                  <th scope="col">Deploys</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Lead time p50</th>
                  <th scope="col">Lead time p90</th>
                </tr>
              </thead>
              <tbody>
                {i.trend.map((b) => (
                  <tr key={b.start}>
                    <th scope="row">{b.start}</th>
                    <td>{b.deployments}</td>
                    <td>{b.failures}</td>
                    <td>{formatDuration(b.leadTimeSeconds.p50)}</td>
                    <td>{formatDuration(b.leadTimeSeconds.p90)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </details>
      </section>

      <section aria-labelledby="failures">
        <h2 id="failures">Failed deploys</h2>
        {i.failures.length === 0 ? (
          <p class="note">No deployed train of this period was followed by a rollback, an emergency reset, a revert of its commits or a tripped health check.</p>
        ) : (
          <TableWrap label="Failed deploys">
            <table class="numbers">
              <thead>
                <tr>
                  <th scope="col">Train</th>
                  <th scope="col">Deployed</th>
                  <th scope="col">Followed by</th>
                  <th scope="col">At</th>
                  <th scope="col">Time to restore</th>
                </tr>
              </thead>
              <tbody>
                {i.failures.map((f) => (
                  <tr key={f.train} data-signal={FAILURE_ACTIONS[f.signal]}>
                    <th scope="row">
                      <TrainLink line={i.line} n={f.train} />
                    </th>
                    <td>
                      <Time at={f.deployedAt} />
                    </td>
                    <td>{SIGNALS[f.signal]}</td>
                    <td>
                      <Time at={f.signalAt} />
                    </td>
                    <td>{f.restoreSeconds === null ? 'not restored yet' : formatDuration(f.restoreSeconds)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>

      <section aria-labelledby="steps">
        <h2 id="steps">Where the time goes</h2>
        <div class="chart-pair">
          <RangeBars
            id="chart-steps"
            title="Train steps of the deployed trains, p50 and p90"
            desc={`Build ${p50p90(i.steps.buildSeconds)}; waiting for verification ${p50p90(i.steps.verificationSeconds)}; verified to deploy ${p50p90(i.steps.waitingToDeploySeconds)}; deploy ${p50p90(i.steps.deploySeconds)}.`}
            rows={[
              { label: 'Build', ...i.steps.buildSeconds },
              { label: 'Verification', ...i.steps.verificationSeconds },
              { label: 'Verified → deploy', ...i.steps.waitingToDeploySeconds },
              { label: 'Deploy', ...i.steps.deploySeconds },
            ]}
            format={formatDuration}
          />
          <TableWrap label="Train steps">
            <table class="numbers">
              <thead>
                <tr>
                  <th scope="col">Step</th>
                  <th scope="col">p50</th>
                  <th scope="col">p90</th>
                </tr>
              </thead>
              <tbody>
                {(
                  [
                    ['Build', 'started → on staging', i.steps.buildSeconds],
                    ['Verification', 'on staging → every change verified', i.steps.verificationSeconds],
                    ['Verified → deploy', 'waiting for someone to deploy', i.steps.waitingToDeploySeconds],
                    ['Deploy', 'production deploy job', i.steps.deploySeconds],
                  ] as const
                ).map(([name, what, p]) => (
                  <tr key={name}>
                    <th scope="row">
                      {name} <span class="muted">{`(${what})`}</span>
                    </th>
                    <td>{formatDuration(p.p50)}</td>
                    <td>{formatDuration(p.p90)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </div>
        <p class="legend">
          <span class="key key-bar">p50</span> <span class="key key-bar-p90">p90</span>
        </p>
      </section>

      <section aria-labelledby="derails">
        <h2 id="derails">Derails</h2>
        <p>
          {`${i.derails.count} train${i.derails.count === 1 ? '' : 's'} derailed`}
          {i.derails.extended > 0 && `, and ${i.derails.extended} replaced by an extend`}.
        </p>
        {i.derails.reasons.length > 0 && (
          <div class="chart-pair">
            <TableWrap label="Derails by reason">
              <table class="numbers">
                <thead>
                  <tr>
                    <th scope="col">Reason</th>
                    <th scope="col">Trains</th>
                  </tr>
                </thead>
                <tbody>
                  {i.derails.reasons.map((r) => (
                    <tr key={r.reason}>
                      <th scope="row" class="reason">
                        {r.reason}
                      </th>
                      <td>{r.count}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <TableWrap label="Latest derails">
              <table class="numbers">
                <thead>
                  <tr>
                    <th scope="col">Train</th>
                    <th scope="col">Derailed</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {i.derails.recent.map((d) => (
                    <tr key={d.train}>
                      <th scope="row">
                        <TrainLink line={i.line} n={d.train} />
                      </th>
                      <td>
                        <Time at={d.at} />
                      </td>
                      <td class="reason">{d.reason ?? '(no reason given)'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </div>
        )}
      </section>

      <section aria-labelledby="platform">
        <h2 id="platform">Platform length</h2>
        <p>{`Commits waiting for a train: ${i.platform.now} now, at most ${i.platform.max ?? 0} and ${i.platform.mean ?? 0} on average over the period (sampled every ${i.platform.sampleHours} h).`}</p>
        <div class="chart-pair">
          <LineChart
            id="chart-platform"
            title="Commits waiting on the platform over the period"
            desc={`Sampled every ${i.platform.sampleHours} hours: ${i.platform.now} now, at most ${i.platform.max ?? 0}, ${i.platform.mean ?? 0} on average.`}
            labels={i.platform.points.map((p) => p.at.slice(5, 10))}
            series={[{ name: 'platform', className: 'series-a', values: i.platform.points.map((p) => p.commits) }]}
          />
          <TableWrap label="Platform length">
            <table class="numbers">
              <tbody>
                <tr>
                  <th scope="row">Waiting now</th>
                  <td>{i.platform.now}</td>
                </tr>
                <tr>
                  <th scope="row">At most</th>
                  <td>{i.platform.max ?? 0}</td>
                </tr>
                <tr>
                  <th scope="row">On average</th>
                  <td>{i.platform.mean ?? 0}</td>
                </tr>
                <tr>
                  <th scope="row">Sampled every</th>
                  <td>{`${i.platform.sampleHours} h`}</td>
                </tr>
              </tbody>
            </table>
          </TableWrap>
        </div>
        <details>
          <summary>The samples</summary>
          <TableWrap label="Platform length samples">
            <table class="numbers">
              <thead>
                <tr>
                  <th scope="col">At</th>
                  <th scope="col">Commits waiting</th>
                </tr>
              </thead>
              <tbody>
                {i.platform.points.map((p) => (
                  <tr key={p.at}>
                    <th scope="row">
                      <Time at={p.at} />
                    </th>
                    <td>{p.commits}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </details>
      </section>
    </>
  );
}
