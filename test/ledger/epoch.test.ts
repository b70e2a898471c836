// The ledger epoch (ledger/epoch.ts): created once for a new ledger, remembered on disk; a Redis
// without it (or with another) is lost until adopted; the log names Redis without its password.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { adoptEpoch, createEpochGuard, redactUrl } from '../../ledger/epoch.js';
import { startRedis } from '../helpers/redis.js';

t.test('redactUrl hides the user and password', async (t) => {
  t.equal(redactUrl('redis://:s3cret@cache.internal:6380/2'), 'redis://:***@cache.internal:6380/2');
  t.equal(redactUrl('rediss://app:s3cret@cache.internal:6380/0'), 'rediss://***:***@cache.internal:6380/0');
  t.equal(redactUrl('redis://127.0.0.1:6379/0'), 'redis://127.0.0.1:6379/0');
});

t.test('new, remembered, lost, adopted', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-epoch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const client = redis.client();
  const opts = { client, keyPrefix: 'e', url: redis.url, file: join(dir, 'epochs.json'), logger: pino({ level: 'silent' }), now: () => 1000 };

  const a = await createEpochGuard(opts);
  t.equal(await a.check(), true, 'a new ledger: its epoch is created');
  const id = a.id()!;
  t.match(id, /^[0-9a-f]{16}$/);
  const b = await createEpochGuard(opts);
  t.equal(await b.check(), true);
  t.equal(b.id(), id, 'a second process serves under the same epoch');

  await client.flushall();
  t.equal(await a.check(), false, 'emptied: lost');
  t.match(a.lost(), /came back empty/);
  const fresh = await createEpochGuard(opts);
  t.equal(await fresh.check(), false, 'a process starting on this host remembers the epoch: still lost, not a new ledger');
  t.equal(await client.exists('e:ledger:epoch'), 0, 'and it wrote none');

  await client.hset('e:ledger:epoch', { id: 'feedfeedfeedfeed' });
  t.equal(await a.check(), false, 'another epoch: lost');
  t.match(a.lost(), /has epoch feedfeedfeedfeed/);

  const adopted = await adoptEpoch(client, 'e', [id], 2000);
  t.equal(await a.check(), true, 'adopted from ours: serving');
  t.equal(a.id(), adopted);
  t.equal(a.lost(), undefined);
  t.equal(await fresh.check(), true);
  t.equal(fresh.id(), adopted);
});
