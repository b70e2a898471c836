// A Pro account that uses 201,000 credits on the Redis ledger has exactly 1,000 credits reported to Stripe.
import t from 'tap';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createFlusher, createRedisLedger, systemClock } from '../ledger/index.js';
import { createBilling } from '../billing/index.js';
import { startFakeStripe } from './helpers/fake-stripe.js';
import { startRedis } from './helpers/redis.js';

const logger = pino({ level: 'silent' });
const CREDIT = 1_000_000;

t.test('201,000 credits on Pro → one meter event of 1,000 credits for its (new) customer', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const ledger = await createRedisLedger({ url: redis.url, pricing: createPricing(), clock: systemClock, logger });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });

  // 201 requests of 1,000 credits: 200,000 included + 1,000 overage.
  for (let i = 0; i < 201; i++) {
    const r = await ledger.settle({
      accountId: 'acme',
      requestId: `req-${i}`,
      modality: 'tts',
      provider: 'elevenlabs',
      byok: false,
      microCredits: 1_000 * CREDIT,
      units: { chars: 6_024 },
      outcome: 'ok',
    });
    t.equal(r.applied, true);
  }
  const usage = await ledger.usage('acme');
  t.equal(usage.usedMicro, 201_000 * CREDIT);
  t.equal(usage.overageMicro, 1_000 * CREDIT);

  // Wired as the app does: the billing service's sink feeds the flusher.
  const billing = createBilling({
    config: { secretKey: fake.secretKey, apiBase: fake.url, webhookSecret: 'whsec_x', meterEventName: 'tollgate_overage_credits', prices: {} },
    ledger,
    clock: systemClock,
    logger,
  });
  const flusher = createFlusher({ ledger, sink: billing.sink, clock: systemClock, logger });

  const report = await flusher.flushOnce();
  t.match(report, { batches: 1, credits: 1_000, duplicates: 0, failures: 0 });

  const customer = (await ledger.getAccount('acme'))?.stripeCustomerId;
  t.match(customer, /^cus_/);
  t.equal(fake.customers.size, 1);
  t.equal(fake.meterTotal(customer!), 1_000);
  t.equal(fake.meterEvents.length, 1);
  const event = fake.meterEvents[0]!;
  t.equal(event.value, '1000');
  t.equal(event.eventName, 'tollgate_overage_credits');
  t.match(event.identifier, /^tg_acme_\d+_\d+$/);
  t.equal(fake.callsTo('POST', '/v1/billing/meter_events')[0]?.idempotencyKey, event.identifier);
  t.equal(await ledger.outbox.reportedMicro('acme'), 1_000 * CREDIT);

  // Nothing more to report: a second run sends nothing.
  t.match(await flusher.drain(), { batches: 0, failures: 0 });
  t.equal(fake.callsTo('POST', '/v1/billing/meter_events').length, 1);
  t.equal(fake.meterTotal(customer!), 1_000);
});
