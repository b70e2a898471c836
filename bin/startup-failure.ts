// Why tollgate could not start, as the one line an operator (or systemd's journal) needs: what
// failed and where (the Redis URL with its password redacted, the host:port that was taken).

import type { Config } from '../config/schema.js';

/** `redis://user:secret@host:6379/0` -> `redis://user:***@host:6379/0`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}

interface NodeLikeError {
  name?: string;
  code?: string;
  message?: string;
  address?: string;
  port?: number;
  listener?: string;
  cause?: unknown;
}

/** The innermost message of an error chain (ioredis' "connect ECONNREFUSED 127.0.0.1:6399"). */
function rootMessage(err: NodeLikeError): string {
  let e: NodeLikeError = err;
  for (let i = 0; i < 5 && e.cause && typeof e.cause === 'object'; i++) e = e.cause as NodeLikeError;
  return (e.message ?? String(e)).replace(/\s+/g, ' ').trim();
}

/** One line, no stack: `tollgate: cannot start: …`. */
/** Where the ledger's Redis is, without credentials. */
function redisWhere(r: NonNullable<Config['redis']>): string {
  if (r.cluster) return `the Redis Cluster at ${r.cluster.nodes.map(redactUrl).join(', ')}`;
  if (r.sentinel) return `the Redis master '${r.sentinel.name}' through Sentinel at ${r.sentinel.sentinels.map(redactUrl).join(', ')}`;
  return `Redis at ${redactUrl(r.url ?? '')}`;
}

export function describeStartupFailure(err: unknown, config: Config | undefined): string {
  const e = (err ?? {}) as NodeLikeError;
  let what: string;
  if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
    const where = `${e.address ?? '?'}:${e.port ?? '?'}`;
    const port = e.listener ? `the ${e.listener} port ` : '';
    const why = e.code === 'EADDRINUSE' ? 'is already in use' : e.code === 'EACCES' ? 'is not permitted' : 'is not an address of this machine';
    what = `${port}${where} ${why} (${e.code})`;
  } else if (e.name === 'LedgerError' || (e.name === 'StartupTimeout' && config?.redis)) {
    const where = config?.redis ? redisWhere(config.redis) : 'the ledger';
    what = `${where} is unavailable: ${rootMessage(e).replace(/^ledger unavailable: /, '')}`;
  } else if (e.name === 'MasterKeyError') {
    what = `bad master key: ${e.message}`;
  } else {
    what = rootMessage(e);
  }
  return `tollgate: cannot start: ${what}`;
}
