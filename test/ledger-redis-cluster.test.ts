// The ledger on a one-node Redis Cluster: every script's declared KEYS share one slot (cluster
// mode rejects them otherwise: CROSSSLOT), and, under an ACL user allowed only one account's
// keys, the metering scripts run, so they touch nothing outside that account's hash tag.

import t from 'tap';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { createRedisLedger } from '../ledger/index.js';
import { ledgerContract } from './helpers/ledger-contract.js';
import { startClusterRedis } from './helpers/ledger-cluster-redis.js';
import { manualClock, utc } from './helpers/ledger-clock.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';

const cluster = await startClusterRedis();
t.teardown(() => cluster.stop());
const silent = pino({ level: 'silent' });

t.test('cluster mode rejects declared keys in two slots (the check the contract relies on)', async (t) => {
  const c = new Redis(cluster.url);
  t.teardown(() => c.quit());
  await t.rejects(c.eval('return 1', 2, 'tg:{acct:a}:state', 'tg:{acct:b}:state'), /CROSSSLOT/);
});

t.test('the metering and outbox scripts touch only the account’s own keys', async (t) => {
  const clock = manualClock(utc(2026, 1, 10));
  const admin = await createRedisLedger({ url: cluster.url, keyPrefix: 'acl', pricing: testPricing(), clock, logger: silent });
  t.teardown(() => admin.close());
  await admin.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });
  const root = new Redis(cluster.url);
  t.teardown(() => root.quit());
  await root.call('ACL', 'SETUSER', 'acme-only', 'on', 'nopass', '~acl:{acct:acme}:*', '~acl:overage:pending', '&*', '+@all');
  const url = cluster.url.replace('redis://', 'redis://acme-only:@');
  const ledger = await createRedisLedger({ url, keyPrefix: 'acl', pricing: testPricing(), clock, logger: silent });
  t.teardown(() => ledger.close());

  t.same(await ledger.reserve({ accountId: 'acme', requestId: 'r1', microCredits: cr(5), ttlMs: 1000 }), { ok: true, open: true });
  await ledger.settle({ accountId: 'acme', requestId: 'r1', modality: 'llm', provider: 'openai', byok: false, microCredits: cr(200_002), units: {}, outcome: 'ok' });
  await ledger.settle({ accountId: 'acme', requestId: 'b1', modality: 'tts', provider: 'kokoro', byok: true, microCredits: 0, units: { chars: 10 }, outcome: 'ok' });
  clock.set(utc(2026, 2, 2));
  t.equal((await ledger.usage('acme')).carryoverMicro, 0);
  await ledger.updateAccount('acme', { period: { start: utc(2026, 2, 1), end: utc(2026, 3, 1) } });
  t.equal(await ledger.outbox.lease('acme', 'me', 10_000), true);
  const p = await ledger.outbox.prepare('acme', null, clock.now());
  t.equal(p.kind === 'batch' && p.batch.value, 2);
  t.equal(await ledger.outbox.commit('acme', p.kind === 'batch' ? p.batch.identifier : ''), true);
  await ledger.outbox.release('acme', 'me');
  // The restricted user really is restricted.
  await t.rejects(ledger.ensureAccount({ id: 'other', tier: 'free' }), { code: 'ledger_unavailable' });
});

let n = 0;
ledgerContract(t, async (clock, pricing, extra) => {
  const ledger = await createRedisLedger({ url: cluster.url, keyPrefix: `k${++n}`, pricing, clock, logger: silent, ...extra });
  return { ledger, close: () => ledger.close() };
});
