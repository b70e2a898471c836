// customer.subscription.created/updated set tier, status and period from Stripe's current subscription, whatever the delivery order.
import t from 'tap';
import Stripe from 'stripe';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createMemoryLedger } from '../ledger/index.js';
import { systemClock } from '../ledger/types.js';
import { createBilling } from '../billing/index.js';
import { startFakeStripe, TEST_PRICES, type JsonObject } from './helpers/fake-stripe.js';

const logger = pino({ level: 'silent' });
const secret = 'whsec_test_tollgate';

t.test('upgrade, past_due, unpaid, foreign prices and stale events', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const pricing = createPricing();
  const ledger = createMemoryLedger({ pricing, clock: systemClock, logger });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'free', stripeCustomerId: 'cus_acme' });
  const billing = createBilling({
    config: { secretKey: fake.secretKey, apiBase: fake.url, webhookSecret: secret, meterEventName: 'tollgate_overage_credits', prices: TEST_PRICES },
    ledger,
    pricing,
    clock: systemClock,
    logger,
  });
  const deliver = (type: string, object: JsonObject) => {
    const payload = JSON.stringify(fake.event(type, structuredClone(object)));
    return billing.webhook(Buffer.from(payload), Stripe.webhooks.generateTestHeaderString({ payload, secret }));
  };

  // Created from the dashboard: found by customer id (no metadata).
  const start = 1_790_000_000;
  const sub = fake.createSubscription({
    customer: 'cus_acme',
    items: [{ price: TEST_PRICES.starter.base, quantity: 1 }, { price: TEST_PRICES.starter.overage }],
    periodStart: start,
    periodEnd: start + 30 * 86400,
  });
  const createdPayload = structuredClone(sub);
  t.match(await deliver('customer.subscription.created', sub), { action: 'applied', accountId: 'acme' });
  let acct = await ledger.getAccount('acme');
  t.equal(acct?.tier, 'starter');
  t.equal(acct?.stripeSubscriptionId, sub['id']);

  // Plan change to Scale in the portal.
  fake.updateSubscription(sub['id'] as string, { items: [{ price: TEST_PRICES.scale.base, quantity: 1 }, { price: TEST_PRICES.scale.overage }] });
  t.match(await deliver('customer.subscription.updated', fake.subscriptions.get(sub['id'] as string)!), { action: 'applied' });
  t.equal((await ledger.getAccount('acme'))?.tier, 'scale');

  // The old 'created' event arrives late: Stripe's current state wins, still Scale.
  t.match(await deliver('customer.subscription.created', createdPayload), { action: 'applied' });
  t.equal((await ledger.getAccount('acme'))?.tier, 'scale');

  // Payment trouble: past_due keeps the tier (grace), unpaid drops to Free limits.
  fake.updateSubscription(sub['id'] as string, { status: 'past_due' });
  await deliver('customer.subscription.updated', fake.subscriptions.get(sub['id'] as string)!);
  acct = await ledger.getAccount('acme');
  t.equal(acct?.tier, 'scale');
  t.equal(acct?.status, 'past_due');
  fake.updateSubscription(sub['id'] as string, { status: 'unpaid' });
  await deliver('customer.subscription.updated', fake.subscriptions.get(sub['id'] as string)!);
  acct = await ledger.getAccount('acme');
  t.equal(acct?.tier, 'free');
  t.equal(acct?.status, 'unpaid');
  t.equal(acct?.stripeSubscriptionId, sub['id'], 'still following the subscription');
  fake.updateSubscription(sub['id'] as string, { status: 'active' });
  await deliver('invoice.paid', {
    id: 'in_1',
    object: 'invoice',
    customer: 'cus_acme',
    parent: { type: 'subscription_details', subscription_details: { subscription: sub['id'] as string, metadata: {} }, quote_details: null },
  });
  acct = await ledger.getAccount('acme');
  t.equal(acct?.tier, 'scale');
  t.equal(acct?.status, 'active');

  // A subscription to prices tollgate does not know is ignored.
  fake.addPrice({ id: 'price_other', usageType: 'licensed', unitAmount: 100 });
  const other = fake.createSubscription({ customer: 'cus_acme', items: [{ price: 'price_other', quantity: 1 }] });
  t.match(await deliver('customer.subscription.created', other), { action: 'ignored', reason: 'no configured price' });
  t.equal((await ledger.getAccount('acme'))?.tier, 'scale');

  // Deleting some other subscription of the customer leaves the account alone.
  const old = fake.createSubscription({ customer: 'cus_acme', items: [{ price: TEST_PRICES.pro.base, quantity: 1 }], status: 'canceled' });
  t.match(await deliver('customer.subscription.deleted', old), { action: 'ignored' });
  acct = await ledger.getAccount('acme');
  t.equal(acct?.tier, 'scale');
  t.equal(acct?.stripeSubscriptionId, sub['id']);

  // A subscription of a customer tollgate does not know: 200, ignored.
  const stranger = fake.createSubscription({ customer: 'cus_nobody', items: [{ price: TEST_PRICES.pro.base, quantity: 1 }] });
  t.match(await deliver('customer.subscription.created', stranger), { action: 'ignored', reason: 'unknown account' });
});
