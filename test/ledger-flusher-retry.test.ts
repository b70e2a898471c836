// Retryable sink errors (5xx, 429, network) are retried with exponential backoff; when the
// retries run out the batch stays in the outbox and the next run sends the same identifier.

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

t.test('retry after a retryable error, same identifier throughout', async (t) => {
  const clock = manualClock(utc(2026, 1, 10));
  const { ledger, close } = await redisBackend.make(clock, testPricing());
  t.teardown(close);
  await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });
  await ledger.settle(overageSettle('acme', 'r1', cr(200_010)));
  const store = createFakeMeterStore();
  const sentAt: number[] = [];
  const ids = new Set<string>();
  const sink = fakeSink(store, (e, attempt) => {
    sentAt.push(Date.now());
    ids.add(e.identifier);
    return attempt < 2 ? 'retryable' : 'ok';
  });
  const flusher = createFlusher({ ledger, sink, clock, logger: silentLogger, backoffMs: 40 });
  t.match(await flusher.flushOnce(), { batches: 1, credits: 10, failures: 0 });
  t.equal(flusher.stats().retries, 2);
  t.equal(sentAt.length, 3);
  t.ok(sentAt[1]! - sentAt[0]! >= 35 && sentAt[2]! - sentAt[1]! >= 75, `backoff doubles: ${sentAt[1]! - sentAt[0]!} ms, ${sentAt[2]! - sentAt[1]!} ms`);
  t.equal(ids.size, 1);
  t.equal(store.total(), 10);
});

t.test('retries exhausted: the batch waits in the outbox for the next run', async (t) => {
  const clock = manualClock(utc(2026, 1, 10));
  const { ledger, close } = await redisBackend.make(clock, testPricing());
  t.teardown(close);
  await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });
  await ledger.settle(overageSettle('acme', 'r1', cr(200_003)));
  const store = createFakeMeterStore();
  let down = true;
  const sink = fakeSink(store, () => (down ? 'retryable' : 'ok'));
  const flusher = createFlusher({ ledger, sink, clock, logger: silentLogger, backoffMs: 1, retries: 2 });
  t.match(await flusher.flushOnce(), { batches: 0, failures: 1 });
  t.equal(store.attempts.length, 0);
  // More overage meanwhile: it waits for the batch in flight, nothing is mixed into it.
  await ledger.settle(overageSettle('acme', 'r2', cr(2)));
  down = false;
  t.match(await flusher.flushOnce(), { batches: 2, credits: 5, failures: 0 });
  t.same(
    store.events.map((e) => [e.identifier, e.value]),
    [
      [`tg_acme_${utc(2026, 1, 1) / 1000}_1`, 3],
      [`tg_acme_${utc(2026, 1, 1) / 1000}_2`, 2],
    ],
  );
});
