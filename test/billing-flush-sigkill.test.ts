// SIGKILL a flusher while its meter event is in flight; a restarted flusher reports nothing twice and loses nothing.
//
// This file is also the child: with TOLLGATE_FLUSH_CHILD set it runs one flush against the
// Redis and fake Stripe named in its environment and is killed by the parent mid-request.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import { pino } from 'pino';
import { createPricing } from '../pricing/index.js';
import { createFlusher, createRedisLedger, systemClock, type Ledger, type OverageOutbox } from '../ledger/index.js';
import { createStripeGateway, createStripeMeterSink } from '../billing/index.js';
import { startFakeStripe, type FakeStripe, type FaultSpec } from './helpers/fake-stripe.js';
import { startRedis } from './helpers/redis.js';

const logger = pino({ level: 'silent' });
const CREDIT = 1_000_000;
const EVENT_NAME = 'tollgate_overage_credits';
/** The child's lease: short, so the restarted flusher can take the account over quickly. */
const CHILD_LEASE_MS = 500;

function flusherFor(ledger: Ledger & { outbox: OverageOutbox }, apiBase: string, secretKey: string, leaseMs?: number) {
  const gateway = createStripeGateway({ secretKey, apiBase, logger });
  const sink = createStripeMeterSink({ gateway, ledger, eventName: EVENT_NAME, logger });
  return createFlusher({ ledger, sink, clock: systemClock, logger, retries: 0, ...(leaseMs ? { leaseMs } : {}) });
}

if (process.env['TOLLGATE_FLUSH_CHILD']) {
  const ledger = await createRedisLedger({ url: process.env['REDIS_URL']!, pricing: createPricing(), clock: systemClock, logger });
  const flusher = flusherFor(ledger, process.env['STRIPE_API_BASE']!, process.env['STRIPE_SECRET_KEY']!, CHILD_LEASE_MS);
  await flusher.flushOnce();
  process.stdout.write('flushed without being killed\n');
  await ledger.close();
} else {
  const { default: t } = await import('tap');

  async function setup(test: Test) {
    const redis = await startRedis();
    test.teardown(() => redis.stop());
    const fake = await startFakeStripe();
    test.teardown(() => fake.close());
    const ledger = await createRedisLedger({ url: redis.url, pricing: createPricing(), clock: systemClock, logger });
    test.teardown(() => ledger.close());
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    for (let i = 0; i < 201; i++) {
      await ledger.settle({
        accountId: 'acme',
        requestId: `req-${i}`,
        modality: 'llm',
        provider: 'openai',
        byok: false,
        microCredits: 1_000 * CREDIT,
        units: { inputTokens: 1, outputTokens: 1 },
        outcome: 'ok',
      });
    }
    return { redis, fake, ledger };
  }

  /** Start a child flusher, wait until its meter event reaches the fake, SIGKILL it. */
  async function killMidFlush(test: Test, redisUrl: string, fake: FakeStripe, fault: FaultSpec): Promise<void> {
    fake.failNext(1, { ...fault, path: '/v1/billing/meter_events' });
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, TOLLGATE_FLUSH_CHILD: '1', REDIS_URL: redisUrl, STRIPE_API_BASE: fake.url, STRIPE_SECRET_KEY: fake.secretKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    test.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    try {
      await fake.waitForRequest('POST', '/v1/billing/meter_events', { timeoutMs: 60_000 });
    } catch (err) {
      test.comment(output);
      throw err;
    }
    child.kill('SIGKILL');
    test.equal(await exited, 'SIGKILL', 'the child died mid-request');
    test.notMatch(output, /flushed without being killed/);
  }

  t.test('killed after Stripe recorded the event, before the answer: the restart replays it, counted once', async (t) => {
    const { redis, fake, ledger } = await setup(t);
    await killMidFlush(t, redis.url, fake, { mode: 'delay', delayMs: 30_000 });
    const customer = (await ledger.getAccount('acme'))?.stripeCustomerId;
    t.match(customer, /^cus_/, 'the child created and stored the customer');
    t.equal(fake.meterTotal(customer!), 1_000, 'Stripe has the event');
    t.equal(await ledger.outbox.reportedMicro('acme'), 0, 'the child never committed');

    await sleep(CHILD_LEASE_MS + 100); // the dead child's lease expires
    const flusher = flusherFor(ledger, fake.url, fake.secretKey);
    t.match(await flusher.flushOnce(), { batches: 1, credits: 1_000, failures: 0, skipped: 0 });
    const sends = fake.callsTo('POST', '/v1/billing/meter_events');
    t.equal(sends.length, 2);
    t.equal(sends[1]?.body['identifier'], sends[0]?.body['identifier'], 'the same batch was re-sent');
    t.equal(sends[1]?.replayed, true, 'Stripe replayed the first answer');
    t.equal(fake.meterEvents.length, 1);
    t.equal(fake.meterTotal(customer!), 1_000);
    t.equal(fake.customers.size, 1);
    t.equal(await ledger.outbox.reportedMicro('acme'), 1_000 * CREDIT);

    t.match(await flusher.drain(), { batches: 0, failures: 0 });
    t.equal(fake.meterTotal(customer!), 1_000);
  });

  t.test('killed after Stripe recorded the event, restarted after the key expired: "already exists" → duplicate', async (t) => {
    const { redis, fake, ledger } = await setup(t);
    await killMidFlush(t, redis.url, fake, { mode: 'delay', delayMs: 30_000 });
    const customer = (await ledger.getAccount('acme'))?.stripeCustomerId;
    fake.advance(25 * 3600); // Idempotency-Keys last 24 h; identifiers longer
    await sleep(CHILD_LEASE_MS + 100);
    const flusher = flusherFor(ledger, fake.url, fake.secretKey);
    t.match(await flusher.flushOnce(), { batches: 1, credits: 1_000, duplicates: 1, failures: 0 });
    t.equal(fake.callsTo('POST', '/v1/billing/meter_events')[1]?.status, 400);
    t.equal(fake.meterEvents.length, 1);
    t.equal(fake.meterTotal(customer!), 1_000);
    t.equal(await ledger.outbox.reportedMicro('acme'), 1_000 * CREDIT);
  });

  t.test('killed before Stripe processed the event: the restart delivers it once', async (t) => {
    const { redis, fake, ledger } = await setup(t);
    await killMidFlush(t, redis.url, fake, { mode: 'hang' });
    const customer = (await ledger.getAccount('acme'))?.stripeCustomerId;
    t.equal(fake.meterEvents.length, 0, 'Stripe never got it');
    await sleep(CHILD_LEASE_MS + 100);
    const flusher = flusherFor(ledger, fake.url, fake.secretKey);
    t.match(await flusher.flushOnce(), { batches: 1, credits: 1_000, duplicates: 0, failures: 0 });
    t.equal(fake.meterEvents.length, 1);
    t.equal(fake.meterTotal(customer!), 1_000);
    t.equal(await ledger.outbox.reportedMicro('acme'), 1_000 * CREDIT);
  });
}
