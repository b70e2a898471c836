// Key revocation reaches every process sharing the Redis within a second (pub/sub).

import t from 'tap';
import { pino } from 'pino';
import { createRedisLedger, hashApiKey, systemClock } from '../ledger/index.js';
import { testPricing } from './helpers/ledger-pricing.js';
import { startRedis } from './helpers/redis.js';

t.test('a revocation on one process is heard on another within a second', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const make = () => createRedisLedger({ url: redis.url, pricing: testPricing(), clock: systemClock, logger: pino({ level: 'silent' }) });
  const a = await make();
  const b = await make();
  t.teardown(() => a.close());
  t.teardown(() => b.close());

  await a.ensureAccount({ id: 'acme', tier: 'free' });
  const hash = hashApiKey('tg_live_0123456789abcdef0123456789abcdef');
  const info = await a.addKey('acme', hash);
  t.same(await b.resolveKey(hash), { accountId: 'acme', keyId: info.id });

  const heardOnB = new Promise<{ hash: string; at: number }>((resolve) => b.onKeyRevoked((h) => resolve({ hash: h, at: Date.now() })));
  const started = Date.now();
  t.equal(await a.revokeKey(info.id), true);
  const heard = await heardOnB;
  t.equal(heard.hash, hash, 'the other process hears the hash');
  t.ok(heard.at - started < 1000, `within ${heard.at - started} ms`);
  t.equal(await b.resolveKey(hash), null);
});
