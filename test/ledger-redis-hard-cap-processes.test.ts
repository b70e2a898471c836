// Free hard cap across processes: 40 reservations of 160 credits from two Node processes
// sharing one Redis, against 2,500 credits: exactly 15 held, 25 refused.

import t from 'tap';
import { pino } from 'pino';
import { createRedisLedger, systemClock, type ReserveResult } from '../ledger/index.js';
import { spawnChild } from './helpers/ledger-child.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { startRedis } from './helpers/redis.js';

t.test('40 reservations from two processes: exactly 15 held, 25 refused', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const ledger = await createRedisLedger({ url: redis.url, keyPrefix: 'cap', pricing: testPricing(), clock: systemClock, logger: pino({ level: 'silent' }) });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'freebie', tier: 'free' });

  const children = [0, 1].map(() => spawnChild('ledger-reserve-child.js', [redis.url, 'cap', 'freebie', '20', String(cr(160))]));
  for (const c of children) t.teardown(() => c.proc.kill('SIGKILL'));
  await Promise.all(children.map((c) => c.line((l) => l === 'ready')));
  for (const c of children) c.send('go');
  const results = (await Promise.all(children.map((c) => c.line((l) => l.startsWith('['))))).flatMap(
    (l) => JSON.parse(l) as ReserveResult[],
  );

  t.equal(results.length, 40);
  t.equal(results.filter((r) => r.ok).length, 15, 'exactly as far as the credits go');
  t.equal(results.filter((r) => !r.ok && r.reason === 'insufficient_credits').length, 25);
  const usage = await ledger.usage('freebie');
  t.equal(usage.reservedMicro, 2_400_000_000);
  t.equal(usage.usedMicro, 0);
  for (const c of children) t.same(await c.exited, { code: 0, signal: null });
});
