// Test helper: a real Redis Cluster (N masters, optional replicas) and a Sentinel group, both
// started from the redis-server binary as child processes and stopped at teardown.
//
// The cluster reaches cluster_state:ok in about 2 s (Redis's CLUSTER_WRITABLE_DELAY): every
// node gets a distinct config epoch (no collision to resolve), masters take an even split of
// the slots with CLUSTER ADDSLOTSRANGE (Redis 7.0+), all MEET the first node, replicas
// CLUSTER REPLICATE their master. Bus ports are chosen free with --cluster-port, so they
// never land on a port a client socket holds (../shared/reference/redis-cluster.md, §4).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './redis.js';

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

interface Proc {
  port: number;
  proc: ChildProcess;
}

const quiet = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null } as const;

/** The slot ranges of `n` masters, even split (3: 0-5460, 5461-10922, 10923-16383). */
export function slotRanges(n: number): Array<[number, number]> {
  return Array.from({ length: n }, (_, i) => [Math.floor((i * SLOTS) / n), Math.floor(((i + 1) * SLOTS) / n) - 1]);
}

async function ping(port: number, proc: ChildProcess, what = 'redis-server'): Promise<Redis> {
  const deadline = Date.now() + 5000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${what} on ${port} exited with ${proc.exitCode}`);
    const c = new Redis(port, '127.0.0.1', quiet);
    c.on('error', () => {});
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return c;
    } catch {
      // not up yet
    }
    c.disconnect();
    if (Date.now() > deadline) throw new Error(`${what} on ${port} did not answer in 5 s`);
    await sleep(20);
  }
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([exited, sleep(2000)]);
  if (p.exitCode === null && p.signalCode === null) {
    p.kill('SIGKILL');
    await Promise.race([exited, sleep(1000)]);
  }
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
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
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
      const proc = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(bus),
          '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 2000),
          '--save', '', '--appendonly', 'no', '--dir', dir, '--repl-diskless-sync-delay', '0',
        ],
        { stdio: 'ignore' },
      );
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

export interface TestSentinel {
  /** The master group's name the sentinels monitor. */
  name: string;
  /** The sentinels' redis:// URLs. */
  sentinels: string[];
  masterPort: number;
  replicaPort: number;
  /** A client of the current master through the sentinels (closed at stop()). */
  client(): Redis;
  /** kill -9 of the master (the sentinels promote the replica after down-after + election). */
  killMaster(): Promise<void>;
  stop(): Promise<void>;
}

/** One master, one replica, `sentinels` sentinels (default 1, quorum 1; 3: quorum 2). */
export async function startRedisSentinel(opts: { sentinels?: number; downAfterMs?: number } = {}): Promise<TestSentinel> {
  const n = opts.sentinels ?? 1;
  const name = 'tollgate';
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-sentinel-'));
  const procs: Proc[] = [];
  const admins: Redis[] = [];
  const clients: Redis[] = [];
  const stop = async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    for (const a of admins) a.disconnect();
    await Promise.all(procs.map((p) => stopProc(p.proc)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const data = (port: number, extra: string[]) =>
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--repl-diskless-sync-delay', '0', ...extra], { stdio: 'ignore' });
    const masterPort = await freePort();
    let replicaPort = await freePort();
    while (replicaPort === masterPort) replicaPort = await freePort();
    procs.push({ port: masterPort, proc: data(masterPort, []) });
    admins.push(await ping(masterPort, procs[0]!.proc));
    procs.push({ port: replicaPort, proc: data(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]) });
    admins.push(await ping(replicaPort, procs[1]!.proc));
    const deadline = Date.now() + 10_000;
    while (!String(await admins[1]!.info('replication')).includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error('sentinel replica did not sync');
      await sleep(20);
    }
    const sentinels: string[] = [];
    const quorum = Math.floor(n / 2) + 1;
    for (let i = 0; i < n; i++) {
      let port = await freePort();
      while (procs.some((p) => p.port === port)) port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 3000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      const proc = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
      procs.push({ port, proc });
      const a = await ping(port, proc, 'redis-sentinel');
      admins.push(a);
      sentinels.push(`redis://127.0.0.1:${port}`);
    }
    // Every sentinel knows the master and its replica before the group is handed out.
    for (const a of admins.slice(2)) {
      for (;;) {
        const replicas = (await a.call('SENTINEL', 'REPLICAS', name).catch(() => [])) as unknown[];
        if (replicas.length >= 1) break;
        if (Date.now() > deadline) throw new Error('a sentinel never saw the replica');
        await sleep(25);
      }
    }
    return {
      name,
      sentinels,
      masterPort,
      replicaPort,
      client() {
        const c = new Redis({ sentinels: sentinels.map((u) => ({ host: '127.0.0.1', port: Number(new URL(u).port) })), name, maxRetriesPerRequest: 1 });
        c.on('error', () => {});
        clients.push(c);
        return c;
      },
      async killMaster() {
        const p = procs[0]!.proc;
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = new Promise((r) => p.once('exit', r));
        admins[0]!.disconnect();
        p.kill('SIGKILL');
        await exited;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
