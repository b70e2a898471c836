// A signed checkout.session.completed moves a Free account to Pro; customer.subscription.deleted moves it back.
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

t.test('Free → Pro on checkout completion, back to Free on deletion; replays change nothing', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const pricing = createPricing();
  const ledger = createMemoryLedger({ pricing, clock: systemClock, logger });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'free' });
  const billing = createBilling({
    config: { secretKey: fake.secretKey, apiBase: fake.url, webhookSecret: secret, meterEventName: 'tollgate_overage_credits', prices: TEST_PRICES },
    ledger,
    pricing,
    clock: systemClock,
    logger,
  });
  const deliver = (event: JsonObject) => {
    const payload = JSON.stringify(event);
    return billing.webhook(Buffer.from(payload), Stripe.webhooks.generateTestHeaderString({ payload, secret }));
  };

  const { id } = await billing.checkout('acme', { tier: 'pro', successUrl: 'https://a.example/s', cancelUrl: 'https://a.example/c' });
  const { session, subscription } = fake.completeCheckout(id);
  const completed = fake.event('checkout.session.completed', session);

  const res = await deliver(completed);
  t.same(res, { received: true, eventId: completed['id'], type: 'checkout.session.completed', action: 'applied', accountId: 'acme' });
  let account = await ledger.getAccount('acme');
  t.equal(account?.tier, 'pro');
  // The tier sync is on record, with the Stripe event as the actor.
  const synced = (await ledger.audit.read({ accountId: 'acme', limit: 10 })).entries;
  t.equal(synced.length, 1);
  t.match(synced[0], { actor: `stripe:${completed['id']}`, action: 'account.subscription_synced', before: { tier: 'free', stripeSubscriptionId: null }, after: { tier: 'pro', stripeSubscriptionId: String } });
  t.equal(account?.status, 'active');
  t.equal(account?.stripeSubscriptionId, subscription['id']);
  t.equal(account?.stripeCustomerId, session['customer']);
  // The period follows the subscription's (base) item.
  const item = ((subscription['items'] as JsonObject)['data'] as JsonObject[])[0]!;
  const usage = await ledger.usage('acme');
  t.same(usage.period, { start: (item['current_period_start'] as number) * 1000, end: (item['current_period_end'] as number) * 1000 });
  t.equal(usage.includedMicro, 200_000 * 1_000_000);

  // The same event again (Stripe retries): nothing changes, no Stripe call.
  const callsBefore = fake.calls.length;
  t.same(await deliver(completed), { received: true, eventId: completed['id'], type: 'checkout.session.completed', action: 'duplicate' });
  t.equal(fake.calls.length, callsBefore);
  t.equal((await ledger.getAccount('acme'))?.tier, 'pro');

  // Cancelled in the portal: Stripe deletes the subscription at the end.
  const canceled = fake.updateSubscription(subscription['id'] as string, { status: 'canceled' });
  const deleted = fake.event('customer.subscription.deleted', canceled);
  t.match(await deliver(deleted), { action: 'applied', accountId: 'acme', type: 'customer.subscription.deleted' });
  account = await ledger.getAccount('acme');
  t.equal(account?.tier, 'free');
  t.equal(account?.status, 'active');
  t.notOk(account?.stripeSubscriptionId);
  t.equal(account?.stripeCustomerId, session['customer'], 'the customer stays');

  // A late, out-of-order replay of the completion retrieves the subscription: canceled, stays Free.
  const late = fake.event('checkout.session.completed', session);
  t.match(await deliver(late), { action: 'applied' });
  t.equal((await ledger.getAccount('acme'))?.tier, 'free');

  // Unknown event types are acknowledged and ignored.
  t.match(await deliver(fake.event('charge.succeeded', { id: 'ch_1', object: 'charge' })), {
    received: true,
    type: 'charge.succeeded',
    action: 'ignored',
  });
});
