// A Redis outage makes ledger calls reject fast with ledger_unavailable (the proxy answers 503),
// and the ledger recovers when Redis is back.

import t from 'tap';
import { pino } from 'pino';
import { createRedisLedger, LedgerError, systemClock } from '../ledger/index.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { startRedis } from './helpers/redis.js';

t.test('a hung or disconnected Redis rejects fast with ledger_unavailable, then recovers', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const ledger = await createRedisLedger({ url: redis.url, pricing: testPricing(), clock: systemClock, logger: pino({ level: 'silent' }) });
  t.teardown(() => ledger.close());
  // Free: its every reserve goes to Redis (a paid account's are admitted locally until the
  // ledger's calls stall or fail: ledger-redis-local-admission.test.ts).
  await ledger.ensureAccount({ id: 'acme', tier: 'free' });
  t.same(await ledger.reserve({ accountId: 'acme', requestId: 'before', microCredits: cr(1), ttlMs: 60_000 }), { ok: true });

  // Freeze the server: connections stay open, nothing answers (the worst case for a client).
  const admin = redis.client();
  await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
  let started = Date.now();
  const err = await ledger.reserve({ accountId: 'acme', requestId: 'frozen', microCredits: cr(1), ttlMs: 60_000 }).catch((e: unknown) => e);
  let elapsed = Date.now() - started;
  t.ok(err instanceof LedgerError && err.code === 'ledger_unavailable' && err.status === 503, 'a hung Redis: ledger_unavailable');
  t.ok(elapsed <= 1500, `rejected in ${elapsed} ms`);
  t.equal(await ledger.ping(), false);

  // Unpause, then kill the connection outright: calls while disconnected reject at once.
  await admin.call('CLIENT', 'UNPAUSE');
  await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  started = Date.now();
  const err2 = await ledger.settle({
    accountId: 'acme',
    requestId: 'before',
    modality: 'llm',
    provider: 'openai',
    byok: false,
    microCredits: cr(1),
    units: {},
    outcome: 'ok',
  }).catch((e: unknown) => e);
  elapsed = Date.now() - started;
  if (err2 instanceof Error) {
    t.ok(err2 instanceof LedgerError && err2.code === 'ledger_unavailable', 'disconnected: ledger_unavailable');
    t.ok(elapsed <= 1000, `rejected in ${elapsed} ms`);
  } else {
    t.pass('reconnected before the call (nothing to assert about the outage)');
  }

  // Back: the ledger serves again without a restart.
  const deadline = Date.now() + 5000;
  while (!(await ledger.ping()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(await ledger.ping(), true);
  await ledger.settle({ accountId: 'acme', requestId: 'before', modality: 'llm', provider: 'openai', byok: false, microCredits: cr(1), units: {}, outcome: 'ok' });
  t.equal((await ledger.usage('acme')).usedMicro, cr(1));
});
