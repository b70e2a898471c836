// The ledger contract (test/helpers/ledger-contract.ts), unchanged, on a real 3-master Redis
// Cluster: every script and command of the suite runs against slots spread over three nodes,
// through ioredis's Cluster client; then what a cluster adds (slots, per-shard epoch, NOSCRIPT
// on every node, the journal).

import t from 'tap';
import { createRedisLedger } from '../../ledger/index.js';
import { silentLogger } from '../helpers/ledger-backends.js';
import { ledgerContract } from '../helpers/ledger-contract.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';

const cluster = await startRedisCluster({ masters: 3 });
t.teardown(() => cluster.stop());

let n = 0;
ledgerContract(t, async (clock, pricing) => {
  const ledger = await createRedisLedger({ cluster: { nodes: cluster.seeds }, keyPrefix: `c${++n}`, pricing, clock, logger: silentLogger });
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
  t.match(ledger.health?.().reason, new RegExp(`came back empty: ${lost} of the 64 shard epoch keys at redis-cluster://127\\.0\\.0\\.1:\\d+,`));
  await t.rejects(ledger.reserve({ accountId: 'acme', requestId: 'r', microCredits: 1, ttlMs: 1000 }), { code: 'ledger_unavailable' });
});

t.test('scripts flushed from every master (a restart, a failover to a replica without them): NOSCRIPT is answered by EVAL on each node', async (t) => {
  const { cr, testPricing } = await import('../helpers/ledger-pricing.js');
  const clock = { now: () => Date.UTC(2026, 0, 10) };
  const ledger = await createRedisLedger({ cluster: { nodes: cluster.seeds }, keyPrefix: 'ns', pricing: testPricing(), clock, logger: silentLogger, termsTtlMs: 0 });
  t.teardown(() => ledger.close());
  const ids = Array.from({ length: 9 }, (_, i) => `ns-${i}`);
  for (const id of ids) await ledger.ensureAccount({ id, tier: 'free' });
  for (const n of cluster.nodes) await cluster.nodeClient(n.port).script('FLUSH');
  const settle = (id: string, rid: string) => ({ accountId: id, requestId: rid, modality: 'llm' as const, provider: 'openai', byok: false, microCredits: cr(3), units: {}, outcome: 'ok' as const });
  const reserved = await Promise.all(ids.map((id) => ledger.reserve({ accountId: id, requestId: 'r1', microCredits: cr(5), ttlMs: 1000 })));
  t.same(reserved.map((r) => r.ok), ids.map(() => true));
  t.same(await Promise.all(ids.map((id) => ledger.settle(settle(id, 'r1')))), ids.map(() => ({ applied: true })));
  t.same(await Promise.all(ids.map((id) => ledger.settle(settle(id, 'r1')))), ids.map(() => ({ applied: false })), 'settled once');
  for (const n of cluster.nodes) await cluster.nodeClient(n.port).script('FLUSH');
  await ledger.updateAccount('ns-0', { overageCapMicro: cr(1) });
  const us = await Promise.all(ids.map((id) => ledger.usage(id)));
  t.same(us.map((u) => [u.usedMicro, u.reservedMicro, u.requestCount]), ids.map(() => [cr(3), 0, 1]));
});

t.test('a settle its shard cannot take waits in the journal and is replayed once through the cluster client', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { eventually } = await import('../helpers/tollgate.js');
  const { cr, testPricing } = await import('../helpers/ledger-pricing.js');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clock = { now: () => Date.now() };
  const ledger = await createRedisLedger({
    cluster: { nodes: cluster.seeds }, keyPrefix: 'jr', pricing: testPricing(), clock, logger: silentLogger,
    commandTimeoutMs: 300, journal: { dir, maxBytes: 1 << 20 }, epoch: { checkMs: 100 },
  });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'jr', tier: 'pro' });
  const master = await cluster.masterOf('jr:{acct:jr}:acct');
  // The account's master takes no writes for 1.5 s (its scripts wait): the settle times out.
  await cluster.nodeClient(master).call('CLIENT', 'PAUSE', '1500', 'WRITE');
  const s = { accountId: 'jr', requestId: 'j1', modality: 'llm' as const, provider: 'openai', byok: false, microCredits: cr(7), units: {}, outcome: 'ok' as const };
  t.same(await ledger.settle(s), { applied: false, journaled: true });
  await eventually(() => ledger.health?.().journaled === 0, 8_000);
  const u = await ledger.usage('jr');
  t.same([u.usedMicro, u.requestCount], [cr(7), 1], 'applied once (the timed-out attempt and the replay are one settle)');
  t.same(await ledger.settle(s), { applied: false }, 'a third attempt applies nothing');
});

t.test('the full sweep finds accounts the indexes lost (a crash between an account script and its index write), on every master', async (t) => {
  const { testPricing } = await import('../helpers/ledger-pricing.js');
  const ledger = await createRedisLedger({ cluster: { nodes: cluster.seeds }, keyPrefix: 'sw', pricing: testPricing(), clock: { now: () => Date.now() }, logger: silentLogger });
  t.teardown(() => ledger.close());
  const ids = Array.from({ length: 12 }, (_, i) => `sw-${i}`);
  for (const id of ids) await ledger.ensureAccount({ id, tier: 'pro' });
  const owners = new Set(await Promise.all(ids.map((id) => cluster.masterOf(`sw:{acct:${id}}:acct`))));
  t.equal(owners.size, 3, 'the accounts live on all three masters');
  const c = cluster.client();
  await c.del('sw:accounts');
  t.same(await ledger.outbox.pendingAccounts(false), [], 'no index left');
  t.same((await ledger.outbox.pendingAccounts(true)).sort(), [...ids].sort(), 'the sweep finds all twelve');
});
