// `npm start`'s prestart: compile when any source is newer than dist/ (a `git pull` without
// `npm run build` used to run yesterday's code). Nothing to do when dist/ is current, or when
// there are no sources to build from (an installed package).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const DIRS = ['bin', 'proxy', 'pricing', 'ledger', 'billing', 'config'];
const built = join(root, 'dist/bin/tollgate.js');
// tsc leaves unchanged outputs alone (a type-only edit changes no .js): a stamp marks the last build.
const stamp = join(root, 'dist/.build-stamp');

function newest(dir, ext = '.ts') {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, ext));
    else if (e.name.endsWith(ext)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const sources = Math.max(...DIRS.map((d) => newest(join(root, d))), existsSync(join(root, 'tsconfig.json')) ? statSync(join(root, 'tsconfig.json')).mtimeMs : 0);
if (sources === 0) process.exit(0);
const output = existsSync(built) ? Math.max(newest(join(root, 'dist'), '.js'), existsSync(stamp) ? statSync(stamp).mtimeMs : 0) : 0;
if (output >= sources) process.exit(0);
process.stderr.write(existsSync(built) ? 'tollgate: sources changed since the last build; compiling (npm run build)\n' : 'tollgate: no build yet; compiling (npm run build)\n');
const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (r.status === 0) writeFileSync(stamp, `${new Date().toISOString()}\n`);
process.exit(r.status ?? 1);
