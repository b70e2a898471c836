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

// After the contract (its ledgers are closed): the cluster-specific layout.

t.test('keySlot computes the slot Redis does', async (t) => {
  const { keySlot } = await import('../../ledger/redis/slots.js');
  const node = cluster.nodeClient(Number(new URL(cluster.seeds[0]!).port));
  const keys = [...Array.from({ length: 100 }, (_, i) => `tg:{acct:user-${i}}:state`), 'plain', '{}x', 'a{}{b}', 'x{ü}y', `tg:ledger:epoch:{s1}`];
  const want = await Promise.all(keys.map(async (k) => Number(await node.call('CLUSTER', 'KEYSLOT', k))));
  t.same(keys.map(keySlot), want);
});

t.test('the epoch is kept on every master; one master that comes back empty makes the ledger refuse', async (t) => {
  const { epochKeys } = await import('../../ledger/epoch.js');
  const clock = { now: () => Date.now() };
  const ledger = await createRedisLedger({ cluster: { nodes: cluster.seeds }, keyPrefix: 'ep', pricing: (await import('../helpers/ledger-pricing.js')).testPricing(), clock, logger: silentLogger, epoch: { checkMs: 50 } });
  t.teardown(() => ledger.close());
  t.same(ledger.health?.(), { ready: true, reason: undefined, journaled: 0 });
  const probe = cluster.client();
  const keys = epochKeys(probe, 'ep');
  t.equal(keys.length, 64);
  const owners = await Promise.all(keys.map((k) => cluster.masterOf(k)));
  const masters = cluster.nodes.filter((n) => n.role === 'master').map((n) => n.port);
  for (const m of masters) t.ok(owners.filter((p) => p === m).length >= 16, `master ${m} holds ${owners.filter((p) => p === m).length} epoch keys`);
  const ids = new Set((await Promise.all(keys.map((k) => probe.hget(k, 'id')))));
  t.equal(ids.size, 1, 'one epoch on every key');
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  // One master loses everything (a restart without persistence or replica).
  await cluster.nodeClient(masters[1]!).flushall();
  const lost = owners.filter((p) => p === masters[1]).length;
  const { eventually } = await import('../helpers/tollgate.js');
  await eventually(() => ledger.health?.().ready === false, 3_000);
  t.match(ledger.health?.().reason, new RegExp(`came back empty: ${lost} of the 64 shard epoch keys`));
  await t.rejects(ledger.reserve({ accountId: 'acme', requestId: 'r', microCredits: 1, ttlMs: 1000 }), { code: 'ledger_unavailable' });
});
