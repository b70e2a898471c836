// An account without a Stripe customer gets one from the sink when (and only when) it has
// whole credits of overage to report; the event goes to that customer.

import t from 'tap';
import { createFlusher } from '../ledger/index.js';
import { backends, overageSettle, silentLogger } from './helpers/ledger-backends.js';
import { manualClock, utc } from './helpers/ledger-clock.js';
import { createFakeMeterStore, fakeSink } from './helpers/ledger-fake-sink.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { startRedis } from './helpers/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

for (const { name, make } of backends(redis.url)) {
  t.test(`${name}: customer created on demand`, async (t) => {
    const clock = manualClock(utc(2026, 1, 10));
    const { ledger, close } = await make(clock, testPricing());
    t.teardown(close);
    await ledger.ensureAccount({ id: 'nocus', tier: 'pro' });
    await ledger.ensureAccount({ id: 'under', tier: 'pro' });
    await ledger.settle(overageSettle('nocus', 'r1', cr(200_002)));
    await ledger.settle(overageSettle('under', 'r1', cr(200_000) + 999_999));
    const store = createFakeMeterStore();
    const flusher = createFlusher({ ledger, sink: fakeSink(store), clock, logger: silentLogger, sweepEvery: 1 });
    t.match(await flusher.flushOnce(), { batches: 1, credits: 2 });
    t.same(store.customersCreated, ['cus_nocus'], 'no customer for an account with less than a credit pending');
    t.same(store.events.map((e) => [e.stripeCustomerId, e.value]), [['cus_nocus', 2]]);
  });
}
