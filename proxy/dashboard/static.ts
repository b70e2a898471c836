// The dashboard's static files: uPlot from node_modules (no CDN) and the page script and style
// from ./assets. Read once at start; served with their hash as ETag and a long cache.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  body: string;
  type: string;
  etag: string;
}

/** Source assets sit beside this file in the repo; the compiled file runs from dist/. */
function assetsDir(): string {
  for (const u of [new URL('./assets/', import.meta.url), new URL('../../../proxy/dashboard/assets/', import.meta.url)]) {
    const p = fileURLToPath(u);
    if (existsSync(`${p}dashboard.js`)) return p;
  }
  throw new Error('the dashboard assets (proxy/dashboard/assets) are missing');
}

export function loadStaticFiles(): Map<string, StaticFile> {
  const require = createRequire(import.meta.url);
  const dir = assetsDir();
  const sources: [string, string, string][] = [
    ['uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
    ['dashboard.js', `${dir}dashboard.js`, 'text/javascript; charset=utf-8'],
    ['dashboard.css', `${dir}dashboard.css`, 'text/css; charset=utf-8'],
    ['favicon.svg', `${dir}favicon.svg`, 'image/svg+xml'],
  ];
  const files = new Map<string, StaticFile>();
  for (const [name, path, type] of sources) {
    const body = readFileSync(path, 'utf8');
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return files;
}
