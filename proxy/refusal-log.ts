// One log line per refusal (a tollgate error answered instead of a provider's), rate-limited per
// account and code: a client hammering past its cap writes one line per interval, carrying how
// many like it were left out since the last one.

import type { Logger } from 'pino';
import type { Clock } from '../ledger/types.js';

export interface Refusal {
  requestId: string;
  /** Absent before the key was resolved (unknown provider, missing or invalid key). */
  accountId?: string;
  keyId?: string;
  provider: string;
  code: string;
  status: number;
}

/** At most one line per (account, code) in this many ms. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;
const MAX_TRACKED = 10_000;

export function createRefusalLog(logger: Logger, clock: Clock, intervalMs = REFUSAL_LOG_INTERVAL_MS): (r: Refusal) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (r) => {
    const k = `${r.accountId ?? ''}\t${r.code}`;
    const now = clock.now();
    const seen = last.get(k);
    if (seen && now - seen.at < intervalMs) {
      seen.suppressed++;
      return;
    }
    if (!seen && last.size >= MAX_TRACKED) last.clear(); // client-chosen ids: keep it bounded
    const suppressed = seen?.suppressed ?? 0;
    last.set(k, { at: now, suppressed: 0 });
    const level = r.status >= 500 ? 'warn' : 'info';
    logger[level]({ requestId: r.requestId, account: r.accountId ?? null, keyId: r.keyId ?? null, provider: r.provider, code: r.code, status: r.status, ...(suppressed ? { suppressed } : {}) }, 'refused');
  };
}
