// The ledger contract (test/helpers/ledger-contract.ts), unchanged, on a real 3-master Redis
// Cluster: every script and command of the suite runs against slots spread over three nodes,
// through ioredis's Cluster client, with the per-shard epoch checked.

import t from 'tap';
import { createRedisLedger } from '../../ledger/index.js';
import { silentLogger } from '../helpers/ledger-backends.js';
import { ledgerContract } from '../helpers/ledger-contract.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';

const cluster = await startRedisCluster({ masters: 3 });
t.teardown(() => cluster.stop());

let n = 0;
ledgerContract(t, async (clock, pricing) => {
  const ledger = await createRedisLedger({ cluster: { nodes: cluster.seeds }, keyPrefix: `c${++n}`, pricing, clock, logger: silentLogger, epoch: { checkMs: 60_000 } });
  return { ledger, close: () => ledger.close() };
});
