// POST /v1/billing/checkout: a subscription-mode Checkout session with the tier's base and metered overage prices.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createMemoryLedger } from '../ledger/index.js';
import { systemClock } from '../ledger/types.js';
import { BillingError, createBilling, createDisabledBilling } from '../billing/index.js';
import { startFakeStripe, TEST_PRICES } from './helpers/fake-stripe.js';

const logger = pino({ level: 'silent' });

async function setup(t: Test, prices: Partial<typeof TEST_PRICES> = TEST_PRICES) {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const pricing = createPricing();
  const ledger = createMemoryLedger({ pricing, clock: systemClock, logger });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'free' });
  const billing = createBilling({
    config: { secretKey: fake.secretKey, apiBase: fake.url, webhookSecret: 'whsec_test', meterEventName: 'tollgate_overage_credits', prices },
    ledger,
    pricing,
    clock: systemClock,
    logger,
  });
  return { fake, ledger, billing };
}

t.test('the session has exactly base ×1 + metered overage, the account, and a customer created on demand', async (t) => {
  const { fake, ledger, billing } = await setup(t);
  const res = await billing.checkout('acme', {
    tier: 'pro',
    successUrl: 'https://app.example.com/billing/success',
    cancelUrl: 'https://app.example.com/billing/cancel',
  });
  t.same(Object.keys(res).sort(), ['id', 'url']);
  t.match(res.id, /^cs_test_/);
  t.equal(res.url, `https://checkout.stripe.com/c/pay/${res.id}`);

  const customer = (await ledger.getAccount('acme'))?.stripeCustomerId;
  t.match(customer, /^cus_/);
  t.equal(fake.customers.size, 1);

  const params = fake.checkoutSessions.get(res.id)?.params;
  t.same(params, {
    mode: 'subscription',
    customer,
    client_reference_id: 'acme',
    line_items: [{ price: TEST_PRICES.pro.base, quantity: '1' }, { price: TEST_PRICES.pro.overage }],
    success_url: 'https://app.example.com/billing/success',
    cancel_url: 'https://app.example.com/billing/cancel',
    metadata: { accountId: 'acme', tier: 'pro' },
    subscription_data: { metadata: { accountId: 'acme', tier: 'pro' } },
  });

  // A second checkout reuses the stored customer.
  await billing.checkout('acme', { tier: 'scale', successUrl: 'https://a.example/s', cancelUrl: 'https://a.example/c' });
  t.equal(fake.customers.size, 1);
  t.equal(fake.callsTo('POST', '/v1/customers').length, 1);
  t.equal(fake.callsTo('POST', '/v1/checkout/sessions').length, 2);
});

t.test('an invalid body is 400 invalid_request listing every problem; nothing reaches Stripe', async (t) => {
  const { fake, billing } = await setup(t);
  const err = await billing.checkout('acme', { tier: 'gold', successUrl: 'not a url' }).catch((e: unknown) => e);
  t.ok(err instanceof BillingError);
  t.match(err, { code: 'invalid_request', status: 400 });
  const message = (err as BillingError).message;
  t.match(message, /tier: /);
  t.match(message, /successUrl: /);
  t.match(message, /cancelUrl: /);
  for (const body of [undefined, null, 'pro', { tier: 'free', successUrl: 'https://a/s', cancelUrl: 'https://a/c' }, { tier: 'pro', successUrl: 'javascript:alert(1)', cancelUrl: 'https://a/c' }]) {
    t.match(await billing.checkout('acme', body).catch((e: unknown) => e), { code: 'invalid_request', status: 400 }, JSON.stringify(body));
  }
  t.equal(fake.calls.length, 0);
});

t.test('unknown account 404, tier without prices 501, an existing paid subscription 409', async (t) => {
  const { fake, ledger, billing } = await setup(t, { pro: TEST_PRICES.pro });
  const body = { tier: 'pro', successUrl: 'https://a.example/s', cancelUrl: 'https://a.example/c' };
  t.match(await billing.checkout('nobody', body).catch((e: unknown) => e), { code: 'unknown_account', status: 404 });
  t.match(await billing.checkout('acme', { ...body, tier: 'scale' }).catch((e: unknown) => e), { code: 'billing_not_configured', status: 501 });
  await ledger.updateAccount('acme', { tier: 'pro', stripeSubscriptionId: 'sub_existing' });
  t.match(await billing.checkout('acme', body).catch((e: unknown) => e), { code: 'already_subscribed', status: 409 });
  t.equal(fake.calls.length, 0);
});

t.test('without a stripe: block every billing handler answers 501 billing_not_configured', async (t) => {
  const billing = createDisabledBilling();
  for (const call of [
    () => billing.subscription('acme'),
    () => billing.checkout('acme', {}),
    () => billing.portal('acme', {}),
    () => billing.webhook(Buffer.from('{}'), 't=1,v1=x'),
  ]) {
    t.match(await call().catch((e: unknown) => e), { code: 'billing_not_configured', status: 501 });
  }
});

t.test('a stripe: block without webhookSecret: the webhook answers 501, unsigned bodies are never trusted', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const pricing = createPricing();
  const ledger = createMemoryLedger({ pricing, clock: systemClock, logger });
  t.teardown(() => ledger.close());
  const billing = createBilling({
    config: { secretKey: fake.secretKey, apiBase: fake.url, webhookSecret: '', meterEventName: 'tollgate_overage_credits', prices: TEST_PRICES },
    ledger,
    logger,
  });
  t.match(await billing.webhook(Buffer.from('{}'), 't=1,v1=x').catch((e: unknown) => e), { code: 'billing_not_configured', status: 501 });
  t.equal(fake.calls.length, 0);
});
