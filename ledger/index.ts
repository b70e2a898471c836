// The ledger domain's public surface: its types and factories (Redis, in-memory, flusher).

export * from './types.js';
export { LedgerError, LEDGER_ERRORS, createLedgerError, type LedgerErrorCode } from './errors.js';
export {
  createRedisLedger,
  createRedisClient,
  describeRedisTarget,
  MARKER_MARGIN_MS,
  type ClusterTarget,
  type RedisClient,
  type RedisLedger,
  type RedisLedgerOptions,
  type SentinelTarget,
} from './redis/index.js';
export { DEFAULT_IDEMPOTENCY_TTL_MS } from './account-state.js';
export { createMemoryLedger, type MemoryLedger, type MemoryLedgerOptions } from './memory-ledger.js';
export { createFlusher, type Flusher, type FlusherOptions, type FlusherStats, type FlushReport } from './flusher.js';
export { hashApiKey, keyIdOf } from './inputs.js';
export { recordAudit, AUDIT_GLOBAL, AUDIT_PER_ACCOUNT, AUDIT_MAX_PAGE } from './audit-log.js';
export { createAlertDeliverer, type AlertDeliverer, type AlertDelivererOptions, type AlertDelivererStats, type AlertDelivery, type AlertSender } from './alert-deliverer.js';
export { firedList, type FiredAlert, type FiredAlerts } from './alert-fired.js';
export { ALERT_TYPES, alertBody, alertEventId, type AlertRecord, type AlertRules, type AlertType } from './alert-rules.js';
