// Settles are off every request's path (the client has its answer when tollgate settles), so
// the Redis ledger lets one wait up to `settleDelayMs` for the next reserve batch and go to
// Redis in the same write, settles first. A settle with no reserve to ride with goes when the
// delay is up; close() sends what waits. (Reserves here always go to Redis: termsTtlMs 0 turns
// local admission off, see ledger-redis-local-admission.)

import t from 'tap';
import { setImmediate as turn } from 'node:timers/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedisLedger, systemClock } from '../ledger/index.js';
import { overageSettle, silentLogger } from './helpers/ledger-backends.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { spiedLedger } from './helpers/redis-spy.js';

const reserve = (requestId: string, microCredits: number) => ({ accountId: 'acme', requestId, microCredits, ttlMs: 60_000 });

t.test("a settle waits for the next turn's reserves and goes first in their flush", async (t) => {
  const { ledger, sent } = await spiedLedger(t, { settleDelayMs: 10_000, termsTtlMs: 0 });
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  await ledger.reserve(reserve('r1', cr(5)));
  sent.length = 0;

  let settled = false;
  const s = ledger.settle(overageSettle('acme', 'r1', cr(3))).then((r) => ((settled = true), r));
  await turn();
  await turn();
  await sleep(30);
  t.same(sent, [], 'the settle waits: nothing sent');
  t.equal(settled, false);

  const r = ledger.reserve(reserve('r2', cr(4)));
  const [sr, rr] = await Promise.all([s, r]);
  t.same(sent, ['evalsha', 'evalsha'], 'one flush: the settle script, then the reserve script');
  t.equal(sr.applied, true);
  t.equal(rr.ok, true);
  const u = await ledger.usage('acme');
  t.equal(u.usedMicro, cr(3), 'r1 charged 3 credits once');
  t.equal(u.reservedMicro, cr(4), "r1's hold released, r2's held");
});

t.test('a settle with no reserve to ride with goes when its delay is up', async (t) => {
  const { ledger, sent } = await spiedLedger(t, { settleDelayMs: 150, termsTtlMs: 0 });
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  await ledger.reserve(reserve('r1', cr(5)));
  sent.length = 0;
  const t0 = performance.now();
  const s = ledger.settle(overageSettle('acme', 'r1', cr(3)));
  await sleep(50);
  t.same(sent, [], 'not yet');
  const sr = await s;
  t.ok(performance.now() - t0 >= 140, 'sent after the delay');
  t.same(sent, ['evalsha']);
  t.equal(sr.applied, true);
  t.equal((await ledger.usage('acme')).usedMicro, cr(3));
});

t.test('settleDelayMs 0: a settle goes at the end of its own turn', async (t) => {
  const { ledger, sent } = await spiedLedger(t, { settleDelayMs: 0, termsTtlMs: 0 });
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  await ledger.reserve(reserve('r1', cr(5)));
  sent.length = 0;
  void ledger.settle(overageSettle('acme', 'r1', cr(3)));
  await turn();
  t.same(sent, ['evalsha'], 'sent in the next check phase, with no reserve to wait for');
});

t.test('close() sends the settles still waiting, and they apply once', async (t) => {
  const { client, ledger, sent } = await spiedLedger(t, { settleDelayMs: 60_000, termsTtlMs: 0 });
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  await ledger.reserve(reserve('r1', cr(5)));
  await ledger.reserve(reserve('r2', cr(5)));
  sent.length = 0;
  const settles = [ledger.settle(overageSettle('acme', 'r1', cr(3))), ledger.settle(overageSettle('acme', 'r2', cr(2)))];
  await sleep(20);
  t.same(sent, []);
  await ledger.close();
  const results = await Promise.all(settles);
  t.same(results.map((r) => r.applied), [true, true]);
  t.same(sent, ['evalsha'], "one script call for the account's two settles");

  // The client was the test's (not closed by the ledger): read the account back through another ledger.
  const again = await createRedisLedger({ redis: client, pricing: testPricing(), clock: systemClock, logger: silentLogger });
  t.teardown(() => again.close());
  const u = await again.usage('acme');
  t.equal(u.usedMicro, cr(5), '3 + 2 credits, once each');
  t.equal(u.reservedMicro, 0);
  const replay = await again.settle(overageSettle('acme', 'r1', cr(3)));
  t.equal(replay.applied, false, 'a replay applies nothing');
  t.equal((await again.usage('acme')).usedMicro, cr(5));
});
