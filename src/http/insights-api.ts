/**
 * `GET /api/lines/<line>/insights?days=` (docs/behaviour.md §5, §7): the
 * insights read model as JSON, behind the command API's bearer/loopback rule
 * (`authorise`, passed in by the HTTP server that owns it).
 */
import type { IncomingMessage } from 'node:http';
import { parseInsightsDays } from '../domain/insights.js';
import type { Engine } from '../engine/engine.js';
import { readInsights } from '../engine/read/insights.js';
import { type Handler, HttpError, sendJson } from './router.js';

export function insightsApi(engine: Engine, authorise: (req: IncomingMessage) => void): Handler {
  return async ({ req, res, params }) => {
    authorise(req);
    const line = params.line!;
    if (!engine.lines.has(line)) throw new HttpError(404, `unknown line ${line}`);
    const target = req.url ?? '/';
    const days = parseInsightsDays(new URL(target.startsWith('/') ? `http://localhost${target}` : target).searchParams.get('days'));
    if (typeof days === 'string') throw new HttpError(400, days);
    sendJson(res, 200, await readInsights(engine, line, days));
  };
}
