// The fake Stripe replays an Idempotency-Key's first answer for 24 h and refuses the key with other parameters.
import t from 'tap';
import Stripe from 'stripe';
import { startFakeStripe, parseForm } from './helpers/fake-stripe.js';

t.test('form bodies parse into nested objects and arrays', async (t) => {
  t.same(parseForm('a=1&b[c]=2&b[d][0][e]=x&b[d][1][e]=y&f[]=p&f[]=q&g=%5Bz%5D+w'), {
    a: '1',
    b: { c: '2', d: [{ e: 'x' }, { e: 'y' }] },
    f: ['p', 'q'],
    g: '[z] w',
  });
});

t.test('same key: first answer replayed; other params: idempotency_error; after 24 h: a new request', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const stripe = new Stripe(fake.secretKey, { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });

  const first = await stripe.customers.create({ metadata: { accountId: 'a1' } }, { idempotencyKey: 'key-1' });
  const again = await stripe.customers.create({ metadata: { accountId: 'a1' } }, { idempotencyKey: 'key-1' });
  t.equal(again.id, first.id);
  t.equal(fake.customers.size, 1);
  t.same(fake.calls.map((c) => c.replayed), [false, true]);

  const misuse = await stripe.customers.create({ metadata: { accountId: 'a2' } }, { idempotencyKey: 'key-1' }).catch((e: unknown) => e);
  t.match(misuse, { type: 'StripeIdempotencyError', statusCode: 400 });
  t.equal(fake.customers.size, 1);

  fake.advance(24 * 3600 + 1);
  const later = await stripe.customers.create({ metadata: { accountId: 'a1' } }, { idempotencyKey: 'key-1' });
  t.not(later.id, first.id);
  t.equal(fake.customers.size, 2);
});

t.test('wrong API key: 401', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const stripe = new Stripe('sk_test_wrong', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
  const err = await stripe.customers.create({}).catch((e: unknown) => e);
  t.match(err, { type: 'StripeAuthenticationError', statusCode: 401 });
  t.equal(fake.customers.size, 0);
  t.equal(fake.calls[0]?.authorization, 'Bearer sk_test_wrong');
});
