// The bench's cluster phase (`--phases cluster`): two tollgate processes on a 3-master Redis
// Cluster against the same two on one Redis, in one run, alternating: throughput ratio, Redis
// round trips per request, Redis CPU per request on each shard, and how the accounts spread over
// the shards. On a 2-core machine the point is the cost per request, not absolute speed.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { Redis } from 'ioredis';
import { freePort, HAS_TASKSET, spawnTollgate, type TollgateChild } from './procs.js';
import { monitorTopLevel } from './redis-stats.js';

/** One redis-server of the bench: a standalone client to it (INFO, MONITOR, SCAN). */
export interface BenchNode {
  port: number;
  /** The cluster bus port (cluster nodes only). */
  bus?: number;
  client: Redis;
  proc?: ChildProcess;
}

export interface BenchCluster {
  /** Seed node URLs (every master). */
  urls: string[];
  masters: BenchNode[];
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `masters` redis-servers (0: one plain redis-server, the comparison), (no replicas), slots split evenly: config epochs,
 * ADDSLOTSRANGE, MEET, then cluster_state:ok everywhere (about 2 s: Redis's writable delay).
 * Bus ports are chosen free (`--cluster-port`, so data ports may be anywhere; MEET then names it).
 */
export async function startBenchCluster(dir: string, masters = 3, cpus?: string): Promise<BenchCluster> {
  const nodes: BenchNode[] = [];
  const cluster = masters > 0;
  const count = Math.max(1, masters);
  const stop = async () => {
    for (const n of nodes) n.client.disconnect();
    await Promise.all(
      nodes.map(async (n) => {
        const p = n.proc;
        if (!p || p.exitCode !== null || p.signalCode !== null) return;
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([exited, sleep(3000)]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }),
    );
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const bus = await freePort();
      const argv = ['redis-server', '--port', String(port), ...(cluster ? ['--cluster-port', String(bus)] : []), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', `dump-${port}.rdb`, ...(cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000'] : [])];
      // The bench process is pinned to one CPU; its children would inherit that.
      const proc = cpus && HAS_TASKSET ? spawn('taskset', ['-c', cpus, ...argv], { stdio: 'ignore' }) : spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      // Retries every 50 ms until the server listens (connect() on a client already retrying throws).
      const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      client.on('error', () => {});
      nodes.push({ port, bus, client, proc });
    }
    const deadline = Date.now() + 10_000;
    for (const n of nodes) {
      while (n.client.status !== 'ready') {
        if (n.proc?.exitCode !== null && n.proc?.exitCode !== undefined) throw new Error(`redis-server on ${n.port} exited with ${n.proc.exitCode}`);
        if (Date.now() > deadline) throw new Error(`redis-server on ${n.port} did not answer in 10 s`);
        await sleep(25);
      }
      // Up: no more reconnects (MONITOR's duplicates copy this; one retrying after the stop would
      // keep the bench alive and reach whatever takes the port next).
      n.client.options.retryStrategy = () => null;
    }
    if (!cluster) return { urls: [`redis://127.0.0.1:${nodes[0]!.port}`], masters: nodes, stop };
    const per = Math.floor(16384 / masters);
    for (const [i, n] of nodes.entries()) {
      await n.client.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
      await n.client.call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(i === masters - 1 ? 16383 : (i + 1) * per - 1));
    }
    for (const n of nodes.slice(1)) await n.client.call('CLUSTER', 'MEET', '127.0.0.1', String(nodes[0]!.port), String(nodes[0]!.bus));
    for (const n of nodes) {
      for (;;) {
        const info = String(await n.client.call('CLUSTER', 'INFO'));
        if (info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`)) break;
        if (Date.now() > deadline) throw new Error('the bench cluster did not reach cluster_state:ok in 10 s');
        await sleep(25);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { urls: nodes.map((n) => `redis://127.0.0.1:${n.port}`), masters: nodes, stop };
}

export interface ClusterShard {
  node: string;
  /** Bench accounts whose keys are on this master (SCAN after the run). */
  accounts: number;
  /** Requests of those accounts in the throughput runs. */
  requests: number;
  scripts: number;
  cpuMs: number;
  /** redis-server CPU of this master ÷ every request of the run (what a request costs this shard). */
  cpuUsPerRequest: number;
  /** ÷ the requests of the accounts it holds (what one of its own requests costs it). */
  cpuUsPerOwnRequest: number;
}

export interface ClusterSide {
  rps: number;
  requests: number;
  failed: number;
  /** Top-level commands tollgate sent per request, requests one at a time (MONITOR on every node). */
  roundTripsPerRequest: number;
  /** Of those, the ledger's scripts (reserve, settle). */
  scriptRoundTripsPerRequest: number;
  byCommand: Record<string, number>;
  /** Script calls per request under load (batching merges a turn's requests of one account). */
  scriptsPerRequest: number;
  /** redis-server CPU per request, all nodes together. */
  cpuUsPerRequest: number;
  /** tollgate CPU per request, both processes. */
  tollgateCpuUsPerRequest: number;
}

export interface ClusterResults {
  masters: number;
  processes: number;
  connections: number;
  seconds: number;
  rounds: number;
  accounts: { total: number; capped: number };
  single: ClusterSide;
  cluster: ClusterSide & { shards: ClusterShard[] };
  /** cluster req/s ÷ single-Redis req/s. */
  ratio: number;
  /** Redis memory per account after the run (MEMORY USAGE over every key of the account). */
  memory: { bytesPerAccount: number; markerBytesPerAccount: number; requestsPerAccount: number; byKey: Record<string, number>; markersPerAccount: number; bytesPerMarker: number };
  runs: { single: number[]; cluster: number[] };
  /** Each node's CPU while no request ran (µs per second), taken out of the per-request figures. */
  idleUsPerSecond: { single: number[]; cluster: number[] };
}

export interface ClusterPhaseOptions {
  upstreamUrl: string;
  tmp: string;
  quick: boolean;
  logLevel: string;
  log(s: string): void;
  cpuOf(pid: number): number;
  /** CPUs (a taskset list) for the phase's tollgate and redis processes: all of them. */
  cpus?: string;
}

const ACCOUNTS = 48;
const PROCESSES = 2;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const keyOf = (i: number) => `tg_bench_cluster_key_${String(i).padStart(16, '0')}`;
const idOf = (i: number) => `bench-c-${String(i).padStart(2, '0')}`;
/** Every other account has a spend limit: it reserves in Redis on every request; the rest are admitted locally. */
const capped = (i: number) => i % 2 === 1;

function config(o: { proxyPort: number; adminPort: number; redis: string; upstreamUrl: string; logLevel: string }): string {
  return [
    `proxy: { host: 127.0.0.1, port: ${o.proxyPort} }`,
    `admin: { host: 127.0.0.1, port: ${o.adminPort}, token: bench_admin_token_00000001 }`,
    `redis: ${o.redis}`,
    'providers:',
    `  openai: { baseUrl: "${o.upstreamUrl}", apiKey: sk-bench-platform }`,
    'accounts:',
    ...Array.from({ length: ACCOUNTS }, (_, i) => `  - { id: ${idOf(i)}, tier: scale, apiKeys: ["${keyOf(i)}"]${capped(i) ? ', overageCapCredits: 1000000000' : ''} }`),
    `logging: { level: ${o.logLevel} }`,
    'shutdown: { graceMs: 2000 }',
    'workers: 1',
    '',
  ].join('\n');
}

const CHAT = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Say hello to the benchmark in one short sentence, please.' }], max_tokens: 64 });

/**
 * Closed loop over both processes: `connections` per process, each request for the next account
 * in turn (so every shard gets its share). Counts per account.
 */
async function closedLoop(ports: number[], connections: number, seconds: number, perAccount: number[]): Promise<{ requests: number; failed: number; rps: number; codes: Record<string, number> }> {
  let next = 0;
  let requests = 0;
  let failed = 0;
  const codes: Record<string, number> = {};
  const fail = (c: string) => {
    failed++;
    codes[c] = (codes[c] ?? 0) + 1;
  };
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const pools = ports.map((p) => new Pool(`http://127.0.0.1:${p}`, { connections, pipelining: 1 }));
  await Promise.all(
    pools.flatMap((pool) =>
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const a = next++ % ACCOUNTS;
          try {
            const r = await pool.request({ path: '/openai/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf(a)}` }, body: CHAT });
            await r.body.dump();
            if (r.statusCode === 200) {
              requests++;
              perAccount[a]!++;
            } else fail(`${r.statusCode} ${String(r.headers['x-tollgate-error'] ?? '')}`);
          } catch (err) {
            fail((err as Error).message);
          }
        }
      }),
    ),
  );
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(pools.map((p) => p.close()));
  return { requests, failed, rps: requests / secs, codes };
}

/** Script calls and CPU (µs, INFO cpu: user + sys) of one redis-server. */
async function nodeTotals(c: Redis): Promise<{ scripts: number; usec: number }> {
  const info = await c.info('all');
  let scripts = 0;
  let usec = 0;
  for (const line of info.split('\n')) {
    const m = /^cmdstat_(evalsha|eval):calls=(\d+)/.exec(line.trim());
    if (m) scripts += Number(m[2]);
    const cpu = /^used_cpu_(user|sys):([\d.]+)/.exec(line.trim());
    if (cpu) usec += Number(cpu[2]) * 1e6;
  }
  return { scripts, usec };
}

/** The bench accounts each node holds keys of, and their keys (SCAN per node). */
async function accountKeys(c: Redis): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let cursor = '0';
  do {
    const [cur, keys] = await c.scan(cursor, 'MATCH', '*{acct:bench-c-*', 'COUNT', 1000);
    cursor = cur;
    for (const k of keys) {
      const id = /\{acct:(bench-c-\d+)\}/.exec(k)?.[1];
      if (id) (out.get(id) ?? out.set(id, []).get(id)!).push(k);
    }
  } while (cursor !== '0');
  return out;
}

export async function clusterPhase(o: ClusterPhaseOptions): Promise<ClusterResults> {
  const P = o.quick ? { warmSeconds: 3, seconds: 3, rounds: 2, sequential: 144, connections: 32 } : { warmSeconds: 6, seconds: 5, rounds: 4, sequential: 288, connections: 32 };
  const stops: Array<() => Promise<void>> = [];
  try {
    const single = await startBenchCluster(o.tmp, 0, o.cpus);
    stops.push(() => single.stop());
    const t0 = Date.now();
    const cluster = await startBenchCluster(o.tmp, 3, o.cpus);
    stops.push(() => cluster.stop());
    o.log(`  cluster: 3 masters up (cluster_state:ok) in ${Date.now() - t0} ms`);
    const nodesOf = { single: single.masters, cluster: cluster.masters };
    const redisOf = {
      single: `{ url: "${single.urls[0]}/0", keyPrefix: tgbench }`,
      cluster: `{ cluster: { nodes: [${cluster.urls.map((u) => `"${u}"`).join(', ')}] }, keyPrefix: tgbench }`,
    };
    const procs: Record<'single' | 'cluster', TollgateChild[]> = { single: [], cluster: [] };
    for (const side of ['single', 'cluster'] as const) {
      for (let i = 0; i < PROCESSES; i++) {
        const proxyPort = await freePort();
        const adminPort = await freePort();
        const file = join(o.tmp, `tollgate-${side}-${i}.yaml`);
        writeFileSync(file, config({ proxyPort, adminPort, redis: redisOf[side], upstreamUrl: o.upstreamUrl, logLevel: o.logLevel }));
        const tg = await spawnTollgate(file, proxyPort, adminPort, join(o.tmp, `tollgate-${side}-${i}.log`), { cpu: o.cpus });
        stops.push(() => tg.stop());
        procs[side].push(tg);
      }
    }
    const ports = (side: 'single' | 'cluster') => procs[side].map((p) => p.port);
    const tgCpu = (side: 'single' | 'cluster') => procs[side].reduce((a, p) => a + o.cpuOf(p.pid), 0);

    // Warm-up: the JIT, every account's terms cached, the cluster client's slot map.
    for (const side of ['single', 'cluster'] as const) {
      const w = await closedLoop(ports(side), 16, P.warmSeconds, new Array(ACCOUNTS).fill(0));
      o.log(`  warm-up ${side}: ${w.requests} requests${w.failed ? ` (failed: ${JSON.stringify(w.codes)})` : ''}`);
    }

    // Round trips: requests one at a time (no batching can merge two), through both processes in
    // turn, every top-level command counted on every node (MONITOR leaves out the scripts' own).
    const rt: Record<'single' | 'cluster', { perRequest: number; scripts: number; byCommand: Record<string, number> }> = { single: { perRequest: 0, scripts: 0, byCommand: {} }, cluster: { perRequest: 0, scripts: 0, byCommand: {} } };
    for (const side of ['single', 'cluster'] as const) {
      const mons = await Promise.all(nodesOf[side].map((n) => monitorTopLevel(n.client)));
      await sleep(100);
      const pools = ports(side).map((p) => new Pool(`http://127.0.0.1:${p}`, { connections: 1 }));
      for (let i = 0; i < P.sequential; i++) {
        const r = await pools[i % pools.length]!.request({ path: '/openai/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf(i % ACCOUNTS)}` }, body: CHAT });
        await r.body.dump();
        if (r.statusCode !== 200) throw new Error(`${side}: a request answered ${r.statusCode}`);
      }
      await Promise.all(pools.map((p) => p.close()));
      await sleep(300); // the last settles land just after their answers
      const counts: Record<string, number> = {};
      for (const m of mons) {
        for (const [k, v] of Object.entries(m.counts())) counts[k] = (counts[k] ?? 0) + v;
        await m.stop();
      }
      const sum = Object.values(counts).reduce((a, b) => a + b, 0);
      const scripts = Object.entries(counts).filter(([k]) => /^eval/.test(k)).reduce((a, [, v]) => a + v, 0);
      rt[side] = { perRequest: round(sum / P.sequential, 3), scripts: round(scripts / P.sequential, 3), byCommand: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round(v / P.sequential, 3)])) };
      o.log(`  ${side}: ${rt[side].perRequest} Redis round trips per request, one at a time (${JSON.stringify(rt[side].byCommand)})`);
    }

    // Throughput, alternating, Redis CPU and script calls per node.
    const acc = {
      single: { rps: [] as number[], requests: 0, failed: 0, scripts: 0, usec: 0, tgCpu: 0, perNode: [{ scripts: 0, usec: 0 }] },
      cluster: { rps: [] as number[], requests: 0, failed: 0, scripts: 0, usec: 0, tgCpu: 0, perNode: cluster.masters.map(() => ({ scripts: 0, usec: 0 })) },
    };
    // Each node's CPU when idle (serverCron, the cluster bus), µs per second: left out of the per-request figures.
    const idle: Record<'single' | 'cluster', number[]> = { single: [], cluster: [] };
    for (const side of ['single', 'cluster'] as const) {
      const a = await Promise.all(nodesOf[side].map((n) => nodeTotals(n.client)));
      const t0 = performance.now();
      await sleep(1000);
      const b = await Promise.all(nodesOf[side].map((n) => nodeTotals(n.client)));
      const secs = (performance.now() - t0) / 1000;
      idle[side] = b.map((x, i) => Math.max(0, x.usec - a[i]!.usec) / secs);
    }
    o.log(`  idle redis-server CPU, µs per second: one Redis ${idle.single.map((x) => x.toFixed(0)).join()}; cluster ${idle.cluster.map((x) => x.toFixed(0)).join(', ')}`);
    const perAccount = new Array(ACCOUNTS).fill(0);
    for (let r = 0; r < P.rounds; r++) {
      for (const side of r % 2 === 0 ? (['single', 'cluster'] as const) : (['cluster', 'single'] as const)) {
        const before = await Promise.all(nodesOf[side].map((n) => nodeTotals(n.client)));
        const w0 = performance.now();
        const cpu0 = tgCpu(side);
        const counts = new Array(ACCOUNTS).fill(0);
        const res = await closedLoop(ports(side), P.connections, P.seconds, counts);
        await sleep(200);
        const after = await Promise.all(nodesOf[side].map((n) => nodeTotals(n.client)));
        const secs = (performance.now() - w0) / 1000;
        for (const [i, n] of after.entries()) n.usec -= idle[side][i]! * secs;
        const a = acc[side];
        a.rps.push(res.rps);
        a.requests += res.requests;
        a.failed += res.failed;
        a.tgCpu += tgCpu(side) - cpu0;
        for (const [i, b] of before.entries()) {
          a.perNode[i]!.scripts += after[i]!.scripts - b.scripts;
          a.perNode[i]!.usec += after[i]!.usec - b.usec;
        }
        if (side === 'cluster') counts.forEach((n, i) => (perAccount[i] += n));
        o.log(`  ${side}: ${res.rps.toFixed(0)} req/s through ${PROCESSES} processes (${res.failed ? `failed: ${JSON.stringify(res.codes)}` : 'none failed'}), Redis ${round(after.reduce((x, n, i) => x + n.usec - before[i]!.usec, 0) / res.requests, 1)} µs CPU per request`);
      }
    }

    // Where the accounts landed, and what an account costs in memory.
    const held = await Promise.all(cluster.masters.map((n) => accountKeys(n.client)));
    let bytes = 0;
    let markerBytes = 0;
    let markers = 0;
    let accounts = 0;
    const byKey: Record<string, number> = {};
    const usage = async (c: Redis, k: string, kind: string) => {
      const b = Number(await c.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
      byKey[kind] = (byKey[kind] ?? 0) + b;
      return b;
    };
    for (const [i, m] of held.entries()) {
      for (const keys of m.values()) {
        accounts++;
        for (const k of keys) {
          const kind = /\}:([a-z]+)/.exec(k)?.[1] ?? '?';
          const b = await usage(cluster.masters[i]!.client, k, kind);
          bytes += b;
          if (kind === 'mk') {
            markerBytes += b;
            markers += Number(await cluster.masters[i]!.client.hlen(k));
          }
        }
      }
      // Each account's API key record (tgbench:key:HASH, a slot of its own).
      let cursor = '0';
      do {
        const [cur, keys] = await cluster.masters[i]!.client.scan(cursor, 'MATCH', 'tgbench:key:*', 'COUNT', 1000);
        cursor = cur;
        for (const k of keys) bytes += await usage(cluster.masters[i]!.client, k, 'key');
      } while (cursor !== '0');
    }
    for (const k of Object.keys(byKey)) byKey[k] = accounts ? Math.round(byKey[k]! / accounts) : NaN;
    const totalRequests = perAccount.reduce((x, y) => x + y, 0);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const side = (s: 'single' | 'cluster'): ClusterSide => {
      const a = acc[s];
      const scripts = a.perNode.reduce((x, n) => x + n.scripts, 0);
      const usec = a.perNode.reduce((x, n) => x + n.usec, 0);
      return {
        rps: round(mean(a.rps), 0),
        requests: a.requests,
        failed: a.failed,
        roundTripsPerRequest: rt[s].perRequest,
        scriptRoundTripsPerRequest: rt[s].scripts,
        byCommand: rt[s].byCommand,
        scriptsPerRequest: round(scripts / a.requests, 3),
        cpuUsPerRequest: round(usec / a.requests, 1),
        tollgateCpuUsPerRequest: round((a.tgCpu / a.requests) * 1e6, 0),
      };
    };
    const shards: ClusterShard[] = cluster.masters.map((n, i) => {
      const own = [...held[i]!.keys()].reduce((x, id) => x + (perAccount[Number(id.slice(-2))] ?? 0), 0);
      const p = acc.cluster.perNode[i]!;
      return {
        node: `127.0.0.1:${n.port}`,
        accounts: held[i]!.size,
        requests: own,
        scripts: p.scripts,
        cpuMs: round(p.usec / 1000, 0),
        cpuUsPerRequest: round(p.usec / totalRequests, 1),
        cpuUsPerOwnRequest: own ? round(p.usec / own, 1) : NaN,
      };
    });
    const single_ = side('single');
    const cluster_ = { ...side('cluster'), shards };
    return {
      masters: cluster.masters.length,
      processes: PROCESSES,
      connections: P.connections,
      seconds: P.seconds,
      rounds: P.rounds,
      accounts: { total: ACCOUNTS, capped: Array.from({ length: ACCOUNTS }, (_, i) => i).filter(capped).length },
      single: single_,
      cluster: cluster_,
      ratio: round(cluster_.rps / single_.rps, 3),
      memory: { bytesPerAccount: accounts ? Math.round(bytes / accounts) : NaN, markerBytesPerAccount: accounts ? Math.round(markerBytes / accounts) : NaN, requestsPerAccount: Math.round(totalRequests / ACCOUNTS), byKey, markersPerAccount: accounts ? Math.round(markers / accounts) : NaN, bytesPerMarker: markers ? round(markerBytes / markers, 1) : NaN },
      runs: { single: acc.single.rps.map((x) => round(x, 0)), cluster: acc.cluster.rps.map((x) => round(x, 0)) },
      idleUsPerSecond: { single: idle.single.map((x) => round(x, 0)), cluster: idle.cluster.map((x) => round(x, 0)) },
    };
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
  }
}

/** The phase as Markdown (bench/RESULTS.md, docs/performance.md). */
export function renderCluster(c: ClusterResults): string {
  const L: string[] = [];
  L.push(`### Redis Cluster: ${c.processes} tollgate processes on ${c.masters} masters vs on one Redis (same run)`);
  L.push('');
  L.push(`${c.accounts.total} accounts (${c.accounts.capped} with a spend limit: a reserve and a settle in Redis per request; the others admitted locally: a settle), ${c.connections} connections per process, ${c.rounds} × ${c.seconds} s each, alternating.`);
  L.push('');
  L.push('| Measure | one Redis | 3-master cluster | cluster ÷ one |');
  L.push('|---|---:|---:|---:|');
  const row = (name: string, a: number, b: number, d = 2) => L.push(`| ${name} | ${a.toFixed(d)} | ${b.toFixed(d)} | ${(b / a).toFixed(2)} |`);
  row('throughput, req/s', c.single.rps, c.cluster.rps, 0);
  row('Redis round trips per request (one at a time)', c.single.roundTripsPerRequest, c.cluster.roundTripsPerRequest, 3);
  row('… of them ledger scripts', c.single.scriptRoundTripsPerRequest, c.cluster.scriptRoundTripsPerRequest, 3);
  row('script calls per request (under load)', c.single.scriptsPerRequest, c.cluster.scriptsPerRequest, 3);
  row('Redis CPU per request, all nodes, µs', c.single.cpuUsPerRequest, c.cluster.cpuUsPerRequest, 1);
  row('tollgate CPU per request, µs', c.single.tollgateCpuUsPerRequest, c.cluster.tollgateCpuUsPerRequest, 0);
  L.push('');
  L.push('| Shard (master) | accounts | their requests | script calls | CPU µs per request (all) | CPU µs per own request |');
  L.push('|---|---:|---:|---:|---:|---:|');
  for (const s of c.cluster.shards) L.push(`| ${s.node} | ${s.accounts} | ${s.requests} | ${s.scripts} | ${s.cpuUsPerRequest.toFixed(1)} | ${s.cpuUsPerOwnRequest.toFixed(1)} |`);
  L.push('');
  L.push(`Redis CPU is INFO's used_cpu_user + used_cpu_sys per node, less what the node used while idle (one Redis ${c.idleUsPerSecond.single.join(', ')} µs/s; the masters ${c.idleUsPerSecond.cluster.join(', ')} µs/s: serverCron, the cluster bus, tollgate's background reads). Round trips: every top-level command on every node (MONITOR), requests one at a time, background reads included (by command: one Redis ${JSON.stringify(c.single.byCommand)}; cluster ${JSON.stringify(c.cluster.byCommand)}).`);
  L.push('');
  L.push(`Memory: ${c.memory.bytesPerAccount} bytes per account (MEMORY USAGE over its keys and its API key's record) with ${c.memory.markersPerAccount} requests' idempotency markers each (${c.memory.markerBytesPerAccount} bytes, ${c.memory.bytesPerMarker} per request); by key: ${Object.entries(c.memory.byKey).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  return L.join('\n');
}
