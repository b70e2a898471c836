// The stored-key cache: one ledger read per (account, provider) per TTL, absence cached too,
// and a PUT or DELETE through this store drops the account's entries at once.
import t from 'tap';
import { pino } from 'pino';
import { createMemoryLedger } from '../ledger/index.js';
import { createPricing } from '../pricing/index.js';
import { createKeyStore, createSecretBox } from '../proxy/secrets.js';

t.test('reads per TTL, not per request', async (t) => {
  let now = 1_000_000;
  const clock = { now: () => now };
  const ledger = createMemoryLedger({ pricing: createPricing(), clock, logger: pino({ level: 'silent' }) });
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  let reads = 0;
  const getSecret = ledger.getSecret.bind(ledger);
  ledger.getSecret = (a, n) => {
    reads++;
    return getSecret(a, n);
  };
  const store = createKeyStore({ ledger, box: createSecretBox('12'.repeat(32)), clock, logger: pino({ level: 'silent' }), ttlMs: 5_000 });

  const many = async () => new Set(await Promise.all(Array.from({ length: 100 }, () => store.get('acme', 'openai'))));
  t.same(await many(), new Set([null]));
  t.equal(reads, 1, '100 requests without a stored key: 1 read');

  await store.put('acme', 'openai', 'sk-own');
  t.same(await many(), new Set(['sk-own']));
  t.equal(reads, 2, 'PUT dropped the cached absence: 1 more read');

  now += 4_999;
  await store.get('acme', 'openai');
  t.equal(reads, 2, 'still fresh just before the TTL');
  now += 1;
  await store.get('acme', 'openai');
  t.equal(reads, 3, 'read again at the TTL');

  t.equal(await store.delete('acme', 'openai'), true);
  t.equal(await store.get('acme', 'openai'), null);
  t.equal(reads, 4);
});
