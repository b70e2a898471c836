// The ledger contract (test/helpers/ledger-contract.ts), unchanged, on a master found through
// Sentinel (one master, one replica, one sentinel).

import t from 'tap';
import { createRedisLedger } from '../../ledger/index.js';
import { silentLogger } from '../helpers/ledger-backends.js';
import { ledgerContract } from '../helpers/ledger-contract.js';
import { startRedisSentinel } from '../helpers/redis-cluster.js';

const group = await startRedisSentinel({ sentinels: 1 });
t.teardown(() => group.stop());

let n = 0;
ledgerContract(t, async (clock, pricing) => {
  const ledger = await createRedisLedger({ sentinel: { name: group.name, sentinels: group.sentinels }, keyPrefix: `s${++n}`, pricing, clock, logger: silentLogger, epoch: { checkMs: 60_000 } });
  return { ledger, close: () => ledger.close() };
});
