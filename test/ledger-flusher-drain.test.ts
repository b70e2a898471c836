// start() flushes on an interval; drain() on shutdown stops the timer and flushes what is left;
// stats() exposes counters and the lag for metrics.

import t from 'tap';
import { createFlusher } from '../ledger/index.js';
import { backends, overageSettle, silentLogger } from './helpers/ledger-backends.js';
import { createFakeMeterStore, fakeSink } from './helpers/ledger-fake-sink.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { systemClock } from '../ledger/index.js';
import { startRedis } from './helpers/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
const redisBackend = backends(redis.url).find((b) => b.name === 'redis')!;

t.test('interval flushes, drain on shutdown, stats', async (t) => {
  const { ledger, close } = await redisBackend.make(systemClock, testPricing());
  t.teardown(close);
  await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });
  const store = createFakeMeterStore();
  const flusher = createFlusher({ ledger, sink: fakeSink(store), clock: systemClock, logger: silentLogger, intervalMs: 50 });
  t.teardown(() => flusher.stop());
  flusher.start();
  await ledger.settle(overageSettle('acme', 'r1', cr(200_004)));
  const deadline = Date.now() + 3000;
  while (store.total() < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(store.total(), 4, 'the interval run reported it');

  await ledger.settle(overageSettle('acme', 'r2', cr(6)));
  const report = await flusher.drain();
  t.equal(report.failures, 0);
  t.equal(store.total(), 10, 'drain reported the rest (unless an interval run got there first)');
  const runs = flusher.stats().runs;
  await ledger.settle(overageSettle('acme', 'r3', cr(1)));
  await new Promise((r) => setTimeout(r, 200));
  t.equal(flusher.stats().runs, runs, 'no timer runs after drain');
  const stats = flusher.stats();
  t.match(stats, { batches: 2, credits: 10, failures: 0, retries: 0, running: false });
  t.ok(stats.lagMs >= 0 && stats.lagMs < 1000, `lag ${stats.lagMs} ms`);
});
