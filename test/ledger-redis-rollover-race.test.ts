// Concurrent requests at a period boundary from two ledger instances (two connections) roll
// the period over exactly once: one closed period, carryover counted once.

import t from 'tap';
import { pino } from 'pino';
import { createRedisLedger } from '../ledger/index.js';
import { manualClock, utc } from './helpers/ledger-clock.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { startRedis } from './helpers/redis.js';

t.test('100 concurrent settles from two connections at a boundary roll once', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const clock = manualClock(utc(2026, 1, 31, 23, 59));
  const make = () => createRedisLedger({ url: redis.url, pricing: testPricing(), clock, logger: pino({ level: 'silent' }) });
  const a = await make();
  const b = await make();
  t.teardown(() => a.close());
  t.teardown(() => b.close());

  await a.ensureAccount({ id: 'acme', tier: 'scale' });
  await a.settle({ accountId: 'acme', requestId: 'jan', modality: 'tts', provider: 'cartesia', byok: false, microCredits: cr(250_000), units: {}, outcome: 'ok' });
  clock.set(utc(2026, 2, 1));
  await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      (i % 2 ? a : b).settle({ accountId: 'acme', requestId: `f${i}`, modality: 'llm', provider: 'openai', byok: false, microCredits: cr(3), units: {}, outcome: 'ok' }),
    ),
  );
  const history = await a.history('acme');
  t.equal(history.length, 1, 'one rollover');
  t.same(history[0], {
    start: utc(2026, 1, 1),
    end: utc(2026, 2, 1),
    tier: 'scale',
    includedMicro: cr(1_000_000),
    carryoverMicro: 0,
    usedMicro: cr(250_000),
    requestCount: 1,
    overageMicro: 0,
    unusedIncludedMicro: cr(750_000),
  });
  const u = await b.usage('acme');
  t.equal(u.requestCount, 100);
  t.equal(u.usedMicro, cr(300));
  t.equal(u.carryoverMicro, cr(750_000));
  t.equal(u.limitMicro, cr(1_750_000));
});
