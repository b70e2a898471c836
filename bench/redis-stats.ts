// Counting what a request costs Redis: top-level commands (round trips) with MONITOR, which
// tells a client's command from one a Lua script runs; all commands, script-internal ones
// included, from INFO commandstats.

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadScripts } from '../ledger/redis/scripts.js';

/** Calls per command (lower-case name), e.g. { evalsha: 1200, hmget: 3 }, scripts' inner calls included. */
export async function commandStats(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const out: Record<string, number> = {};
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]!.toLowerCase()] = Number(m[2]);
  }
  return out;
}

/**
 * Script calls so far (EVALSHA + EVAL), and the redis-server process's CPU time (µs, user +
 * system, from INFO cpu): command execution, the scripts' inner commands and the network
 * I/O alike (commandstats would count a script's inner commands twice and its I/O not at all).
 */
export async function scriptTotals(client: Redis): Promise<{ scripts: number; usec: number }> {
  const info = await client.info('all');
  let scripts = 0;
  let usec = 0;
  for (const line of info.split('\n')) {
    const m = /^cmdstat_(evalsha|eval):calls=(\d+)/.exec(line.trim());
    if (m) scripts += Number(m[2]);
    const c = /^used_cpu_(user|sys):([\d.]+)/.exec(line.trim());
    if (c) usec += Number(c[2]) * 1e6;
  }
  return { scripts, usec };
}

/** Calls made between two snapshots, without the INFO calls that took them. */
export function diffStats(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    if (k === 'info') continue;
    const n = v - (before[k] ?? 0);
    if (n > 0) d[k] = n;
  }
  return d;
}

export interface TopLevelCounter {
  /**
   * Top-level commands seen so far, by name; a ledger script as `evalsha:<script>`, a hash read
   * by what it reads: `hmget:auth` (a key), `hmget:terms` (an account), `hget:stored-keys`,
   * `hgetall:epoch` (the epoch check: every few seconds per process, not per request).
   */
  counts(): Record<string, number>;
  stop(): Promise<void>;
}

/** Watches every command clients send (MONITOR), leaving out what Lua scripts run and INFO. */
export async function monitorTopLevel(client: Redis): Promise<TopLevelCounter> {
  const mon = await client.duplicate().monitor();
  const counts: Record<string, number> = {};
  const scripts = new Map<string, string>();
  for (const [name, src] of Object.entries(loadScripts())) scripts.set(createHash('sha1').update(src).digest('hex'), name);
  mon.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua' || !args[0]) return;
    let cmd = args[0].toLowerCase();
    if (cmd === 'evalsha' || cmd === 'eval') cmd += `:${scripts.get(cmd === 'eval' ? createHash('sha1').update(args[1] ?? '').digest('hex') : (args[1] ?? '')) ?? '?'}`;
    if (cmd === 'info' || cmd === 'monitor') return;
    if (cmd === 'hmget' || cmd === 'hget' || cmd === 'hgetall') {
      const key = args[1] ?? '';
      const kind = /:key:[0-9a-f]{64}$/.test(key) ? 'auth' : key.endsWith(':acct') ? 'terms' : key.endsWith(':secrets') ? 'stored-keys' : /:ledger:epoch/.test(key) ? 'epoch' : undefined;
      if (kind) cmd += `:${kind}`;
    }
    counts[cmd] = (counts[cmd] ?? 0) + 1;
  });
  return {
    counts: () => ({ ...counts }),
    stop: async () => {
      mon.disconnect();
    },
  };
}
