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

t.test("an account admitted locally: its settles wait openSettleDelayMs; a Free account's keep settleDelayMs and take them along", async (t) => {
  const { ledger, sent } = await spiedLedger(t, { settleDelayMs: 40, openSettleDelayMs: 400 });
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  await ledger.ensureAccount({ id: 'free', tier: 'free' });
  // The first reserve reads acme's terms (paid, no spend limit); from then on it is admitted locally.
  await ledger.reserve(reserve('r0', cr(1)));
  await ledger.settle(overageSettle('acme', 'r0', cr(1)));
  const r1 = await ledger.reserve(reserve('r1', cr(5)));
  t.same(r1, { ok: true, local: true }, 'acme is admitted locally');
  sent.length = 0;

  // Alone, acme's settle waits its longer delay.
  const t0 = performance.now();
  const s1 = ledger.settle(overageSettle('acme', 'r1', cr(3)));
  await sleep(150);
  t.same(sent, [], 'nothing sent after 150 ms (settleDelayMs is 40)');
  await s1;
  t.ok(performance.now() - t0 >= 390, `sent after its 400 ms (${Math.round(performance.now() - t0)} ms)`);
  t.same(sent, ['evalsha']);
  t.equal((await ledger.usage('acme')).usedMicro, cr(4), 'r0 and r1 charged once: 1 + 3 credits');

  // A Free account's settle, queued while acme's waits, brings the flush forward for both.
  await ledger.reserve(reserve('r2', cr(5)));
  const fr = await ledger.reserve({ accountId: 'free', requestId: 'f1', microCredits: cr(2), ttlMs: 60_000 });
  t.same(fr, { ok: true }, 'a Free reserve goes to Redis and holds');
  sent.length = 0;
  const t1 = performance.now();
  const s2 = ledger.settle(overageSettle('acme', 'r2', cr(2)));
  const s3 = ledger.settle({ ...overageSettle('free', 'f1', cr(2)), outcome: 'ok' as const });
  const [a2, a3] = await Promise.all([s2, s3]);
  const took = performance.now() - t1;
  t.ok(took >= 35 && took < 300, `both sent after the Free settle's 40 ms, not acme's 400 (${Math.round(took)} ms)`);
  t.same(sent, ['evalsha', 'evalsha'], 'one script call per account, in one flush');
  t.same([a2.applied, a3.applied], [true, true]);
  t.equal((await ledger.usage('acme')).usedMicro, cr(6));
  const free = await ledger.usage('free');
  t.equal(free.usedMicro, cr(2));
  t.equal(free.reservedMicro, 0, "the Free request's hold released");
});
