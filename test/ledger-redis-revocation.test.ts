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
  t.same(await b.resolveKey(hash), { accountId: 'acme', keyId: info.id, tier: 'free' });

  const heardOnB = new Promise<{ hash: string; at: number }>((resolve) => b.onKeyRevoked((h) => resolve({ hash: h, at: Date.now() })));
  const started = Date.now();
  t.equal(await a.revokeKey(info.id), true);
  const heard = await heardOnB;
  t.equal(heard.hash, hash, 'the other process hears the hash');
  t.ok(heard.at - started < 1000, `within ${heard.at - started} ms`);
  t.equal(await b.resolveKey(hash), null);
});

t.test('a revocation whose message was lost while the pub/sub connection was down: the cache starts afresh', async (t) => {
  const { createAuthenticator } = await import('../proxy/auth.js');
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const ledger = await createRedisLedger({ url: redis.url, pricing: testPricing(), clock: systemClock, logger: pino({ level: 'silent' }) });
  t.teardown(() => ledger.close());
  const auth = createAuthenticator({ ledger, clock: systemClock, ttlMs: 60_000 });
  t.teardown(() => auth.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  const key = 'tg_live_lost_message_0000000000000000';
  const hash = hashApiKey(key);
  await ledger.addKey('acme', hash);
  t.equal(await auth.resolve(key), 'acme');
  t.equal(auth.cached(key), 'acme', 'cached for a minute');

  // The key is revoked while the subscriber is down: written, its message never heard.
  const lost = new Promise<void>((resolve) => ledger.onMessagesLost!(resolve));
  let heard = 0;
  ledger.onMessagesLost!(() => heard++);
  const admin = redis.client();
  t.equal(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'), 1);
  await lost;
  await admin.hset(`tg:key:${hash}`, 'revokedAt', String(Date.now()));
  t.equal(auth.cached(key), undefined, 'the cache was emptied when the connection closed');
  t.equal(await auth.resolve(key), null, 'read again from Redis: revoked');

  // Once resubscribed, the listeners hear it again (entries cached before the subscription
  // was back in force could have missed a message too).
  for (let i = 0; i < 300 && heard < 2; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(heard, 2, 'told when the connection closed, and once more when the channels are subscribed anew');
  const subs = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  t.match(subs, /sub=2/, 'both channels subscribed again');
});
