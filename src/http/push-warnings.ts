import type { IncomingMessage } from 'node:http';
import { branchOfRef, lineForPush, type PushTarget, pushWarning } from '../domain/push-warning.js';
import type { Engine } from '../engine/engine.js';
import { prePushScript } from './pre-push-script.js';
import { HttpError, type Router, sendJson } from './router.js';

export interface PushWarningOptions {
  engine: Engine;
  /** CONDUCTOR_PUBLIC_URL: the served hook asks this address. */
  publicUrl: string;
  /** The configured lines' repositories and branches, to find the line a push goes to. */
  targets: PushTarget[];
  /** The status API's rule (bearer token, else loopback); throws 401/403. */
  authorise: (req: IncomingMessage) => void;
}

/** C0/C1 controls but newline: admin-written reasons must not drive the pusher's terminal. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/**
 * behaviour.md §8, push warnings: the hook itself (public: it holds no secret,
 * only the public URL), the line a push goes to (JSON, for scripts) and the
 * warning as plain text (for the hook, which parses nothing).
 */
export function pushWarningRoutes(router: Router, opts: PushWarningOptions): void {
  const { engine } = opts;

  router.add('GET', '/hooks/pre-push', ({ res }) => {
    const body = prePushScript(opts.publicUrl);
    res.writeHead(200, {
      'content-type': 'text/x-shellscript; charset=utf-8',
      'content-disposition': 'attachment; filename="pre-push"',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });

  router.add('GET', '/api/push-target', ({ req, res }) => {
    opts.authorise(req);
    const q = pushQuery(req);
    sendJson(res, 200, { line: findLine(opts.targets, q) });
  });

  router.add('GET', '/api/push-warning', async ({ req, res }) => {
    opts.authorise(req);
    const q = pushQuery(req);
    const line = findLine(opts.targets, q);
    let text = '';
    if (q.line && !engine.lines.has(q.line)) {
      text = `git config conductor.line names "${q.line}", but Conductor has no such line.`;
    } else if (line) {
      const { state } = await engine.read(line);
      text = pushWarning(state, engine.deps.clock()).join('\n');
    }
    text = text.replace(CONTROL, '');
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
}

interface PushQuery {
  remote: string;
  branch: string;
  /** `git config conductor.line`, when set. */
  line: string;
}

function pushQuery(req: IncomingMessage): PushQuery {
  const t = req.url ?? '/';
  const params = (t.startsWith('/') ? new URL(`http://localhost${t}`) : new URL(t)).searchParams;
  const get = (k: string) => params.get(k)?.trim() ?? '';
  const q = { remote: get('remote'), branch: get('branch'), line: get('line') };
  if (!q.branch) throw new HttpError(400, '"branch" is required: the branch (or refs/heads/…) being pushed');
  if (!q.remote && !q.line) throw new HttpError(400, '"remote" (the remote URL) or "line" is required');
  for (const [k, v] of Object.entries(q)) if (v.length > 2000) throw new HttpError(400, `"${k}" is longer than 2000 characters`);
  return q;
}

/** `line` (the override) when it watches the pushed branch, else the line the remote URL and branch name. */
function findLine(targets: readonly PushTarget[], q: PushQuery): string | null {
  if (q.line) {
    const t = targets.find((x) => x.name === q.line);
    // The override names the line whatever the remote URL (a mirror, a proxy); the branch still counts.
    return t && branchOfRef(q.branch) === t.branch ? t.name : null;
  }
  return lineForPush(targets, q.remote, q.branch);
}
