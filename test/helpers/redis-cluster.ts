// Test helper: a real Redis Cluster (N masters, optional replicas) started from the redis-server
// binary as child processes and stopped at teardown (the Sentinel helper: redis-sentinel.ts).
//
// The cluster reaches cluster_state:ok in about 2 s (Redis's CLUSTER_WRITABLE_DELAY): every
// node gets a distinct config epoch (no collision to resolve), masters take an even split of
// the slots with CLUSTER ADDSLOTSRANGE (Redis 7.0+), all MEET the first node, replicas
// CLUSTER REPLICATE their master. Bus ports are chosen free with --cluster-port, so they
// never land on a port a client socket holds (../shared/reference/redis-cluster.md, §4).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './redis.js';
import { ping, quitSoon, stopProc, track, type Proc } from './redis-procs.js';

export const SLOTS = 16384;

export interface ClusterNode {
  port: number;
  /** The role the node was started in (a failover may have changed it since). */
  role: 'master' | 'replica';
  /** For a replica: the port of the master it was started under. */
  masterPort?: number;
  /** The slot range a master was given: [first, last]. */
  slots?: [number, number];
  url: string;
}

export interface TestCluster {
  nodes: ClusterNode[];
  /** The masters' redis:// URLs, as seed nodes for a client or tollgate's config. */
  seeds: string[];
  /** A cluster client (closed at stop()). */
  client(): Cluster;
  /** A plain client of one node (closed at stop()). */
  nodeClient(port: number): Redis;
  /** The port of the master that owns `key`'s slot now (asks the cluster). */
  masterOf(key: string): Promise<number>;
  /** FLUSHALL + SCRIPT FLUSH on every master: between cases of one file. */
  flush(): Promise<void>;
  /** kill -9 of one node. */
  kill(port: number): Promise<void>;
  /** Waits until every live node reports cluster_state:ok (after a failover, say). */
  waitOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** --cluster-node-timeout in ms (how long before a silent master is failed over); default 2000. */
  nodeTimeoutMs?: number;
}


/** The slot ranges of `n` masters, even split (3: 0-5460, 5461-10922, 10923-16383). */
export function slotRanges(n: number): Array<[number, number]> {
  return Array.from({ length: n }, (_, i) => [Math.floor((i * SLOTS) / n), Math.floor(((i + 1) * SLOTS) / n) - 1]);
}

export async function startRedisCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await tryStartCluster(opts);
    } catch (err) {
      lastErr = err; // a port taken between choosing and binding: choose again
    }
  }
  throw new Error(`could not start a Redis Cluster: ${String(lastErr)}`);
}

async function tryStartCluster(opts: ClusterOptions): Promise<TestCluster> {
  const masters = opts.masters ?? 3;
  const perMaster = opts.replicasPerMaster ?? 0;
  const total = masters * (1 + perMaster);
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-'));
  const procs: Proc[] = [];
  const admins: Redis[] = [];
  const clients: Array<Redis | Cluster> = [];
  const ranges = slotRanges(masters);
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    await Promise.all(clients.map((c) => quitSoon(c)));
    for (const a of admins) a.disconnect();
    await Promise.all(procs.map((p) => stopProc(p.proc)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    while (ports.length < total * 2) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    for (let i = 0; i < total; i++) {
      const port = ports[i]!;
      const bus = ports[total + i]!;
      const proc = track(spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(bus),
          '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 2000),
          '--save', '', '--appendonly', 'no', '--dir', dir, '--repl-diskless-sync-delay', '0',
        ],
        { stdio: 'ignore' },
      ));
      procs.push({ port, proc });
    }
    for (const p of procs) admins.push(await ping(p.port, p.proc));
    const ids = await Promise.all(admins.map(async (a) => String(await a.call('CLUSTER', 'MYID'))));
    for (let i = 0; i < total; i++) await admins[i]!.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
    for (let m = 0; m < masters; m++) {
      const [a, b] = ranges[m]!;
      await admins[m]!.call('CLUSTER', 'ADDSLOTSRANGE', String(a), String(b));
      nodes.push({ port: procs[m]!.port, role: 'master', slots: [a, b], url: `redis://127.0.0.1:${procs[m]!.port}` });
    }
    for (let i = 1; i < total; i++) await admins[i]!.call('CLUSTER', 'MEET', '127.0.0.1', String(procs[0]!.port), String(ports[total]!));
    // Replicas: once the node knows its master, it follows it.
    for (let i = masters; i < total; i++) {
      const m = (i - masters) % masters;
      const deadline = Date.now() + 5000;
      while (!String(await admins[i]!.call('CLUSTER', 'NODES')).includes(ids[m]!)) {
        if (Date.now() > deadline) throw new Error(`replica ${procs[i]!.port} never heard of its master`);
        await sleep(20);
      }
      await admins[i]!.call('CLUSTER', 'REPLICATE', ids[m]!);
      nodes.push({ port: procs[i]!.port, role: 'replica', masterPort: procs[m]!.port, url: `redis://127.0.0.1:${procs[i]!.port}` });
    }
    const waitOk = async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const live = procs.map((p, i) => ({ p, a: admins[i]! })).filter(({ p }) => p.proc.exitCode === null && p.proc.signalCode === null);
        const infos = await Promise.all(live.map(({ a }) => a.call('CLUSTER', 'INFO').then(String, () => '')));
        if (infos.every((s) => s.includes('cluster_state:ok') && Number(/cluster_known_nodes:(\d+)/.exec(s)?.[1]) === total)) return;
        if (Date.now() > deadline) throw new Error(`cluster not ok after ${timeoutMs} ms`);
        await sleep(25);
      }
    };
    await waitOk();
    if (perMaster > 0) {
      const deadline = Date.now() + 10_000;
      for (let i = masters; i < total; i++) {
        while (!String(await admins[i]!.info('replication')).includes('master_link_status:up')) {
          if (Date.now() > deadline) throw new Error(`replica ${procs[i]!.port} did not sync`);
          await sleep(20);
        }
      }
    }
    const seeds = nodes.filter((n) => n.role === 'master').map((n) => n.url);
    const cluster: TestCluster = {
      nodes,
      seeds,
      client() {
        const c = new Cluster(nodes.filter((n) => n.role === 'master').map((n) => ({ host: '127.0.0.1', port: n.port })), {
          redisOptions: { maxRetriesPerRequest: 1 },
        });
        c.on('error', () => {});
        clients.push(c);
        return c;
      },
      nodeClient(port) {
        const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
        c.on('error', () => {});
        clients.push(c);
        return c;
      },
      async masterOf(key) {
        const live = procs.findIndex((p) => p.proc.exitCode === null && p.proc.signalCode === null);
        const slot = Number(await admins[live]!.call('CLUSTER', 'KEYSLOT', key));
        const shards = (await admins[live]!.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
        const owner = shards.find(([a, b]) => slot >= a && slot <= b);
        if (!owner) throw new Error(`no master owns slot ${slot}`);
        return Number(owner[2][1]);
      },
      async flush() {
        const live = procs.findIndex((p) => p.proc.exitCode === null && p.proc.signalCode === null);
        const shards = (await admins[live]!.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
        const ports = [...new Set(shards.map((s) => Number(s[2][1])))];
        for (const port of ports) {
          const a = admins[procs.findIndex((p) => p.port === port)]!;
          await a.flushall();
          await a.script('FLUSH');
        }
      },
      async kill(port) {
        const p = procs.find((x) => x.port === port);
        if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) return;
        const exited = new Promise((r) => p.proc.once('exit', r));
        admins[procs.indexOf(p)]!.disconnect();
        p.proc.kill('SIGKILL');
        await exited;
      },
      waitOk,
      stop,
    };
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

// The Sentinel group helper lives beside this one; re-exported for callers of either.
export { startRedisSentinel, type TestSentinel } from './redis-sentinel.js';
