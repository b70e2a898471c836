// POST /v1/billing/portal: a billing portal session for the account's Stripe customer.
import t from 'tap';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createMemoryLedger } from '../ledger/index.js';
import { systemClock } from '../ledger/types.js';
import { createBilling } from '../billing/index.js';
import { startFakeStripe, TEST_PRICES } from './helpers/fake-stripe.js';

const logger = pino({ level: 'silent' });

t.test('portal session for the account customer, with and without returnUrl', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const pricing = createPricing();
  const ledger = createMemoryLedger({ pricing, clock: systemClock, logger });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });
  fake.customers.set('cus_acme', { id: 'cus_acme', object: 'customer', metadata: { accountId: 'acme' } });
  await ledger.ensureAccount({ id: 'newco', tier: 'free' });
  const billing = createBilling({
    config: { secretKey: fake.secretKey, apiBase: fake.url, webhookSecret: 'whsec_test', meterEventName: 'tollgate_overage_credits', prices: TEST_PRICES },
    ledger,
    pricing,
    clock: systemClock,
    logger,
  });

  const res = await billing.portal('acme', { returnUrl: 'https://app.example.com/account' });
  t.same(Object.keys(res), ['url']);
  t.match(res.url, /^https:\/\/billing\.stripe\.com\/p\/session\/test_/);
  const calls = fake.callsTo('POST', '/v1/billing_portal/sessions');
  t.same(calls[0]?.body, { customer: 'cus_acme', return_url: 'https://app.example.com/account' });

  await billing.portal('acme', undefined);
  t.same(fake.callsTo('POST', '/v1/billing_portal/sessions')[1]?.body, { customer: 'cus_acme' });

  // No customer yet: created on demand and stored.
  await billing.portal('newco', {});
  const created = (await ledger.getAccount('newco'))?.stripeCustomerId;
  t.match(created, /^cus_/);
  t.same(fake.callsTo('POST', '/v1/billing_portal/sessions')[2]?.body, { customer: created });

  t.match(await billing.portal('acme', { returnUrl: 'nope' }).catch((e: unknown) => e), { code: 'invalid_request', status: 400 });
  t.match(await billing.portal('ghost', {}).catch((e: unknown) => e), { code: 'unknown_account', status: 404 });
  t.equal(fake.portalSessions.size, 3);
});
