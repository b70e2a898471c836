// The bench's history phase (issue 22): what the usage history and receipts add to Redis per
// request. Two tollgate processes on the same Redis, the same config but `history.enabled` (on:
// buckets and a receipt written by every settle; off: neither), measured in one run, alternately:
//   lone:  requests one at a time (every settle its own script call, the worst case);
//   load:  32 connections, closed loop (settles batched per account and event-loop turn).
// Per request: redis-server CPU (user + system, INFO cpu: the scripts, their inner commands and
// the network) and the scripts' own time (INFO commandstats, EVALSHA usec). Goal: on ≤ 1.2× off.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { Redis } from 'ioredis';
import { throughput } from './load.js';
import { BENCH_KEY, benchConfig, freePort, spawnTollgate, type TollgateChild } from './procs.js';

export interface HistoryRow {
  requests: number;
  rps?: number;
  /** redis-server CPU µs per request */
  redisUs: number;
  /** EVALSHA usec per request */
  scriptUs: number;
  scriptsPerRequest: number;
}
export interface HistoryResults {
  lone: { on: HistoryRow; off: HistoryRow; ratio: number };
  load: { connections: number; on: HistoryRow; off: HistoryRow; ratio: number };
  goal: number;
}

export const HISTORY_GOAL = 1.2;

async function redisTotals(client: Redis): Promise<{ cpuUs: number; evalUs: number; scripts: number }> {
  const info = await client.info('all');
  let cpuUs = 0;
  let evalUs = 0;
  let scripts = 0;
  for (const raw of info.split('\n')) {
    const line = raw.trim();
    const c = /^used_cpu_(user|sys):([\d.]+)/.exec(line);
    if (c) cpuUs += Number(c[2]) * 1e6;
    const e = /^cmdstat_(evalsha|eval):calls=(\d+),usec=(\d+)/.exec(line);
    if (e) {
      scripts += Number(e[2]);
      evalUs += Number(e[3]);
    }
  }
  return { cpuUs, evalUs, scripts };
}

export interface HistoryPhaseOptions {
  redisUrl: string;
  redis: Redis;
  upstreamUrl: string;
  tmp: string;
  workers: number;
  logLevel: string;
  nodeArgs: string[];
  quick: boolean;
  log: (s: string) => void;
}

export async function historyPhase(o: HistoryPhaseOptions): Promise<HistoryResults> {
  const P = o.quick ? { lone: 300, warm: 2_000, seconds: 3, rounds: 2 } : { lone: 1_000, warm: 6_000, seconds: 5, rounds: 3 };
  const procs: Record<'on' | 'off', TollgateChild> = {} as never;
  try {
    for (const mode of ['on', 'off'] as const) {
      const proxyPort = await freePort();
      const adminPort = await freePort();
      const file = join(o.tmp, `tollgate-history-${mode}.yaml`);
      writeFileSync(file, benchConfig({ proxyPort, adminPort, redisUrl: o.redisUrl, upstreamUrl: o.upstreamUrl, logLevel: o.logLevel, workers: o.workers, keyPrefix: `tgh${mode}`, history: `{ enabled: ${mode === 'on'} }` }));
      procs[mode] = await spawnTollgate(file, proxyPort, adminPort, join(o.tmp, `tollgate-history-${mode}.log`), { nodeArgs: o.nodeArgs });
    }
    const body = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Say hello to the benchmark in one short sentence, please.' }], max_tokens: 64 });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` };
    const url = (m: 'on' | 'off') => `http://127.0.0.1:${procs[m].port}/openai/v1/chat/completions`;
    for (const m of ['on', 'off'] as const) {
      let n = 0;
      while (n < P.warm) n += (await throughput(url(m), headers, body, 32, 1, o.tmp)).requests;
    }
    const acc = () => ({ requests: 0, cpuUs: 0, evalUs: 0, scripts: 0, seconds: 0 });
    const lone = { on: acc(), off: acc() };
    const load = { on: acc(), off: acc() };
    for (let r = 0; r < P.rounds; r++) {
      for (const m of r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        // One at a time: each settle is its own script call.
        let t0 = await redisTotals(o.redis);
        const n = Math.round(P.lone / P.rounds);
        for (let i = 0; i < n; i++) {
          const res = await request(url(m), { method: 'POST', headers, body });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`history phase: ${m} answered ${res.statusCode}`);
          await sleep(8); // past the settle's batching delay (openSettleDelayMs 5): one settle per script call
        }
        await sleep(300);
        let t1 = await redisTotals(o.redis);
        lone[m].requests += n;
        lone[m].cpuUs += t1.cpuUs - t0.cpuUs;
        lone[m].evalUs += t1.evalUs - t0.evalUs;
        lone[m].scripts += t1.scripts - t0.scripts;
        // Under load.
        t0 = await redisTotals(o.redis);
        const res = await throughput(url(m), headers, body, 32, P.seconds, o.tmp);
        await sleep(300); // the last settles land just after their responses
        t1 = await redisTotals(o.redis);
        load[m].requests += res.requests;
        load[m].seconds += P.seconds;
        load[m].cpuUs += t1.cpuUs - t0.cpuUs;
        load[m].evalUs += t1.evalUs - t0.evalUs;
        load[m].scripts += t1.scripts - t0.scripts;
        o.log(`  history ${m}: lone ${((lone[m].cpuUs / lone[m].requests) || 0).toFixed(1)} µs Redis CPU per request; 32 connections ${res.rps.toFixed(0)} req/s, ${((t1.cpuUs - t0.cpuUs) / res.requests).toFixed(1)} µs Redis CPU per request`);
      }
    }
    const row = (a: ReturnType<typeof acc>, withRps: boolean): HistoryRow => ({
      requests: a.requests,
      ...(withRps ? { rps: Math.round(a.requests / a.seconds) } : {}),
      redisUs: Math.round((a.cpuUs / a.requests) * 10) / 10,
      scriptUs: Math.round((a.evalUs / a.requests) * 10) / 10,
      scriptsPerRequest: Math.round((a.scripts / a.requests) * 1000) / 1000,
    });
    const ratio = (x: HistoryRow, y: HistoryRow) => Math.round((x.redisUs / y.redisUs) * 1000) / 1000;
    const loneOn = row(lone.on, false);
    const loneOff = row(lone.off, false);
    const loadOn = row(load.on, true);
    const loadOff = row(load.off, true);
    return { lone: { on: loneOn, off: loneOff, ratio: ratio(loneOn, loneOff) }, load: { connections: 32, on: loadOn, off: loadOff, ratio: ratio(loadOn, loadOff) }, goal: HISTORY_GOAL };
  } finally {
    for (const p of Object.values(procs)) await p.stop();
  }
}

export function renderHistory(h: HistoryResults): string {
  const line = (name: string, on: HistoryRow, off: HistoryRow, ratio: number) =>
    `| ${name} | ${off.redisUs} / ${off.scriptUs} µs | ${on.redisUs} / ${on.scriptUs} µs | **${ratio.toFixed(2)}×** ${ratio <= h.goal ? '✓' : '✗'} |`;
  return [
    '### Usage history: Redis per request, history off against on (same run)',
    '',
    '| requests | off: Redis CPU / script time | on | Redis CPU on / off (goal ≤ 1.2×) |',
    '|---|---:|---:|---:|',
    line('one at a time (a script call each)', h.lone.on, h.lone.off, h.lone.ratio),
    line(`${h.load.connections} connections (${h.load.off.rps} / ${h.load.on.rps} req/s)`, h.load.on, h.load.off, h.load.ratio),
  ].join('\n');
}
