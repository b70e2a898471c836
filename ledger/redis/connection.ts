// Opening the ledger's Redis connections (one Redis, a Sentinel group or a Redis Cluster): the
// command client and its subscriber duplicate. Everything else takes the client it opens.

import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { createLedgerError, toLedgerError } from '../errors.js';
import { defineScripts, loadScripts } from './scripts.js';

/** The ledger's client: one Redis (plain or through Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export interface ClusterTarget {
  /** Seed nodes, redis:// or rediss:// URLs; the rest of the cluster is discovered. */
  nodes: string[];
  /** Addresses the cluster announces -> addresses this process reaches them at (Docker, k8s). */
  natMap?: Record<string, { host: string; port: number }>;
  /** TLS to every node (rediss:// seeds imply it). */
  tls?: boolean;
  /** Re-read the slot map this often, in ms (ioredis does not by default); default 5,000. */
  slotsRefreshInterval?: number;
  username?: string;
  password?: string;
}

export interface SentinelTarget {
  /** The master group's name the sentinels monitor. */
  name: string;
  /** The sentinels, redis:// URLs. */
  sentinels: string[];
  /** The data nodes' password (and user). */
  username?: string;
  password?: string;
  /** The sentinels' own password, if they have one. */
  sentinelPassword?: string;
  /** TLS to the data nodes and the sentinels. */
  tls?: boolean;
}

export interface ConnectionOptions {
  url?: string;
  cluster?: ClusterTarget;
  sentinel?: SentinelTarget;
  redis?: RedisClient;
  commandTimeoutMs: number;
  connectTimeoutMs?: number;
}

export interface Connection {
  client: RedisClient;
  subscriber: RedisClient;
  /** True when revocations and account changes go by sharded pub/sub (SPUBLISH/SSUBSCRIBE): a cluster of Redis 7+. */
  sharded: boolean;
  /** True when the client was opened here (and so is closed by close()). */
  owned: boolean;
  /** Names the ledger's Redis in logs and the epoch memory (no credentials). */
  url: string;
  /** Drops both connections at once (a start that failed). */
  abort(): void;
  /** Closes both connections, gracefully (replies to calls under way arrive first). */
  close(): Promise<void>;
}

export const isCluster = (c: RedisClient): c is Cluster => (c as Cluster).isCluster === true;

const hostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
};

/** Opens (lazily: not connected yet) the client the options name. */
export function createClient(opts: ConnectionOptions): RedisClient {
  // Fail fast: no offline queue (a command while disconnected rejects at once), one retry,
  // a command timeout (a hung server rejects too). Reconnects go on in the background.
  const base: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: opts.connectTimeoutMs ?? 1000,
    commandTimeout: opts.commandTimeoutMs,
    // Not ioredis's auto-pipelining: it builds a Pipeline per event-loop turn, which on the
    // request path (usually one command a turn) cost 37 µs of CPU a call against 17 without
    // it (bench/RESULTS.md). The request path batches its own calls instead (batcher.ts).
    enableAutoPipelining: false,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  };
  if (opts.cluster) {
    const c = opts.cluster;
    const tls = c.tls || c.nodes.some((n) => n.startsWith('rediss:'));
    const options: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      // Without the offline queue, ioredis's cluster ready check (CLUSTER INFO) fails while the
      // node it picked is still connecting, and the reconnect it starts never settles the
      // connect() under way (ioredis 5.11.1: connect() hung in 1 start of ~5 here). A cluster
      // that is down answers CLUSTERDOWN to the ledger's calls instead: ledger_unavailable.
      enableReadyCheck: false,
      enableAutoPipelining: false,
      // Balances are never read from replicas: enforcement needs the master's answer.
      scaleReads: 'master',
      slotsRefreshInterval: c.slotsRefreshInterval ?? 5000,
      // A failover or a resharding: MOVED/ASK are followed, TRYAGAIN and CLUSTERDOWN retried
      // briefly; past that the call fails (ledger_unavailable), never waits unbounded.
      maxRedirections: 16,
      retryDelayOnTryAgain: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnFailover: 100,
      clusterRetryStrategy: (times) => Math.min(times * 100, 1000),
      ...(c.natMap ? { natMap: c.natMap } : {}),
      // Managed clusters (ElastiCache) announce names whose certificates must be checked as given.
      ...(tls ? { dnsLookup: (address: string, cb: (err: Error | null, address: string) => void) => cb(null, address) } : {}),
      redisOptions: {
        ...base,
        lazyConnect: false,
        ...(c.username ? { username: c.username } : {}),
        ...(c.password ? { password: c.password } : {}),
        ...(tls ? { tls: {} } : {}),
      },
    };
    return new Cluster(c.nodes.map(hostPort), options);
  }
  if (opts.sentinel) {
    const s = opts.sentinel;
    // At start no sentinel answering fails the start (a clear line, not a hang); once
    // connected, sentinels are asked again and again, as any reconnect.
    let started = false;
    const client = new Redis({
      ...base,
      name: s.name,
      sentinels: s.sentinels.map(hostPort),
      ...(s.username ? { username: s.username } : {}),
      ...(s.password ? { password: s.password } : {}),
      ...(s.sentinelPassword ? { sentinelPassword: s.sentinelPassword } : {}),
      ...(s.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      sentinelRetryStrategy: (times) => (started ? Math.min(times * 100, 1000) : null),
    });
    client.once('ready', () => (started = true));
    return client;
  }
  return new Redis(opts.url ?? 'redis://127.0.0.1:6379/0', base);
}

/** A name for the ledger's Redis without credentials: the URL, the sentinel group, or the seeds. */
export function describeTarget(opts: ConnectionOptions, client: RedisClient): string {
  if (opts.cluster) return `redis-cluster://${opts.cluster.nodes.map((n) => { const { host, port } = hostPort(n); return `${host}:${port}`; }).join(',')}`;
  if (opts.sentinel) return `redis-sentinel://${opts.sentinel.name}@${opts.sentinel.sentinels.map((n) => { const { host, port } = hostPort(n); return `${host}:${port}`; }).join(',')}`;
  if (opts.url) return opts.url;
  if (isCluster(client)) return `redis-cluster://${client.nodes('master').map((n) => `${n.options.host}:${n.options.port}`).sort().join(',')}`;
  const o = client.options;
  if (o.sentinels?.length) return `redis-sentinel://${o.name}@${o.sentinels.map((s) => `${s.host ?? '127.0.0.1'}:${s.port ?? 26379}`).join(',')}`;
  return `redis://${o.host ?? '127.0.0.1'}:${o.port ?? 6379}/${o.db ?? 0}`;
}

/** The masters of a cluster now, or the one client: where a script is loaded, a scan runs. */
export function masters(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

/** A cluster is `ready` once it has the slot map; its masters' own connections may still be opening. */
async function mastersReady(cluster: Cluster, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const node of cluster.nodes('master')) {
    while (node.status !== 'ready') {
      if (Date.now() > deadline) throw createLedgerError('ledger_unavailable', `cluster node ${node.options.host}:${node.options.port} did not connect in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Connects, checks the server, loads the scripts and connects the subscriber; rejects as a LedgerError. */
export async function openConnection(opts: ConnectionOptions, logger: Logger): Promise<Connection> {
  const owned = !opts.redis;
  const client = opts.redis ?? createClient(opts);
  client.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  let subscriber: RedisClient | undefined;
  let sharded = false;
  const abort = () => {
    subscriber?.disconnect();
    if (owned) client.disconnect();
  };
  try {
    if (owned) await client.connect();
    if (isCluster(client)) await mastersReady(client, opts.connectTimeoutMs ?? 1000);
    const major = await requireRedisVersion(client);
    // Sharded pub/sub on a cluster of Redis 7+: a message goes to its channel's shard only,
    // not over the bus to every node; ioredis routes SSUBSCRIBE only with shardedSubscribers
    // (without it, one to a slot the picked node does not own never answers).
    sharded = isCluster(client) && major >= 7;
    subscriber = isCluster(client)
      ? client.duplicate(undefined, { lazyConnect: true, shardedSubscribers: sharded, redisOptions: { ...client.options.redisOptions, commandTimeout: undefined, lazyConnect: false } })
      : client.duplicate({ lazyConnect: true, commandTimeout: undefined });
    subscriber.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis subscriber error'));
    defineScripts(client);
    // The request path's scripts go by EVALSHA alone (directScript): load them up front, on
    // every master (a cluster's SCRIPT LOAD would reach one random node). A master that gets
    // them later (a failover, a new shard) answers NOSCRIPT once and directScript sends EVAL.
    const lua = loadScripts();
    await Promise.all(masters(client).flatMap((m) => [m.script('LOAD', lua.reserve), m.script('LOAD', lua.settle)]));
    await subscriber.connect();
  } catch (err) {
    abort();
    throw toLedgerError(err);
  }
  const sub = subscriber;
  return {
    client,
    subscriber: sub,
    sharded,
    owned,
    url: describeTarget(opts, client),
    abort,
    async close() {
      await sub.quit().catch(() => sub.disconnect());
      if (owned) await client.quit().catch(() => client.disconnect());
    },
  };
}

/**
 * The ledger's scripts write several hash fields in one HSET (Redis 4.0): refuse an older server
 * at start, clearly. Resolves with the lowest major version (every master of a cluster is asked).
 */
export async function requireRedisVersion(client: Pick<Redis, 'info'> | Cluster): Promise<number> {
  const infos = isCluster(client as RedisClient) ? await Promise.all(masters(client as Cluster).map((m) => m.info('server'))) : [await client.info('server')];
  let lowest = Infinity;
  for (const info of infos) {
    const v = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (!v) continue;
    if (Number(v[1]) < 4) {
      throw createLedgerError('ledger_unavailable', `Redis ${v[1]}.${v[2]} is too old: tollgate needs Redis 4.0 or later (tested on 7.0)`);
    }
    lowest = Math.min(lowest, Number(v[1]));
  }
  return lowest === Infinity ? 0 : lowest;
}
