// The ledger contract on the Redis backend (a private redis-server; a fresh key prefix per test).

import t from 'tap';
import { pino } from 'pino';
import { createRedisLedger } from '../ledger/index.js';
import { ledgerContract } from './helpers/ledger-contract.js';
import { startRedis } from './helpers/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
let n = 0;

ledgerContract(t, async (clock, pricing, extra) => {
  const ledger = await createRedisLedger({ url: redis.url, keyPrefix: `c${++n}`, pricing, clock, logger: pino({ level: 'silent' }), ...extra });
  return { ledger, close: () => ledger.close() };
});
