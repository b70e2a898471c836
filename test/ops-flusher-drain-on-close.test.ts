// With stripe: configured the app runs the overage flusher, and close() drains it: 500 credits
// of Pro overage settled just before shutdown reach Stripe as one meter event, with no
// interval tick in between (flushIntervalMs is an hour). /metrics shows the flusher's counters.
import t from 'tap';
import { startRedis } from './helpers/redis.js';
import { startFakeStripe } from './helpers/fake-stripe.js';
import { startTollgate } from './helpers/tollgate.js';

const CREDIT = 1_000_000;

t.test('close() drains the flusher: 500 overage credits at Stripe', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const tg = await startTollgate(
    { redis: { url: redis.url }, stripe: { secretKey: fake.secretKey, apiBase: fake.url, flushIntervalMs: 3_600_000 } },
    { tier: 'pro' },
  );
  t.ok(tg.app.flusher, 'the app built a flusher');

  // 200,000 included + 500 overage.
  await tg.app.ledger.settle({ accountId: 'acct', requestId: 'r1', modality: 'tts', provider: 'elevenlabs', byok: false, microCredits: 200_500 * CREDIT, units: { chars: 1_207_831 }, outcome: 'ok' });
  t.equal(fake.meterEvents.length, 0, 'nothing sent before shutdown');

  await tg.close();
  const customer = [...fake.customers.keys()][0]!;
  t.match(customer, /^cus_/);
  t.equal(fake.meterEvents.length, 1);
  t.equal(fake.meterTotal(customer), 500);
  t.match(fake.meterEvents[0]!.identifier, /^tg_acct_\d+_\d+$/);

  const text = await tg.app.metrics.render();
  t.match(text, /^tollgate_flusher_runs_total 1$/m);
  t.match(text, /^tollgate_flusher_batches_total 1$/m);
  t.match(text, /^tollgate_flusher_credits_reported_total 500$/m);
  t.match(text, /^tollgate_flusher_failures_total 0$/m);
  t.match(text, /^tollgate_flusher_lag_seconds \d/m);
});
