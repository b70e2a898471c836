// The Stripe meter sink sends one meter event per batch: identifier = Idempotency-Key, whole credits as a string.
import t from 'tap';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createMemoryLedger } from '../ledger/index.js';
import { systemClock } from '../ledger/types.js';
import { createStripeGateway, createStripeMeterSink } from '../billing/index.js';
import { startFakeStripe } from './helpers/fake-stripe.js';

const logger = pino({ level: 'silent' });

t.test('send delivers the event in Stripe wire format', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const ledger = createMemoryLedger({ pricing: createPricing(), clock: systemClock, logger });
  t.teardown(() => ledger.close());
  const account = await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  const gateway = createStripeGateway({ secretKey: fake.secretKey, apiBase: fake.url, logger });
  const sink = createStripeMeterSink({ gateway, ledger, eventName: 'tollgate_overage_credits', logger });

  const customer = await sink.customerFor(account);
  const timestamp = fake.now() - 60;
  t.equal(await sink.send({ identifier: 'acme:overage:1', stripeCustomerId: customer, value: 1000, timestamp }), 'delivered');

  t.equal(fake.meterTotal(customer), 1000);
  t.equal(fake.meterEvents.length, 1);
  const calls = fake.callsTo('POST', '/v1/billing/meter_events');
  t.equal(calls.length, 1);
  const call = calls[0]!;
  t.same(call.body, {
    event_name: 'tollgate_overage_credits',
    identifier: 'acme:overage:1',
    timestamp: String(timestamp),
    payload: { stripe_customer_id: customer, value: '1000' },
  });
  t.equal(call.idempotencyKey, 'acme:overage:1');
  t.equal(call.authorization, `Bearer ${fake.secretKey}`);
  t.match(call.stripeVersion, /^\d{4}-\d{2}-\d{2}\.\w+$/);
  t.equal(call.status, 200);
});

t.test('a value that is not a positive whole number of credits is refused before Stripe', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const ledger = createMemoryLedger({ pricing: createPricing(), clock: systemClock, logger });
  t.teardown(() => ledger.close());
  const gateway = createStripeGateway({ secretKey: fake.secretKey, apiBase: fake.url, logger });
  const sink = createStripeMeterSink({ gateway, ledger, eventName: 'tollgate_overage_credits', logger });
  for (const value of [0, -5, 1.5]) {
    const err = await sink.send({ identifier: `bad-${value}`, stripeCustomerId: 'cus_x', value, timestamp: fake.now() }).catch((e: unknown) => e);
    t.match(err, { message: /positive whole number/ }, `value ${value}`);
  }
  t.equal(fake.calls.length, 0);
});
