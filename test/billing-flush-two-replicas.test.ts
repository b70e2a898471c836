// Two flushers on one Redis (two replicas) report an account's overage once, even when a lease expires mid-send.
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createFlusher, createRedisLedger, systemClock, type FlushReport } from '../ledger/index.js';
import { createStripeGateway, createStripeMeterSink } from '../billing/index.js';
import { startFakeStripe, type FakeStripe } from './helpers/fake-stripe.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const logger = pino({ level: 'silent' });
const CREDIT = 1_000_000;

async function setup(t: Test) {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const ledger = await createRedisLedger({ url: redis.url, pricing: createPricing(), clock: systemClock, logger });
  t.teardown(() => ledger.close());
  for (const id of ['acme', 'globex']) {
    await ledger.ensureAccount({ id, tier: 'pro' });
    for (let i = 0; i < 201; i++) {
      await ledger.settle({
        accountId: id,
        requestId: `req-${i}`,
        modality: 'stt',
        provider: 'deepgram',
        byok: false,
        microCredits: 1_000 * CREDIT,
        units: { audioMs: 60_000 },
        outcome: 'ok',
      });
    }
  }
  return { redis, fake, ledger };
}

/** A replica: its own Redis connection, Stripe client and flusher. */
async function replica(t: Test, redis: TestRedis, fake: FakeStripe, leaseMs?: number) {
  const ledger = await createRedisLedger({ url: redis.url, pricing: createPricing(), clock: systemClock, logger });
  t.teardown(() => ledger.close());
  const gateway = createStripeGateway({ secretKey: fake.secretKey, apiBase: fake.url, logger });
  const sink = createStripeMeterSink({ gateway, ledger, eventName: 'tollgate_overage_credits', logger });
  return createFlusher({ ledger, sink, clock: systemClock, logger, backoffMs: 200, ...(leaseMs ? { leaseMs } : {}) });
}

async function assertReportedOnce(t: Test, fake: FakeStripe, ledger: Awaited<ReturnType<typeof setup>>['ledger']) {
  for (const id of ['acme', 'globex']) {
    const customer = (await ledger.getAccount(id))?.stripeCustomerId;
    t.match(customer, /^cus_/, `${id} has a customer`);
    t.equal(fake.meterTotal(customer!), 1_000, `${id}: exactly 1,000 credits at Stripe`);
    t.equal(fake.meterEventsFor(customer!).length, 1, `${id}: one meter event`);
    t.equal(await ledger.outbox.reportedMicro(id), 1_000 * CREDIT, `${id}: committed once`);
  }
  t.equal(fake.customers.size, 2, 'one customer per account');
}

t.test('two replicas flushing at once: each account reported once', async (t) => {
  const { redis, fake, ledger } = await setup(t);
  const [a, b] = [await replica(t, redis, fake), await replica(t, redis, fake)];
  // Slow answers so the two runs overlap.
  fake.failNext(4, { mode: 'delay', delayMs: 200, path: '/v1/billing/meter_events' });
  const reports: FlushReport[] = await Promise.all([a.drain(), b.drain()]);
  t.equal(reports.reduce((n, r) => n + r.failures, 0), 0);
  await assertReportedOnce(t, fake, ledger);
  // A later run by either finds nothing.
  t.match(await a.flushOnce(), { batches: 0 });
  t.match(await b.flushOnce(), { batches: 0 });
  t.equal(fake.meterEvents.length, 2);
});

t.test('a lease that expires mid-send: the second replica re-sends the same batch, Stripe counts it once', async (t) => {
  const { redis, fake, ledger } = await setup(t);
  const a = await replica(t, redis, fake, 100);
  const b = await replica(t, redis, fake, 100);
  // A's first send holds its Idempotency-Key for 2 s, far past A's 100 ms lease.
  fake.failNext(1, { mode: 'slow', delayMs: 2_000, path: '/v1/billing/meter_events' });
  const runA = a.flushOnce();
  await fake.waitForRequest('POST', '/v1/billing/meter_events');
  await sleep(150); // A's lease has expired; B takes the account over
  const runB = b.drain();
  const reports = await Promise.all([runA, runB]);
  t.equal(reports.reduce((n, r) => n + r.failures, 0), 0);
  const sends = fake.callsTo('POST', '/v1/billing/meter_events');
  const identifiers = new Set(sends.map((c) => c.body['identifier']));
  t.equal(identifiers.size, 2, 'one identifier per account, however often sent');
  t.ok(sends.length > 2, 'the expired lease led to a re-send');
  t.ok(sends.some((c) => c.status === 409), 'B met A\'s request in progress (409 idempotency_key_in_use), retried');
  t.ok(sends.some((c) => c.replayed), 'and got A\'s answer replayed');
  await assertReportedOnce(t, fake, ledger);
});
