/**
 * `GET /history`: the audit log, newest first, filtered by line, person and
 * action, a page at a time (docs/behaviour.md §7). It takes the query
 * parameters of `/api/history` (`line`, `actor`, `action`, `before`,
 * `limit`) and reads the same read model; bad parameters show the form with
 * the reason (400).
 */

import { HISTORY_SENTENCES } from '../../engine/history.js';
import { HISTORY_DEFAULT_LIMIT, type HistoryEntryJson, type HistoryFilters, type HistoryPageJson, parseHistoryFilters, readHistoryPage } from '../../engine/read/history-page.js';
import type { RouteContext } from '../../http/router.js';
import type { PageResult, WebContext } from '../context.js';
import { queryOf } from '../respond.js';
import { lineHref, TableWrap, Time, TrainLink } from './parts.js';

/** The action codes the code base records, by family (`train.`, `job.`, …), for the action filter. */
export function actionFamilies(): [string, string[]][] {
  const families = new Map<string, string[]>();
  for (const code of Object.keys(HISTORY_SENTENCES).sort()) {
    const family = `${code.split('.')[0]}.`;
    families.set(family, [...(families.get(family) ?? []), code]);
  }
  return [...families];
}

export async function historyPage(web: WebContext, ctx: RouteContext): Promise<PageResult> {
  const params = queryOf(ctx.req);
  const lines = [...web.engine.lines.keys()];
  const filters = parseHistoryFilters(params, new Set(lines));
  const base = { title: 'History', nav: 'history' as const, live: '*' as const };
  if (typeof filters === 'string') return { ...base, status: 400, body: <History lines={lines} form={formValues(params)} error={filters} /> };
  const page = await readHistoryPage(web.engine, filters);
  return { ...base, body: <History lines={lines} form={formValues(params)} filters={filters} page={page} /> };
}

interface FormValues {
  line: string;
  actor: string;
  action: string;
  limit: string;
}

/** What the person typed, shown back as typed (a bad value stays in the form to be corrected). */
function formValues(p: URLSearchParams): FormValues {
  const v = (name: string) => (p.get(name) ?? '').trim().slice(0, 300);
  return { line: v('line'), actor: v('actor'), action: v('action'), limit: v('limit') };
}

/** A link to a page of the log with the same filters: the newest page, or the one `before` a cursor (Older). */
export function historyHref(f: HistoryFilters, before: string | null = null): string {
  const p = new URLSearchParams();
  if (f.line) p.set('line', f.line);
  if (f.actor) p.set('actor', f.actor);
  if (f.action) p.set('action', f.action);
  if (f.limit !== HISTORY_DEFAULT_LIMIT) p.set('limit', String(f.limit));
  if (before) p.set('before', before);
  const q = p.toString();
  return q ? `/history?${q}` : '/history';
}

export function History({ lines, form, error, filters, page }: { lines: string[]; form: FormValues; error?: string; filters?: HistoryFilters; page?: HistoryPageJson }) {
  const families = actionFamilies();
  const knownAction = form.action === '' || families.some(([family, codes]) => family === form.action || codes.includes(form.action));
  return (
    <>
      <h1>History</h1>
      <form class="filters" method="get" action="/history">
        <label>
          Line
          <select name="line">
            <option value="">All lines</option>
            {lines.map((l) => (
              <option key={l} value={l} selected={form.line === l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Person
          <input name="actor" type="text" value={form.actor} placeholder="email or conductor" autocomplete="off" maxLength={254} />
        </label>
        <label>
          Action
          <select name="action">
            <option value="">All actions</option>
            {!knownAction && (
              <option value={form.action} selected>
                {form.action}
              </option>
            )}
            {families.map(([family, codes]) => (
              <optgroup key={family} label={family.slice(0, -1)}>
                <option value={family} selected={form.action === family}>{`every ${family}* action`}</option>
                {codes.map((c) => (
                  <option key={c} value={c} selected={form.action === c}>
                    {c}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </label>
        {form.limit !== '' && <input type="hidden" name="limit" value={form.limit} />}
        <button type="submit" class="primary">
          Filter
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {page && filters && <Entries page={page} filters={filters} />}
    </>
  );
}

function Entries({ page, filters }: { page: HistoryPageJson; filters: HistoryFilters }) {
  return (
    <>
      {page.entries.length === 0 ? (
        <p class="note">{filters.before ? 'No older entries.' : 'No entry matches these filters.'}</p>
      ) : (
        <TableWrap label="History entries">
          <table class="history stack">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Line</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Train</th>
              </tr>
            </thead>
            <tbody>
              {page.entries.map((e, i) => (
                <EntryRow key={`${e.at} ${i}`} e={e} />
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <nav class="pager" aria-label="History pages">
        {filters.before ? <a href={historyHref(filters)}>Newest</a> : <span />}
        {page.next && (
          <a href={historyHref(filters, page.next)} rel="next">
            Older
          </a>
        )}
      </nav>
    </>
  );
}

function EntryRow({ e }: { e: HistoryEntryJson }) {
  return (
    <tr data-action={e.action}>
      <td class="nowrap">
        <Time at={e.at} />
      </td>
      <td>
        <a href={lineHref(e.line)}>{e.line}</a>
      </td>
      <td class="email">{e.actor}</td>
      <td class="main">{e.text}</td>
      <td class="nowrap">{e.train !== null && <TrainLink line={e.line} n={e.train} />}</td>
    </tr>
  );
}
