// Two replicas flushing one Redis while requests keep settling overage report every whole
// credit exactly once (per-account lease + deterministic identifiers + compare-and-commit).

import t from 'tap';
import { createFlusher, createRedisLedger, systemClock } from '../ledger/index.js';
import { overageSettle, silentLogger } from './helpers/ledger-backends.js';
import { createFakeMeterStore, fakeSink } from './helpers/ledger-fake-sink.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { startRedis } from './helpers/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

t.test('two flushers, one Redis, report once', async (t) => {
  const make = () => createRedisLedger({ url: redis.url, keyPrefix: 'rep', pricing: testPricing(), clock: systemClock, logger: silentLogger });
  const a = await make();
  const b = await make();
  t.teardown(() => a.close());
  t.teardown(() => b.close());
  const accounts = ['a1', 'a2', 'a3', 'a4', 'a5'];
  for (const id of accounts) {
    await a.ensureAccount({ id, tier: 'starter', stripeCustomerId: `cus_${id}` });
    await a.settle(overageSettle(id, `${id}-base`, cr(50_000)));
  }
  const store = createFakeMeterStore();
  // A slow sink widens the window in which both replicas want the same account.
  const slow = fakeSink(store);
  const sink = { ...slow, send: async (e: Parameters<typeof slow.send>[0]) => (await new Promise((r) => setTimeout(r, 3)), slow.send(e)) };
  const fa = createFlusher({ ledger: a, sink, clock: systemClock, logger: silentLogger, sweepEvery: 3 });
  const fb = createFlusher({ ledger: b, sink, clock: systemClock, logger: silentLogger, sweepEvery: 3 });

  const perAccount = new Map(accounts.map((id) => [id, 0]));
  for (let round = 0; round < 20; round++) {
    const settles = accounts.map((id, i) => {
      const micro = 700_000 + round * 37_111 + i * 101_009; // whole and sub-credit parts
      perAccount.set(id, perAccount.get(id)! + micro);
      return (round % 2 ? a : b).settle(overageSettle(id, `${id}-${round}`, micro));
    });
    await Promise.all([...settles, fa.flushOnce(), fb.flushOnce()]);
  }
  await Promise.all([fa.drain(), fb.drain()]);
  await fa.drain();

  for (const id of accounts) {
    const expected = Math.floor(perAccount.get(id)! / 1_000_000);
    t.equal(store.total(`cus_${id}`), expected, `${id}: ${expected} credits, once`);
    t.equal(await a.outbox.reportedMicro(id), cr(expected));
  }
  t.equal(new Set(store.events.map((e) => e.identifier)).size, store.events.length, 'no identifier accepted twice');
});
