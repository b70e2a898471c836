// Opening the ledger's Redis connections: the command client and its subscriber duplicate.

import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createLedgerError, toLedgerError } from '../errors.js';
import { defineScripts, loadScripts } from './scripts.js';

export interface ConnectionOptions {
  url?: string;
  redis?: Redis;
  commandTimeoutMs: number;
  connectTimeoutMs?: number;
}

export interface Connection {
  client: Redis;
  subscriber: Redis;
  /** True when the client was opened here (and so is closed by close()). */
  owned: boolean;
  /** The Redis URL (given, or rebuilt from the client's options). */
  url: string;
  /** Drops both connections at once (a start that failed). */
  abort(): void;
  /** Closes both connections, gracefully (replies to calls under way arrive first). */
  close(): Promise<void>;
}

/** Connects, checks the server, loads the scripts and connects the subscriber; rejects as a LedgerError. */
export async function openConnection(opts: ConnectionOptions, logger: Logger): Promise<Connection> {
  const owned = !opts.redis;
  // Fail fast: no offline queue (a command while disconnected rejects at once), one retry,
  // a command timeout (a hung server rejects too). Reconnects go on in the background.
  const client =
    opts.redis ??
    new Redis(opts.url ?? 'redis://127.0.0.1:6379/0', {
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
    });
  client.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  const subscriber = client.duplicate({ lazyConnect: true, commandTimeout: undefined });
  subscriber.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis subscriber error'));
  const abort = () => {
    subscriber.disconnect();
    if (owned) client.disconnect();
  };
  try {
    if (owned) await client.connect();
    await requireRedisVersion(client);
    defineScripts(client);
    // The request path's scripts go by EVALSHA alone (directScript): load them up front.
    const lua = loadScripts();
    await Promise.all([client.script('LOAD', lua.reserve), client.script('LOAD', lua.settle)]);
    await subscriber.connect();
  } catch (err) {
    abort();
    throw toLedgerError(err);
  }
  const url = opts.url ?? `redis://${client.options.host ?? '127.0.0.1'}:${client.options.port ?? 6379}/${client.options.db ?? 0}`;
  return {
    client,
    subscriber,
    owned,
    url,
    abort,
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect());
      if (owned) await client.quit().catch(() => client.disconnect());
    },
  };
}

/** The ledger's scripts write several hash fields in one HSET (Redis 4.0): refuse an older server at start, clearly. */
export async function requireRedisVersion(client: Pick<Redis, 'info'>): Promise<void> {
  const info = await client.info('server');
  const v = /redis_version:(\d+)\.(\d+)/.exec(info);
  if (v && Number(v[1]) < 4) {
    throw createLedgerError('ledger_unavailable', `Redis ${v[1]}.${v[2]} is too old: tollgate needs Redis 4.0 or later (tested on 7.0)`);
  }
}
