// A Pro account that uses 201,000 credits has exactly 1,000 credits reported; overage from a
// closed period is stamped one second before that period's end. On both backends.

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
  t.test(`${name}: 201,000 credits on Pro -> exactly 1,000 reported`, async (t) => {
    const clock = manualClock(utc(2026, 1, 10));
    const { ledger, close } = await make(clock, testPricing());
    t.teardown(close);
    const store = createFakeMeterStore();
    const flusher = createFlusher({ ledger, sink: fakeSink(store), clock, logger: silentLogger });
    await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });
    await ledger.ensureAccount({ id: 'freebie', tier: 'free', stripeCustomerId: 'cus_free' });
    for (let i = 0; i < 201; i++) await ledger.settle(overageSettle('acme', `r${i}`, cr(1000)));
    await ledger.settle(overageSettle('freebie', 'f1', cr(3000)));

    // The period closes before the flusher runs: stamped inside January.
    clock.set(utc(2026, 2, 3));
    const report = await flusher.drain();
    t.match(report, { batches: 1, credits: 1000, failures: 0 });
    t.same(store.events, [
      { identifier: `tg_acme_${utc(2026, 1, 1) / 1000}_1`, stripeCustomerId: 'cus_acme', value: 1000, timestamp: utc(2026, 2, 1) / 1000 - 1 },
    ]);
    t.equal(store.total('cus_free'), 0, 'free accounts never produce overage');
    t.match(flusher.stats(), { runs: 1, batches: 1, credits: 1000, duplicates: 0, failures: 0, retries: 0 });
  });
}
