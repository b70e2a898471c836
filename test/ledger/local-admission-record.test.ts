// A request admitted locally (a paid account with no spend limit) still leaves its reservation
// in Redis: the record rides with the account's next batch of settles (no script call of its
// own, nothing waits on it), and if the process dies before the settle, the reservation's
// expiry charges the floor it recorded.

import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { overageSettle } from '../helpers/ledger-backends.js';
import { manualClock, utc } from '../helpers/ledger-clock.js';
import { cr } from '../helpers/ledger-pricing.js';
import { spiedLedger } from '../helpers/redis-spy.js';

t.test('local admission records ride with the settles and expire at their floor', async (t) => {
  const clock = manualClock(utc(2026, 1, 10));
  const { ledger, sent, scripts } = await spiedLedger(t, { clock });
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  const reserve = (requestId: string) => ledger.reserve({ accountId: 'acme', requestId, microCredits: cr(5), floorMicro: cr(2), modality: 'stt', ttlMs: 1000 });
  // Until its terms are read, the account's reserves go to Redis.
  let probe = 0;
  for (; probe < 200; probe++) {
    const r = await ledger.reserve({ accountId: 'acme', requestId: `probe${probe}`, microCredits: 0, ttlMs: 1000 });
    await ledger.settle({ ...overageSettle('acme', `probe${probe}`, 0), outcome: 'upstream_error' });
    if (r.ok && r.local) break;
    await sleep(10);
  }
  t.ok(probe < 200, 'admitted locally once its terms are read');
  await sleep(50);

  sent.length = 0;
  for (let i = 0; i < 20; i++) t.same(await reserve(`r${i}`), { ok: true, local: true });
  for (let i = 0; i < 10; i++) void ledger.settle({ ...overageSettle('acme', `r${i}`, cr(3)), modality: 'stt' });
  await sleep(100);
  t.equal(scripts(), 1, '20 records and 10 settles of one turn: one script call');
  t.equal(sent.length, 1, 'nothing else');
  let u = await ledger.usage('acme');
  t.equal(u.usedMicro, cr(30), 'the 10 settled at 3 credits');
  t.equal(u.reservedMicro, cr(50), 'the 10 unsettled hold their estimate of 5 credits each');
  t.equal(u.requestCount, 10 + probe + 1);

  // The process "dies": the other 10 never settle. Past their ttl, each is charged its floor.
  clock.advance(1000);
  u = await ledger.usage('acme');
  t.equal(u.usedMicro, cr(30) + 10 * cr(2), '10 expired records at their floor of 2 credits');
  t.equal(u.breakdownMicro.stt, cr(50));
  t.equal(u.reservedMicro, 0);
  t.equal(u.requestCount, 20 + probe + 1, 'each expired request counted once');

  // One of them settles late at 3 credits: 1 beyond its floor.
  t.same(await ledger.settle({ ...overageSettle('acme', 'r15', cr(3)), modality: 'stt' }), { applied: true });
  u = await ledger.usage('acme');
  t.equal(u.usedMicro, cr(51));
  t.equal(u.requestCount, 20 + probe + 1);
});
