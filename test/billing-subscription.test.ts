// GET /v1/billing/subscription: from the ledger without a subscription, from Stripe with one.
import t from 'tap';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createMemoryLedger } from '../ledger/index.js';
import { systemClock } from '../ledger/types.js';
import { createBilling } from '../billing/index.js';
import { startFakeStripe, TEST_PRICES, type JsonObject } from './helpers/fake-stripe.js';

const logger = pino({ level: 'silent' });

t.test('free account without Stripe, then a Pro subscription with cancel at period end', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const pricing = createPricing();
  const ledger = createMemoryLedger({ pricing, clock: systemClock, logger });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'free' });
  const billing = createBilling({
    config: { secretKey: fake.secretKey, apiBase: fake.url, webhookSecret: 'whsec_x', meterEventName: 'tollgate_overage_credits', prices: TEST_PRICES },
    ledger,
    pricing,
    clock: systemClock,
    logger,
  });

  const { period } = await ledger.usage('acme');
  t.same(await billing.subscription('acme'), {
    tier: 'free',
    status: 'active',
    currentPeriod: { start: new Date(period.start).toISOString(), end: new Date(period.end).toISOString() },
    cancelAtPeriodEnd: false,
    includedCredits: 2500,
    stripeCustomerId: null,
    subscription: null,
  });
  t.equal(fake.calls.length, 0);

  const start = Date.UTC(2026, 10, 3, 12) / 1000;
  const end = Date.UTC(2026, 11, 3, 12) / 1000;
  fake.customers.set('cus_acme', { id: 'cus_acme', object: 'customer' });
  const sub = fake.createSubscription({
    customer: 'cus_acme',
    items: [{ price: TEST_PRICES.pro.base, quantity: 1 }, { price: TEST_PRICES.pro.overage }],
    periodStart: start,
    periodEnd: end,
  });
  fake.updateSubscription(sub['id'] as string, { cancel_at_period_end: true });
  await ledger.updateAccount('acme', { tier: 'pro', stripeCustomerId: 'cus_acme', stripeSubscriptionId: sub['id'] as string });
  const items = ((sub['items'] as JsonObject)['data'] as JsonObject[]).map((i) => i['id']);

  t.same(await billing.subscription('acme'), {
    tier: 'pro',
    status: 'active',
    currentPeriod: { start: '2026-11-03T12:00:00.000Z', end: '2026-12-03T12:00:00.000Z' },
    cancelAtPeriodEnd: true,
    includedCredits: 200000,
    stripeCustomerId: 'cus_acme',
    subscription: {
      id: sub['id'],
      status: 'active',
      items: [
        { id: items[0], price: TEST_PRICES.pro.base, quantity: 1, currentPeriodStart: '2026-11-03T12:00:00.000Z', currentPeriodEnd: '2026-12-03T12:00:00.000Z' },
        { id: items[1], price: TEST_PRICES.pro.overage, quantity: null, currentPeriodStart: '2026-11-03T12:00:00.000Z', currentPeriodEnd: '2026-12-03T12:00:00.000Z' },
      ],
    },
  });
  t.equal(fake.callsTo('GET', `/v1/subscriptions/${sub['id'] as string}`).length, 1);

  t.match(await billing.subscription('ghost').catch((e: unknown) => e), { code: 'unknown_account', status: 404 });
  // Stripe down: 502 stripe_error.
  fake.failNext(1, { mode: 'error', status: 500 });
  t.match(await billing.subscription('acme').catch((e: unknown) => e), { code: 'stripe_error', status: 502 });
});
