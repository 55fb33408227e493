/** `GET /`: every line at a glance (docs/behaviour.md §7). */
import { type LineSummaryJson, readLineSummaries } from '../../engine/read/lines.js';
import type { PageResult, WebContext } from '../context.js';
import { TrainState } from './parts.js';

export async function overviewPage(web: WebContext): Promise<PageResult> {
  const lines = await readLineSummaries(web.engine);
  return { title: 'Lines', nav: 'overview', live: '*', body: <Overview lines={lines} /> };
}

export function Overview({ lines }: { lines: LineSummaryJson[] }) {
  return (
    <>
      <h1>Lines</h1>
      <ul class="cards">
        {lines.map((l) => (
          <li class="card" key={l.line} data-line={l.line}>
            <h2>
              <a href={`/lines/${encodeURIComponent(l.line)}`}>{l.line}</a>
            </h2>
            <p class="meta">
              {l.mode === 'manual' ? <span class="badge warn">manual mode{l.manualReason ? `: ${l.manualReason}` : ''}</span> : <span class="badge">schedule</span>}{' '}
              <span class="badge">{l.inAutoTime ? 'in auto-time' : 'outside auto-time'}</span> <span class="badge">{`${l.platformSize} waiting`}</span>
            </p>
            {l.train ? (
              <p class="train">
                <a href={`/lines/${encodeURIComponent(l.line)}/trains/${l.train.number}`}>Train #{l.train.number}</a> <TrainState state={l.train.state} />
                {` · engineer ${l.train.engineer ?? 'none'} · verified ${l.train.verified.done}/${l.train.verified.total}`}
                {l.train.notDeployableReason && <span class="why">{` · ${l.train.notDeployableReason}`}</span>}
              </p>
            ) : (
              <p class="train">No train yet.</p>
            )}
            <p class="production">
              {l.production
                ? `Production runs train #${l.production.number} (${l.production.headSha.slice(0, 8)}) since ${l.production.since.slice(0, 16).replace('T', ' ')} UTC${l.production.rolledBackFrom !== null ? `, rolled back from #${l.production.rolledBackFrom}` : ''}.`
                : 'No train deployed yet.'}
            </p>
            {l.whyIdle && <p class="idle">{l.whyIdle}</p>}
          </li>
        ))}
      </ul>
    </>
  );
}
