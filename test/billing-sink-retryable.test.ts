// 5xx, 429, 409, closed connections and timeouts are RetryableSinkErrors; other 4xx are permanent.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createMemoryLedger } from '../ledger/index.js';
import { RetryableSinkError, systemClock } from '../ledger/types.js';
import { BillingError, createStripeGateway, createStripeMeterSink } from '../billing/index.js';
import { startFakeStripe, type FaultSpec } from './helpers/fake-stripe.js';

const logger = pino({ level: 'silent' });

async function setup(t: Test, secretKey?: string) {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const ledger = createMemoryLedger({ pricing: createPricing(), clock: systemClock, logger });
  t.teardown(() => ledger.close());
  const gateway = createStripeGateway({ secretKey: secretKey ?? fake.secretKey, apiBase: fake.url, logger, timeoutMs: 300 });
  const sink = createStripeMeterSink({ gateway, ledger, eventName: 'tollgate_overage_credits', logger });
  return { fake, sink };
}

const faults: Array<[string, FaultSpec, number]> = [
  ['500', { mode: 'error', status: 500 }, 1],
  ['503', { mode: 'error', status: 503 }, 1],
  ['429', { mode: 'error', status: 429 }, 1],
  // stripe-node retries a reset connection once by itself
  ['closed connection', { mode: 'close' }, 2],
  ['no answer (timeout)', { mode: 'hang' }, 1],
];

for (const [name, fault, n] of faults) {
  t.test(`${name} → RetryableSinkError, then the retry delivers exactly once`, async (t) => {
    const { fake, sink } = await setup(t);
    const event = { identifier: `b-${name}`, stripeCustomerId: 'cus_test_1', value: 42, timestamp: fake.now() };
    fake.failNext(n, { ...fault, path: '/v1/billing/meter_events' });
    const err = await sink.send(event).catch((e: unknown) => e);
    t.ok(err instanceof RetryableSinkError, `${name} is retryable`);
    t.equal(fake.meterEvents.length, 0);
    t.equal(await sink.send(event), 'delivered');
    t.equal(fake.meterTotal('cus_test_1'), 42);
  });
}

t.test('a timestamp outside Stripe\'s window is a permanent error', async (t) => {
  const { fake, sink } = await setup(t);
  const err = await sink
    .send({ identifier: 'old', stripeCustomerId: 'cus_test_1', value: 1, timestamp: fake.now() - 36 * 86400 })
    .catch((e: unknown) => e);
  t.ok(err instanceof BillingError);
  t.notOk(err instanceof RetryableSinkError);
  t.match(err, { code: 'stripe_error', status: 502, retryable: false, message: /400 invalid_request_error/ });
});

t.test('a wrong secret key is a permanent error', async (t) => {
  const { fake, sink } = await setup(t, 'sk_test_wrong');
  const err = await sink.send({ identifier: 'x', stripeCustomerId: 'cus_test_1', value: 1, timestamp: fake.now() }).catch((e: unknown) => e);
  t.ok(err instanceof BillingError);
  t.match(err, { code: 'stripe_error', retryable: false, message: /401/ });
  t.equal(fake.meterEvents.length, 0);
});
