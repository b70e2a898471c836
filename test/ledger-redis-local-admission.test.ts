// Local admission: a reserve can refuse only on a hard-capped tier (Free) or against an
// account's spend limit, so the Redis ledger admits a paid account with no limit without a call
// to Redis once it has read the account's terms, and the request costs one round trip (its
// settle). Free and capped accounts keep their scripted reserve. A change of tier or limit,
// in this process or another, and a lost subscriber connection put the account back on Redis.

import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedisLedger } from '../ledger/index.js';
import type { RedisLedger } from '../ledger/redis/index.js';
import { overageSettle, silentLogger } from './helpers/ledger-backends.js';
import { manualClock } from './helpers/ledger-clock.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { spiedLedger } from './helpers/redis-spy.js';
import { startRedis } from './helpers/redis.js';

const reserve = (accountId: string, requestId: string, microCredits: number) => ({ accountId, requestId, microCredits, ttlMs: 60_000 });
const scriptsIn = (sent: string[]) => sent.filter((n) => n === 'evalsha' || n === 'eval').length;

/** Waits until `ledger` admits `accountId` locally again (its terms read anew); the reserve ids used are settled at 0. */
async function untilLocal(t: Test, ledger: RedisLedger, accountId: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const rid = `probe-${i}`;
    const r = await ledger.reserve(reserve(accountId, rid, 0));
    await ledger.settle({ ...overageSettle(accountId, rid, 0), outcome: 'upstream_error' });
    if (r.ok && r.local) return i;
    await sleep(10);
  }
  t.fail('never admitted locally again');
  return -1;
}

t.test('a paid account with no spend limit: one round trip a request once its terms are read', async (t) => {
  const { ledger, sent } = await spiedLedger(t);
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  sent.length = 0;

  const first = await ledger.reserve(reserve('acme', 'r0', cr(3)));
  t.same(first, { ok: true, open: true }, 'the first reserve goes to Redis and holds');
  t.same(sent, ['hmget', 'evalsha'], "and the account's terms are read beside it");
  t.equal((await ledger.usage('acme')).reservedMicro, cr(3));
  await ledger.settle(overageSettle('acme', 'r0', cr(2)));

  sent.length = 0;
  for (let i = 1; i <= 50; i++) {
    const r = await ledger.reserve(reserve('acme', `r${i}`, cr(3)));
    t.same(r, { ok: true, local: true }, `r${i} admitted locally`);
    await ledger.settle(overageSettle('acme', `r${i}`, cr(2)));
  }
  t.equal(scriptsIn(sent), 50, 'one script a request: its settle');
  t.equal(sent.length, 50, 'nothing else');
  const u = await ledger.usage('acme');
  t.equal(u.usedMicro, cr(102), '51 requests at 2 credits, each charged once');
  t.equal(u.requestCount, 51);
  t.equal(u.reservedMicro, 0, 'nothing held');

  const again = await ledger.settle(overageSettle('acme', 'r7', cr(2)));
  t.equal(again.applied, false, 'a replayed settle of a locally admitted request applies nothing');
  t.equal((await ledger.usage('acme')).usedMicro, cr(102));
});

t.test('Free and capped accounts: every reserve goes to Redis, and the caps hold', async (t) => {
  const { ledger, sent } = await spiedLedger(t);
  await ledger.ensureAccount({ id: 'free1', tier: 'free' });
  await ledger.ensureAccount({ id: 'capped', tier: 'starter' });
  await ledger.updateAccount('capped', { overageCapMicro: cr(10) });
  // Their terms are read (closed) by the first reserve of each.
  await ledger.reserve(reserve('free1', 'w', 0));
  await ledger.reserve(reserve('capped', 'w', 0));
  sent.length = 0;

  // Free: 2,500 credits a month. 10 requests of 250 fit exactly; the 11th is refused.
  for (let i = 0; i < 10; i++) {
    const r = await ledger.reserve(reserve('free1', `f${i}`, cr(250)));
    t.same(r, { ok: true }, `f${i} held in Redis`);
    await ledger.settle({ ...overageSettle('free1', `f${i}`, cr(250)) });
  }
  const refused = await ledger.reserve(reserve('free1', 'f10', cr(1)));
  t.same(refused, { ok: false, reason: 'insufficient_credits', usedMicro: cr(2500), limitMicro: cr(2500) });

  // Starter with a 10-credit spend limit past its 50,000: up to 50,010 credits, not a µcr more.
  await ledger.settle(overageSettle('capped', 'bulk', cr(50_009)));
  t.same(await ledger.reserve(reserve('capped', 'c1', cr(1))), { ok: true });
  await ledger.settle(overageSettle('capped', 'c1', cr(0)));
  const over = await ledger.reserve(reserve('capped', 'c2', cr(1) + 1));
  t.same(over, { ok: false, reason: 'overage_cap', usedMicro: cr(50_009), limitMicro: cr(50_000) });

  t.equal(scriptsIn(sent), 10 + 10 + 1 + 1 + 1 + 1 + 1, 'every reserve and settle is a script call');
  t.equal(sent.filter((n) => n === 'hmget').length, 0, 'closed terms are cached too: no re-read');
});

t.test("a change of tier in another process reaches this one's cache before its next reserve", async (t) => {
  const { redis, ledger: a, sent } = await spiedLedger(t);
  const b = await createRedisLedger({ url: redis.url, pricing: testPricing(), clock: { now: () => Date.now() }, logger: silentLogger });
  t.teardown(() => b.close());
  await a.ensureAccount({ id: 'acme', tier: 'pro' });
  await a.reserve(reserve('acme', 'w', 0));
  await a.settle(overageSettle('acme', 'w', cr(3000)));
  t.same(await a.reserve(reserve('acme', 'r1', cr(1))), { ok: true, local: true }, 'pro, no limit: local');
  await a.settle(overageSettle('acme', 'r1', 0));

  const heard = new Promise<string>((resolve) => a.onAccountChanged(resolve));
  await b.updateAccount('acme', { tier: 'free' });
  t.equal(await heard, 'acme', 'the change is published to every process');
  sent.length = 0;
  const r = await a.reserve(reserve('acme', 'r2', cr(1)));
  t.same(r, { ok: false, reason: 'insufficient_credits', usedMicro: cr(3000), limitMicro: cr(2500) }, 'Free now: 3,000 used of 2,500, refused in Redis');
  t.same(sent, ['hmget', 'evalsha'], 'the terms are read again beside the reserve');
  sent.length = 0;
  t.same(await a.reserve(reserve('acme', 'r3', 0)), { ok: false, reason: 'insufficient_credits', usedMicro: cr(3000), limitMicro: cr(2500) }, 'a Free account is never admitted locally');
  t.same(sent, ['evalsha']);

  // Back to a paid tier, now with a spend limit: still never local.
  await b.updateAccount('acme', { tier: 'scale', overageCapMicro: cr(5) });
  await sleep(50);
  await a.reserve(reserve('acme', 'r4', 0));
  sent.length = 0;
  t.same(await a.reserve(reserve('acme', 'r5', 0)), { ok: true });
  t.same(sent, ['evalsha'], 'a limit keeps the reserve on Redis');
  // And the limit removed: local again once read.
  await b.updateAccount('acme', { overageCapMicro: null });
  t.equal(await untilLocal(t, a, 'acme') >= 1, true, 'the first reserve after the change went to Redis');
});

t.test("a change made by this process applies to its own next reserve, before any message", async (t) => {
  const { ledger, sent } = await spiedLedger(t);
  await ledger.ensureAccount({ id: 'acme', tier: 'starter' });
  await ledger.reserve(reserve('acme', 'w', 0));
  t.same(await ledger.reserve(reserve('acme', 'r1', 0)), { ok: true, local: true });
  await ledger.updateAccount('acme', { tier: 'free' });
  sent.length = 0;
  // No wait for the pub/sub message: updateAccount forgot the terms itself.
  t.same(await ledger.reserve(reserve('acme', 'r2', cr(2600))), { ok: false, reason: 'insufficient_credits', usedMicro: 0, limitMicro: cr(2500) });
  t.same(sent, ['hmget', 'evalsha']);
});

t.test('terms expire after termsTtlMs and are read again', async (t) => {
  const clock = manualClock(Date.UTC(2026, 10, 24, 12));
  const { ledger, sent } = await spiedLedger(t, { clock, termsTtlMs: 10_000 });
  await ledger.ensureAccount({ id: 'acme', tier: 'scale' });
  await ledger.reserve(reserve('acme', 'w', 0));
  clock.advance(9_999);
  sent.length = 0;
  t.same(await ledger.reserve(reserve('acme', 'r1', 0)), { ok: true, local: true }, 'still fresh at 9,999 ms');
  t.same(sent, []);
  clock.advance(1);
  t.same(await ledger.reserve(reserve('acme', 'r2', 0)), { ok: true, open: true }, 'expired at 10,000 ms: to Redis');
  t.same(sent, ['hmget', 'evalsha']);
  sent.length = 0;
  t.same(await ledger.reserve(reserve('acme', 'r3', 0)), { ok: true, local: true }, 'read again');
  t.same(sent, []);
});

t.test('termsTtlMs 0: every reserve goes to Redis', async (t) => {
  const { ledger, sent } = await spiedLedger(t, { termsTtlMs: 0 });
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  sent.length = 0;
  for (let i = 0; i < 5; i++) t.same(await ledger.reserve(reserve('acme', `r${i}`, cr(1))), { ok: true, open: true });
  t.same(sent, ['evalsha', 'evalsha', 'evalsha', 'evalsha', 'evalsha']);
  t.equal((await ledger.usage('acme')).reservedMicro, cr(5));
});

t.test('a lost subscriber connection forgets every account until its terms are read again', async (t) => {
  const { redis, ledger, sent } = await spiedLedger(t);
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  await ledger.reserve(reserve('acme', 'w', 0));
  t.same(await ledger.reserve(reserve('acme', 'r1', 0)), { ok: true, local: true });

  const admin = new Redis(redis.url);
  t.teardown(() => admin.quit());
  const before = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  const killed = (await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')) as number;
  t.equal(killed, 1, "the ledger's subscriber connection was killed");
  // Wait for ioredis to reconnect and resubscribe (a new pub/sub client appears).
  const id = (list: string) => /id=(\d+)/.exec(list)?.[1];
  for (let i = 0; i < 200; i++) {
    const now = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    if (id(now) && id(now) !== id(before) && /sub=2/.test(now)) break;
    await sleep(10);
  }
  sent.length = 0;
  t.same(await ledger.reserve(reserve('acme', 'r2', 0)), { ok: true, open: true }, 'the first reserve after the loss goes to Redis');
  t.same(sent.slice(-1), ['evalsha']);
  t.equal(await untilLocal(t, ledger, 'acme'), 0, 'then local again, its terms read anew');
});

t.test('a hung Redis stops local admission: reserves go to Redis and fail (503) until it answers again', async (t) => {
  // The ledger's own client, with its 1,000 ms command timeout (the spied one has none).
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const ledger = await createRedisLedger({ url: redis.url, pricing: testPricing(), clock: { now: () => Date.now() }, logger: silentLogger });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  await ledger.reserve(reserve('acme', 'w', 0));
  t.same(await ledger.reserve(reserve('acme', 'r1', cr(1))), { ok: true, local: true });

  const admin = new Redis(redis.url);
  t.teardown(() => admin.quit());
  await admin.call('CLIENT', 'PAUSE', '2500', 'ALL');
  // r1's settle goes out and hangs; past 250 ms unanswered, the ledger stops admitting locally.
  const settled = ledger.settle(overageSettle('acme', 'r1', cr(1))).catch((e: unknown) => e);
  await sleep(400);
  const started = Date.now();
  const err = await ledger.reserve(reserve('acme', 'r2', cr(1))).catch((e: unknown) => e);
  t.match(err, { code: 'ledger_unavailable', status: 503 }, 'r2 went to Redis and timed out');
  t.ok(Date.now() - started >= 500, 'it waited on Redis: not admitted locally');
  t.match(await settled, { code: 'ledger_unavailable' }, "r1's settle failed too (the proxy retries it)");
  const err3 = await ledger.reserve(reserve('acme', 'r3', cr(1))).catch((e: unknown) => e);
  t.match(err3, { code: 'ledger_unavailable' }, 'while calls fail, reserves still go to Redis');

  await admin.call('CLIENT', 'UNPAUSE');
  t.equal(await untilLocal(t, ledger, 'acme') >= 1, true, 'once a call succeeds again, local admission resumes');
  await ledger.settle(overageSettle('acme', 'r1', cr(1)));
  const u = await ledger.usage('acme');
  t.equal(u.usedMicro, cr(1), "r1 charged once, by the retried settle");
});
