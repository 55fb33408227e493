/**
 * `GET /lines/<line>/trains/<n>/jobs/<id>/output`: what a local job has
 * written so far, as plain text, for the train page's `<pre data-follow>`.
 *
 * Polled by the browser script rather than streamed (text/event-stream): the
 * page already holds one EventSource (`/events`) and browsers allow six
 * connections per host over HTTP/1.1, so a stream per job would starve them;
 * a poll is stateless, survives a Conductor restart, and the runner's output
 * is a file whose tail we read anyway. `X-Job-State` tells the script when to
 * stop (anything but `running`). A job of another line or train is 404.
 */
import { liveOutputText } from '../../domain/index.js';
import { UnknownLineError } from '../../engine/engine.js';
import { jobKey, type Loaded } from '../../engine/load.js';
import type { Handler } from '../../http/router.js';
import type { WebContext } from '../context.js';
import { securityHeaders } from '../respond.js';
import { LIVE_OUTPUT_BYTES } from './train.js';

const NUMBER = /^[1-9][0-9]{0,8}$/;

export function jobOutputRoute(web: WebContext): Handler {
  return async (ctx) => {
    const { res } = ctx;
    const send = (status: number, body: string, state?: string) => {
      securityHeaders(res);
      res.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        ...(state ? { 'x-job-state': state } : {}),
      });
      res.end(body);
    };
    const me = await web.sessions.whoIs(ctx.req, res);
    if (!me) return send(401, 'Sign in first.\n');
    const line = ctx.params.line ?? '';
    const n = ctx.params.n ?? '';
    const id = ctx.params.job ?? '';
    if (!web.engine.lines.has(line) || !NUMBER.test(n) || !NUMBER.test(id)) return send(404, 'No such job.\n');
    let loaded: Loaded;
    try {
      loaded = await web.engine.read(line, { extraTrains: [Number(n)] });
    } catch (err) {
      if (err instanceof UnknownLineError) return send(404, 'No such job.\n');
      throw err;
    }
    const train = loaded.state.trains.find((t) => t.number === Number(n));
    const job = train?.jobs.find((j) => loaded.ids.jobs.get(jobKey(train.number, j.kind, j.attempt)) === Number(id));
    if (!train || !job) return send(404, 'No such job.\n');
    // The runner holds the output from spawn until the engine has recorded the result; then the stored output.
    const live =
      job.state === 'running'
        ? await web
            .runner?.(line)
            ?.liveOutput?.(Number(id), LIVE_OUTPUT_BYTES)
            .catch(() => null)
        : null;
    send(200, liveOutputText(live ?? job.output ?? ''), job.state);
  };
}
