// A webhook with a bad or missing signature is 400 invalid_signature and changes nothing.
import t from 'tap';
import Stripe from 'stripe';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createMemoryLedger } from '../ledger/index.js';
import { systemClock } from '../ledger/types.js';
import { BillingError, createBilling } from '../billing/index.js';
import { startFakeStripe, TEST_PRICES } from './helpers/fake-stripe.js';

const logger = pino({ level: 'silent' });
const secret = 'whsec_test_tollgate';

t.test('wrong secret, tampered body, stale timestamp, missing header: 400, account unchanged', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const pricing = createPricing();
  const ledger = createMemoryLedger({ pricing, clock: systemClock, logger });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'free', stripeCustomerId: 'cus_acme' });
  const before = await ledger.getAccount('acme');
  const billing = createBilling({
    config: { secretKey: fake.secretKey, apiBase: fake.url, webhookSecret: secret, meterEventName: 'tollgate_overage_credits', prices: TEST_PRICES },
    ledger,
    pricing,
    clock: systemClock,
    logger,
  });
  const sub = fake.createSubscription({
    customer: 'cus_acme',
    items: [{ price: TEST_PRICES.pro.base, quantity: 1 }, { price: TEST_PRICES.pro.overage }],
    metadata: { accountId: 'acme' },
  });
  const payload = JSON.stringify(fake.event('customer.subscription.created', sub));
  const callsBefore = fake.calls.length;

  const attempts: Array<[string, Buffer, string | undefined]> = [
    ['wrong secret', Buffer.from(payload), Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_other' })],
    ['tampered body', Buffer.from(payload.replace('"acme"', '"evil"')), Stripe.webhooks.generateTestHeaderString({ payload, secret })],
    ['stale timestamp', Buffer.from(payload), Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) - 600 })],
    ['garbage header', Buffer.from(payload), 'garbage'],
    ['missing header', Buffer.from(payload), undefined],
  ];
  for (const [name, body, header] of attempts) {
    const err = await billing.webhook(body, header).catch((e: unknown) => e);
    t.ok(err instanceof BillingError, name);
    t.match(err, { code: 'invalid_signature', status: 400, type: 'invalid_request_error' }, name);
  }
  t.same(await ledger.getAccount('acme'), before);
  t.equal(fake.calls.length, callsBefore, 'no Stripe call');

  // The same payload correctly signed is applied (so the failures above were the signature).
  const ok = await billing.webhook(Buffer.from(payload), Stripe.webhooks.generateTestHeaderString({ payload, secret }));
  t.match(ok, { action: 'applied' });
  t.equal((await ledger.getAccount('acme'))?.tier, 'pro');
});
