// A flush that dies between steps (the sink accepted the event but the flusher died before its
// commit; or it died before the event reached Stripe), then a new flusher: nothing twice,
// nothing lost. On both backends.

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
  for (const crash of ['record-then-fail', 'fail'] as const) {
    t.test(`${name}: ${crash === 'fail' ? 'dies before Stripe sees it' : 'dies after Stripe recorded it'}`, async (t) => {
      const clock = manualClock(utc(2026, 3, 5));
      const { ledger, close } = await make(clock, testPricing());
      t.teardown(close);
      await ledger.ensureAccount({ id: 'acme', tier: 'scale', stripeCustomerId: 'cus_acme' });
      await ledger.settle(overageSettle('acme', 'r1', cr(1_000_012) + 250_000));
      const store = createFakeMeterStore();

      const dying = createFlusher({ ledger, sink: fakeSink(store, () => crash), clock, logger: silentLogger, leaseMs: 1000 });
      t.match(await dying.flushOnce(), { batches: 0, failures: 1 });
      t.equal(store.events.length, crash === 'fail' ? 0 : 1);

      const fresh = createFlusher({ ledger, sink: fakeSink(store), clock, logger: silentLogger });
      t.match(await fresh.flushOnce(), { batches: 1, credits: 12, duplicates: crash === 'fail' ? 0 : 1 });
      t.equal(store.events.length, 1);
      t.equal(store.total(), 12);
      t.match(await fresh.flushOnce(), { batches: 0 });
      t.equal(await ledger.outbox.reportedMicro('acme'), cr(12));
      t.equal((await ledger.usage('acme')).overageMicro, cr(12) + 250_000, 'the quarter credit is still pending');
    });
  }
}
