// Test helper for the usage history tests (test/ledger/usage-history*.test.ts): both ledgers
// made with a given clock and history options (Redis under a fresh key prefix each time), and
// a plain LLM settle to vary.
import { createMemoryLedger, createRedisLedger } from '../../ledger/index.js';
import type { Ledger, SettleInput } from '../../ledger/types.js';
import type { HistoryOptions } from '../../ledger/usage-history.js';
import { silentLogger } from './ledger-backends.js';
import type { ManualClock } from './ledger-clock.js';
import { testPricing } from './ledger-pricing.js';

export type MakeLedger = (clock: ManualClock, history?: HistoryOptions) => Promise<Ledger>;

let n = 0;
/** [name, make] for the memory ledger and a Redis ledger on `redisUrl`; `prefix` starts each key prefix. */
export function historyBackends(redisUrl: string, prefix: string): Array<[string, MakeLedger]> {
  return [
    ['memory', async (clock, history) => createMemoryLedger({ pricing: testPricing(), clock, logger: silentLogger, ...(history ? { history } : {}) })],
    ['redis', async (clock, history) => createRedisLedger({ url: redisUrl, keyPrefix: `${prefix}${++n}`, pricing: testPricing(), clock, logger: silentLogger, ...(history ? { history } : {}) })],
  ];
}

/** An OpenAI LLM settle of `micro` µcr, outcome ok, no units: `extra` overrides. */
export const historySettle = (accountId: string, requestId: string, micro: number, extra: Partial<SettleInput> = {}): SettleInput => ({
  accountId,
  requestId,
  modality: 'llm',
  provider: 'openai',
  byok: false,
  microCredits: micro,
  units: {},
  outcome: 'ok',
  ...extra,
});
