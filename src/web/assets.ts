/**
 * Static assets, served under names that carry a hash of their content
 * (`/assets/app.3f2a9c1e7b2d.css`), so they can be cached for a year and a new
 * version is a new URL. Read once at start.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Router } from '../http/router.js';
import { securityHeaders } from './respond.js';

interface Asset {
  url: string;
  type: string;
  body: Buffer;
}

export interface Assets {
  /** Hashed URLs by logical name: `css`, `js`, `morph`. */
  urls: { css: string; js: string; morph: string };
  routes(router: Router): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));

function asset(name: string, ext: string, type: string, file: string): Asset {
  const body = fs.readFileSync(file);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { url: `/assets/${name}.${hash}.${ext}`, type, body };
}

export function loadAssets(): Assets {
  const require = createRequire(import.meta.url);
  const list = {
    css: asset('app', 'css', 'text/css; charset=utf-8', path.join(here, 'assets', 'app.css')),
    js: asset('app', 'js', 'text/javascript; charset=utf-8', path.join(here, 'assets', 'app.js')),
    // idiomorph's browser build (a global `Idiomorph`): morphs the fresh page into the old one, keeping scroll, focus and open dialogs.
    morph: asset('idiomorph', 'js', 'text/javascript; charset=utf-8', require.resolve('idiomorph/dist/idiomorph.min.js')),
  };
  const byUrl = new Map(Object.values(list).map((a) => [a.url, a]));
  return {
    urls: { css: list.css.url, js: list.js.url, morph: list.morph.url },
    routes(router) {
      router.add('GET', '/assets/:name', ({ req, res }) => {
        const a = byUrl.get((req.url ?? '').split('?')[0] ?? '');
        securityHeaders(res);
        if (!a) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
          res.end('no such asset (an old page? reload it)');
          return;
        }
        res.writeHead(200, { 'content-type': a.type, 'content-length': a.body.length, 'cache-control': 'public, max-age=31536000, immutable' });
        res.end(a.body);
      });
    },
  };
}
