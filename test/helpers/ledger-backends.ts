// Test helper: both ledger backends behind one factory type, for tests that run on each.

import { pino } from 'pino';
import { createMemoryLedger, createRedisLedger } from '../../ledger/index.js';
import type { LedgerFactory } from './ledger-contract.js';

export const silentLogger = pino({ level: 'silent' });

let n = 0;

/** memory, and redis on `redisUrl` with a fresh key prefix per ledger. */
export function backends(redisUrl: string): { name: 'memory' | 'redis'; make: LedgerFactory }[] {
  return [
    {
      name: 'memory',
      make: async (clock, pricing) => {
        const ledger = createMemoryLedger({ pricing, clock, logger: silentLogger });
        return { ledger, close: () => ledger.close() };
      },
    },
    {
      name: 'redis',
      make: async (clock, pricing) => {
        const ledger = await createRedisLedger({ url: redisUrl, keyPrefix: `b${process.pid}x${++n}`, pricing, clock, logger: silentLogger });
        return { ledger, close: () => ledger.close() };
      },
    },
  ];
}

export function overageSettle(accountId: string, requestId: string, microCredits: number) {
  return {
    accountId,
    requestId,
    modality: 'llm' as const,
    provider: 'openai',
    byok: false,
    microCredits,
    units: {},
    outcome: 'ok' as const,
  };
}
