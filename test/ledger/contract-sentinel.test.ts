// The ledger contract (test/helpers/ledger-contract.ts), unchanged, on a master found through
// Sentinel (one master, one replica, one sentinel).

import t from 'tap';
import { createRedisLedger } from '../../ledger/index.js';
import { silentLogger } from '../helpers/ledger-backends.js';
import { ledgerContract } from '../helpers/ledger-contract.js';
import { startRedisSentinel } from '../helpers/redis-sentinel.js';

const group = await startRedisSentinel({ sentinels: 1 });
t.teardown(() => group.stop());

let n = 0;
ledgerContract(t, async (clock, pricing) => {
  const ledger = await createRedisLedger({ sentinel: { name: group.name, sentinels: group.sentinels }, keyPrefix: `s${++n}`, pricing, clock, logger: silentLogger, epoch: { checkMs: 60_000 } });
  return { ledger, close: () => ledger.close() };
});

t.test('no sentinel answering: the start fails at once with ledger_unavailable, no hang', async (t) => {
  const { freePort } = await import('../helpers/redis.js');
  const { testPricing } = await import('../helpers/ledger-pricing.js');
  const port = await freePort();
  await t.rejects(
    createRedisLedger({ sentinel: { name: group.name, sentinels: [`redis://127.0.0.1:${port}`] }, pricing: testPricing(), clock: { now: () => 0 }, logger: silentLogger }),
    { code: 'ledger_unavailable', message: /All sentinels are unreachable/ },
  );
  await t.rejects(
    createRedisLedger({ cluster: { nodes: [`redis://127.0.0.1:${port}`] }, pricing: testPricing(), clock: { now: () => 0 }, logger: silentLogger }),
    { code: 'ledger_unavailable', message: /None of startup nodes is available/ },
    'nor a cluster seed',
  );
});
