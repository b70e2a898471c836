// Two replicas asking for an account's Stripe customer at once get the same one, created once.
import t from 'tap';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createMemoryLedger } from '../ledger/index.js';
import { systemClock } from '../ledger/types.js';
import { createStripeGateway, createStripeMeterSink } from '../billing/index.js';
import { startFakeStripe } from './helpers/fake-stripe.js';

const logger = pino({ level: 'silent' });

t.test('concurrent customerFor from two sinks: one customer, stored on the account', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const ledger = createMemoryLedger({ pricing: createPricing(), clock: systemClock, logger });
  t.teardown(() => ledger.close());
  const account = await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  const sinks = [1, 2].map(() =>
    createStripeMeterSink({
      gateway: createStripeGateway({ secretKey: fake.secretKey, apiBase: fake.url, logger }),
      ledger,
      eventName: 'tollgate_overage_credits',
      logger,
    }),
  );

  const ids = await Promise.all([sinks[0]!, sinks[1]!, sinks[0]!, sinks[1]!].map((s) => s.customerFor(account)));
  t.equal(new Set(ids).size, 1);
  const id = ids[0]!;
  t.equal(fake.customers.size, 1);
  t.same(fake.customers.get(id)?.['metadata'], { accountId: 'acme' });
  // One creation per sink (in-process single flight); the second is Stripe's replay of the first.
  const creates = fake.callsTo('POST', '/v1/customers');
  t.equal(creates.length, 2);
  t.same(creates.map((c) => c.idempotencyKey), ['tollgate-customer-acme', 'tollgate-customer-acme']);
  t.same(creates.map((c) => c.replayed).sort(), [false, true]);
  t.equal((await ledger.getAccount('acme'))?.stripeCustomerId, id);

  // Stored: no more calls, even with the stale account object.
  t.equal(await sinks[1]!.customerFor(account), id);
  t.equal(fake.callsTo('POST', '/v1/customers').length, 2);
});

t.test('an account that already has a customer is not sent to Stripe', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const ledger = createMemoryLedger({ pricing: createPricing(), clock: systemClock, logger });
  t.teardown(() => ledger.close());
  const account = await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_existing' });
  const sink = createStripeMeterSink({
    gateway: createStripeGateway({ secretKey: fake.secretKey, apiBase: fake.url, logger }),
    ledger,
    eventName: 'tollgate_overage_credits',
    logger,
  });
  t.equal(await sink.customerFor(account), 'cus_existing');
  t.equal(fake.calls.length, 0);
});
