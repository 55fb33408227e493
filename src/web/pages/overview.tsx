/**
 * `GET /`: every line at a glance (docs/behaviour.md §7). What a person must
 * act on comes first: an unknown deploy outcome, a failed job, a train ready
 * to deploy, a blocked train — in a list above the cards, and marked on the
 * card itself.
 */
import { type LineSummaryJson, readLineSummaries, type TrainSummaryJson } from '../../engine/read/lines.js';
import type { PageResult, WebContext } from '../context.js';
import { lineHref, Prose, ShortSha, Time, TrainLink, TrainState } from './parts.js';

export async function overviewPage(web: WebContext): Promise<PageResult> {
  const lines = await readLineSummaries(web.engine);
  return { title: 'Lines', nav: 'overview', live: '*', body: <Overview lines={lines} /> };
}

type Attention = { level: 'bad' | 'ok' | 'warn'; rank: number; text: string };

const GOING: ReadonlySet<string> = new Set(['delivering', 'verifying']);
const jobName = (kind: string): string => (kind === 'deploy' ? 'production deploy' : kind);

/** What on this line needs a person now, most urgent first; null when nothing does. */
export function attentionOf(l: LineSummaryJson): Attention | null {
  const t = l.train;
  if (!t) return null;
  const live = GOING.has(t.state) || t.state === 'deploying';
  if (t.jobProblem?.state === 'unknown' && (live || t.state === 'deployed'))
    return { level: 'bad', rank: 0, text: `The outcome of the ${jobName(t.jobProblem.kind)} is unknown: check production.` };
  if (t.jobProblem?.state === 'failed' && live) return { level: 'bad', rank: 1, text: `The ${jobName(t.jobProblem.kind)} failed: retry it, or revert and extend, or derail.` };
  if (GOING.has(t.state) && t.deployable) return { level: 'ok', rank: 2, text: `Ready to deploy: ${t.engineer ? `${t.engineer} may start it` : 'an admin may start it (no engineer)'}.` };
  if (live && t.blocked) return { level: 'warn', rank: 3, text: `Blocked: ${t.blocked}` };
  return null;
}

export function Overview({ lines }: { lines: LineSummaryJson[] }) {
  const urgent = lines
    .map((l) => ({ l, a: attentionOf(l) }))
    .filter((x): x is { l: LineSummaryJson; a: Attention } => x.a !== null)
    .sort((x, y) => x.a.rank - y.a.rank);
  return (
    <>
      <h1>Lines</h1>
      {urgent.length > 0 && (
        <section class="attention" aria-labelledby="attention-title">
          <h2 id="attention-title">Needs attention</h2>
          <ul>
            {urgent.map(({ l, a }) => (
              <li key={l.line} class={`attn attn-${a.level}`}>
                <strong>{l.line}</strong> <TrainLink line={l.line} n={l.train!.number} />: {a.text}
              </li>
            ))}
          </ul>
        </section>
      )}
      {lines.length === 0 && <p class="note">No line is configured.</p>}
      <ul class="cards">
        {lines.map((l) => (
          <LineCard key={l.line} l={l} attention={attentionOf(l)} />
        ))}
      </ul>
    </>
  );
}

function LineCard({ l, attention }: { l: LineSummaryJson; attention: Attention | null }) {
  return (
    <li class={`card${attention ? ` card-${attention.level}` : ''}`} data-line={l.line}>
      <h2>
        <a href={lineHref(l.line)}>{l.line}</a>
      </h2>
      <p class="meta">
        {l.mode === 'manual' ? <span class="badge warn">manual mode</span> : <span class="badge">schedule mode</span>}{' '}
        <span class="badge">{l.inAutoTime ? 'in auto-time' : 'outside auto-time'}</span>{' '}
        <span class="badge">{l.platformSize === 1 ? '1 commit waiting' : `${l.platformSize} commits waiting`}</span>
      </p>
      {/* When "why nothing is moving" is the manual mode, it already gives the reason: say it once. */}
      {l.mode === 'manual' && !l.whyIdle?.startsWith('The line is in manual mode') && (
        <p class="manual-why">
          {l.manualReason
            ? `Manual mode: ${l.manualReason}${l.manualSetBy ? ` (set by ${l.manualSetBy})` : ''}`
            : `Manual mode${l.manualSetBy ? ` (set by ${l.manualSetBy})` : ''}: trains start only by hand.`}
        </p>
      )}
      {attention && <p class={`attn attn-${attention.level}`}>{attention.text}</p>}
      {l.train ? <TrainPart line={l.line} t={l.train} /> : <p class="train muted">No train yet.</p>}
      {l.whyIdle && (
        <p class="idle">
          <strong>Why nothing is moving: </strong>
          <Prose text={l.whyIdle} />
        </p>
      )}
      <p class="production">
        {l.production ? (
          <>
            {'Production runs '}
            <TrainLink line={l.line} n={l.production.number} /> (<ShortSha sha={l.production.headSha} />) since <Time at={l.production.since} />
            {l.production.rolledBackFrom !== null && (
              <>
                {', '}
                <strong>{`rolled back from #${l.production.rolledBackFrom}`}</strong>
              </>
            )}
            .
          </>
        ) : (
          'No train deployed yet.'
        )}
      </p>
    </li>
  );
}

function TrainPart({ line, t }: { line: string; t: TrainSummaryJson }) {
  const going = GOING.has(t.state);
  const label = going ? 'Going train' : t.state === 'deploying' ? 'Deploying' : 'Last train';
  return (
    <div class="train">
      <p>
        {`${label}: `}
        <a href={`${lineHref(line)}/trains/${t.number}`}>{`#${t.number}`}</a> <TrainState state={t.state} />
        {` · ${t.commitCount === 1 ? '1 commit' : `${t.commitCount} commits`} · head `}
        <ShortSha sha={t.headSha} />
      </p>
      <p>
        {`Engineer: ${t.engineer ?? 'none (anyone may claim it)'}`}
        {t.verified.total > 0 ? ` · verified ${t.verified.done}/${t.verified.total}` : ''}
      </p>
      {t.blocked && <p class="why">{`Blocked: ${t.blocked}`}</p>}
      {going && (t.deployable ? <p class="ready">Deployable.</p> : t.notDeployableReason && <p class="why">{`Not deployable: ${t.notDeployableReason}`}</p>)}
    </div>
  );
}
