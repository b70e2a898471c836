// The flusher reports whole credits and carries the sub-credit remainder: 1.5 + 1.5 credits of
// overage are reported as 1 then 2 (3 in all), never 2 or 4. On both backends.

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
  t.test(`${name}: 1.5 + 1.5 credits -> 1, then 2`, async (t) => {
    const clock = manualClock(utc(2026, 1, 10));
    const { ledger, close } = await make(clock, testPricing());
    t.teardown(close);
    const store = createFakeMeterStore();
    const flusher = createFlusher({ ledger, sink: fakeSink(store), clock, logger: silentLogger });
    await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });

    await ledger.settle(overageSettle('acme', 'base', cr(200_000)));
    await ledger.settle(overageSettle('acme', 'o1', cr(1.5)));
    t.match(await flusher.flushOnce(), { batches: 1, credits: 1, failures: 0 });
    t.same(store.events.map((e) => e.value), [1]);
    t.match(await flusher.flushOnce(), { batches: 0, credits: 0 }, 'half a credit waits');

    clock.advance(60_000);
    await ledger.settle(overageSettle('acme', 'o2', cr(1.5)));
    t.match(await flusher.flushOnce(), { batches: 1, credits: 2 });
    t.same(
      store.events.map((e) => [e.identifier, e.value, e.timestamp, e.stripeCustomerId]),
      [
        [`tg_acme_${utc(2026, 1, 1) / 1000}_1`, 1, utc(2026, 1, 10) / 1000, 'cus_acme'],
        [`tg_acme_${utc(2026, 1, 1) / 1000}_2`, 2, utc(2026, 1, 10) / 1000 + 60, 'cus_acme'],
      ],
    );
    t.equal(store.total(), 3);
    t.equal(await ledger.outbox.reportedMicro('acme'), cr(3));
    t.same(await ledger.outbox.pendingAccounts(false), [], 'nothing whole left: off the pending set');
  });
}
