// Stripe's "already exists" for a batch identifier counts as delivered: the batch is committed
// and nothing is reported twice.

import t from 'tap';
import { createFlusher } from '../ledger/index.js';
import { backends, overageSettle, silentLogger } from './helpers/ledger-backends.js';
import { manualClock, utc } from './helpers/ledger-clock.js';
import { createFakeMeterStore, fakeSink } from './helpers/ledger-fake-sink.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { startRedis } from './helpers/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
const redisBackend = backends(redis.url).find((b) => b.name === 'redis')!;

t.test('a duplicate is delivered', async (t) => {
  const clock = manualClock(utc(2026, 1, 10));
  const { ledger, close } = await redisBackend.make(clock, testPricing());
  t.teardown(close);
  await ledger.ensureAccount({ id: 'acme', tier: 'starter', stripeCustomerId: 'cus_acme' });
  await ledger.settle(overageSettle('acme', 'r1', cr(50_004)));
  const store = createFakeMeterStore();
  // Stripe already has this batch (sent by a flusher that crashed before its commit).
  const identifier = `tg_acme_${utc(2026, 1, 1) / 1000}_1`;
  store.accept({ identifier, stripeCustomerId: 'cus_acme', value: 4, timestamp: utc(2026, 1, 10) / 1000 });

  const flusher = createFlusher({ ledger, sink: fakeSink(store), clock, logger: silentLogger });
  t.match(await flusher.flushOnce(), { batches: 1, credits: 4, duplicates: 1, failures: 0 });
  t.equal(store.events.length, 1);
  t.equal(store.attempts.length, 2);
  t.equal(store.total(), 4);
  t.equal(await ledger.outbox.reportedMicro('acme'), cr(4), 'committed');
  t.match(await flusher.flushOnce(), { batches: 0 });
  t.equal(store.attempts.length, 2, 'not sent again');
});
