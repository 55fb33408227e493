/**
 * `GET /search?q=`: where is my change? A SHA prefix, an author email or
 * words of a commit message → each matching commit and where it is
 * (docs/behaviour.md §7). One exact SHA match goes straight to its train (or
 * to its line while it waits on the platform). A bad query shows the form
 * with the reason (400), never a JSON error.
 */
import { parseSearch, SEARCH_LIMIT, type SearchQuery, type SearchResultJson, searchCommits } from '../../engine/read/search.js';
import type { RouteContext } from '../../http/router.js';
import type { PageResult, WebContext } from '../context.js';
import { queryOf } from '../respond.js';
import { firstLine, lineHref, ShortSha, TableWrap, trainHref, Where } from './parts.js';

/** git's default short SHA: a shorter hex string may well be a word ("cafe", "added"). */
const MIN_JUMP_PREFIX = 7;

export async function searchPage(web: WebContext, ctx: RouteContext): Promise<PageResult> {
  const q = queryOf(ctx.req).get('q') ?? '';
  // What the search boxes show back: bounded, without control characters (NUL is not even valid in HTML).
  const shown = q.slice(0, 200).replace(/\p{Cc}/gu, '\uFFFD');
  const base = { title: 'Search', nav: 'search' as const, query: shown };
  if (q.trim() === '') return { ...base, body: <Search q="" /> };
  const parsed = parseSearch(q);
  if (typeof parsed === 'string') return { ...base, status: 400, body: <Search q={shown} error={parsed} /> };
  const results = await searchCommits(web.engine, parsed);
  const jump = exactMatch(parsed, results);
  if (jump) return { redirect: jump.where === 'platform' || jump.train === null ? lineHref(jump.line) : trainHref(jump.line, jump.train) };
  return { ...base, body: <Search q={q} results={results} /> };
}

/** The one commit a SHA names, when it names exactly one that has a place to go to. */
export function exactMatch(q: SearchQuery, results: SearchResultJson[]): SearchResultJson | null {
  if (q.kind !== 'exact-sha' && !(q.kind === 'sha' && q.prefix.length >= MIN_JUMP_PREFIX && results.length < SEARCH_LIMIT)) return null;
  const prefix = q.kind === 'exact-sha' ? q.sha : q.prefix;
  const bySha = results.filter((r) => r.sha.startsWith(prefix));
  const only = bySha.length === 1 ? bySha[0]! : null;
  return only && only.where !== 'removed' ? only : null;
}

export function Search({ q, error, results }: { q: string; error?: string; results?: SearchResultJson[] }) {
  return (
    <>
      <h1>Search commits</h1>
      <form class="filters" method="get" action="/search">
        <label for="search-q">SHA, author email or words</label>
        <input
          id="search-q"
          name="q"
          type="search"
          value={q}
          maxLength={200}
          autocomplete="off"
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'search-error' : undefined}
        />
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      {error && (
        <p class="error" id="search-error" role="alert">
          {error}
        </p>
      )}
      {!error && results === undefined && (
        <p class="note">Type a SHA (4 to 40 hex characters; a full SHA or an unambiguous prefix of 7 or more goes straight to its train), an author email, or words from a commit message.</p>
      )}
      {results !== undefined && results.length === 0 && <p class="note">{`No commit matches "${q.trim()}".`}</p>}
      {results !== undefined && results.length > 0 && <ResultTable results={results} />}
    </>
  );
}

function ResultTable({ results }: { results: SearchResultJson[] }) {
  return (
    <>
      <p class="muted">{results.length >= SEARCH_LIMIT ? `The ${SEARCH_LIMIT} newest matches:` : results.length === 1 ? '1 match:' : `${results.length} matches:`}</p>
      <TableWrap label="Search results">
        <table class="results stack">
          <thead>
            <tr>
              <th scope="col">SHA</th>
              <th scope="col">Author</th>
              <th scope="col">Message</th>
              <th scope="col">Line</th>
              <th scope="col">Where it is</th>
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr key={`${r.line} ${r.sha}`}>
                <td>
                  <ShortSha sha={r.sha} />
                </td>
                <td class="email">{r.authorEmail}</td>
                <td class="message main">{firstLine(r.message)}</td>
                <td>
                  <a href={lineHref(r.line)}>{r.line}</a>
                </td>
                <td class="main">
                  <Where c={r} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </>
  );
}
