// Re-sending a batch is counted once: Idempotency-Key replay within 24 h, "already exists" → 'duplicate' after.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createMemoryLedger } from '../ledger/index.js';
import { RetryableSinkError, systemClock } from '../ledger/types.js';
import { createStripeGateway, createStripeMeterSink } from '../billing/index.js';
import { startFakeStripe } from './helpers/fake-stripe.js';

const logger = pino({ level: 'silent' });

async function setup(t: Test) {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const ledger = createMemoryLedger({ pricing: createPricing(), clock: systemClock, logger });
  t.teardown(() => ledger.close());
  const account = await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  const gateway = createStripeGateway({ secretKey: fake.secretKey, apiBase: fake.url, logger });
  const sink = createStripeMeterSink({ gateway, ledger, eventName: 'tollgate_overage_credits', logger });
  const customer = await sink.customerFor(account);
  return { fake, sink, customer };
}

t.test('re-send within 24 h: the first answer is replayed; after: Stripe says already exists → duplicate', async (t) => {
  const { fake, sink, customer } = await setup(t);
  const event = { identifier: 'acme:overage:7', stripeCustomerId: customer, value: 250, timestamp: fake.now() };

  t.equal(await sink.send(event), 'delivered');
  t.equal(await sink.send(event), 'delivered');
  t.same(fake.callsTo('POST', '/v1/billing/meter_events').map((c) => c.replayed), [false, true]);

  fake.advance(25 * 3600); // the Idempotency-Key has expired, the identifier has not
  t.equal(await sink.send({ ...event, timestamp: fake.now() }), 'duplicate');
  const last = fake.callsTo('POST', '/v1/billing/meter_events').at(-1)!;
  t.equal(last.status, 400);

  t.equal(fake.meterEvents.length, 1);
  t.equal(fake.meterTotal(customer), 250);
});

t.test('Stripe recorded the event but the answer was lost: the retry is counted once', async (t) => {
  const { fake, sink, customer } = await setup(t);
  const event = { identifier: 'acme:overage:8', stripeCustomerId: customer, value: 1000, timestamp: fake.now() };
  // Two: stripe-node retries a reset connection once on its own (same key).
  fake.failNext(2, { mode: 'lose-response', path: '/v1/billing/meter_events' });
  const err = await sink.send(event).catch((e: unknown) => e);
  t.ok(err instanceof RetryableSinkError, 'lost answer is retryable');
  t.equal(fake.meterTotal(customer), 1000, 'Stripe has it already');

  t.equal(await sink.send(event), 'delivered');
  t.equal(fake.meterEvents.length, 1);
  t.equal(fake.meterTotal(customer), 1000);
});
