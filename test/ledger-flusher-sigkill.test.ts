// A flusher process SIGKILLed in the middle of a flush, then a new flusher: nothing reported
// twice, nothing lost. Killed after Stripe recorded the event (before the commit), and killed
// before Stripe saw it.

import t from 'tap';
import { createFlusher, createRedisLedger, systemClock } from '../ledger/index.js';
import { overageSettle, silentLogger } from './helpers/ledger-backends.js';
import { spawnChild } from './helpers/ledger-child.js';
import { httpSink, startFakeMeterServer } from './helpers/ledger-fake-sink.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { startRedis } from './helpers/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
const LEASE_MS = 1500;

for (const mode of ['hang-after-record', 'hang-before-record'] as const) {
  t.test(`killed mid-flush (${mode})`, async (t) => {
    const prefix = `kill-${mode}`;
    const server = await startFakeMeterServer();
    t.teardown(() => server.close());
    const ledger = await createRedisLedger({ url: redis.url, keyPrefix: prefix, pricing: testPricing(), clock: systemClock, logger: silentLogger });
    t.teardown(() => ledger.close());
    await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });
    await ledger.settle(overageSettle('acme', 'r1', cr(200_007)));

    server.mode = mode;
    const child = spawnChild('ledger-flush-child.js', [redis.url, prefix, server.url, String(LEASE_MS)]);
    t.teardown(() => child.proc.kill('SIGKILL'));
    const sent = await server.nextRequest();
    t.equal(sent.value, 7);
    child.proc.kill('SIGKILL');
    t.match(await child.exited, { signal: 'SIGKILL' });
    t.equal(server.store.events.length, mode === 'hang-after-record' ? 1 : 0);

    // More overage while the dead flusher's batch sits in the outbox.
    await ledger.settle(overageSettle('acme', 'r2', cr(3)));
    server.mode = 'normal';
    const flusher = createFlusher({ ledger, sink: httpSink(server.url), clock: systemClock, logger: silentLogger, leaseMs: LEASE_MS });
    // The dead flusher's lease holds the account until it expires; then the new one takes over.
    let report = await flusher.flushOnce();
    const deadline = Date.now() + 5 * LEASE_MS;
    while (report.skipped === 1 && Date.now() < deadline) {
      t.equal(report.batches, 0, 'nothing sent while the lease holds');
      await new Promise((r) => setTimeout(r, 100));
      report = await flusher.flushOnce();
    }
    t.match(report, { batches: 2, credits: 10, duplicates: mode === 'hang-after-record' ? 1 : 0, failures: 0 });
    t.same(
      server.store.events.map((e) => [e.identifier, e.value]),
      [
        [sent.identifier, 7],
        [sent.identifier.replace(/_1$/, '_2'), 3],
      ],
      'the killed batch once, under its identifier; the later overage in a new batch',
    );
    t.equal(server.store.total('cus_acme'), 10, 'nothing twice, nothing lost');
    t.equal(await ledger.outbox.reportedMicro('acme'), cr(10));
  });
}
