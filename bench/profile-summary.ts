// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time.
// Usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP]

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  share: number;
}

/** Self time per function (summed over call sites), highest first; idle and GC are kept as V8 names them. */
export function selfTimes(file: string, top = 25): { totalMs: number; busyMs: number; rows: SelfTime[]; byPackage: Array<[string, number]> } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ms = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    for (let i = 0; i < p.samples.length; i++) {
      const id = p.samples[i]!;
      ms.set(id, (ms.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000);
    }
  }
  const agg = new Map<string, SelfTime>();
  const pkgs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, t] of ms) {
    const n = byId.get(id);
    if (!n) continue;
    total += t;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') idle += t;
    const where = n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    if (name !== '(idle)') pkgs.set(packageOf(n.callFrame.url, name), (pkgs.get(packageOf(n.callFrame.url, name)) ?? 0) + t);
    const row = agg.get(key) ?? { fn: name, where, ms: 0, share: 0 };
    row.ms += t;
    agg.set(key, row);
  }
  const busy = total - idle;
  const rows = [...agg.values()].filter((r) => r.fn !== '(idle)').sort((a, b) => b.ms - a.ms).slice(0, top);
  for (const r of rows) r.share = busy > 0 ? r.ms / busy : 0;
  const byPackage = [...pkgs.entries()].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, busyMs: busy, rows, byPackage };
}

/** Where a function lives: an npm package, tollgate's own code (by folder), Node's internals, or V8. */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const s = url.replace(/^file:\/\//, '');
  const nm = s.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = s.slice(nm + 13).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const d = s.indexOf('/dist/');
  if (d >= 0) return `tollgate ${s.slice(d + 6).split('/').slice(0, -1).join('/') || '.'}`;
  if (s.startsWith('node:')) return 'node internals';
  return s;
}

function shortUrl(u: string): string {
  const s = u.replace(/^file:\/\//, '');
  const nm = s.lastIndexOf('node_modules/');
  if (nm >= 0) return s.slice(nm + 13);
  const d = s.indexOf('/dist/');
  if (d >= 0) return s.slice(d + 6);
  return s;
}

export function formatSelfTimes(s: ReturnType<typeof selfTimes>): string {
  const lines = [`busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s sampled; top self time:`];
  for (const r of s.rows) lines.push(`  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.fn}  ${r.where}`);
  lines.push('self time by package:');
  for (const [p, ms] of s.byPackage.slice(0, 15)) lines.push(`  ${((ms / s.busyMs) * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${p}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: profile-summary.js FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(formatSelfTimes(selfTimes(file, Number(process.argv[3] ?? 25))));
}
