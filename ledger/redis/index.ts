// The Redis ledger's surface: its factory, options and type.

export { createRedisLedger } from './ledger.js';
export { MARKER_MARGIN_MS } from './durability.js';
export { createClient as createRedisClient, describeTarget as describeRedisTarget, requireRedisVersion, type ClusterTarget, type RedisClient, type SentinelTarget } from './connection.js';
export { stateFromHash } from './decode.js';
export type { RedisLedger, RedisLedgerOptions } from './options.js';
