// The Redis ledger batches the request path: one account's reserves (and settles) issued in
// one event-loop turn go to Redis as one script call. Each test runs the same calls, issued
// together, on the Redis ledger and on the memory ledger (which applies them one by one) and
// asserts the exact results on both, plus the number of script calls Redis received.

import t, { type Test } from 'tap';
import { createMemoryLedger, systemClock } from '../ledger/index.js';
import type { Clock, Ledger, ReserveResult, SettleInput } from '../ledger/types.js';
import { overageSettle, silentLogger } from './helpers/ledger-backends.js';
import { manualClock, utc } from './helpers/ledger-clock.js';
import { cr, testPricing } from './helpers/ledger-pricing.js';
import { spiedLedger } from './helpers/redis-spy.js';
import { startRedis } from './helpers/redis.js';
import { startTollgate } from './helpers/tollgate.js';

const reserve = (accountId: string, requestId: string, microCredits: number, ttlMs = 60_000) => ({ accountId, requestId, microCredits, ttlMs });
const byokSettle = (accountId: string, requestId: string, modality: SettleInput['modality'], units: SettleInput['units']): SettleInput => ({
  accountId,
  requestId,
  modality,
  provider: 'openai',
  byok: true,
  microCredits: 0,
  units,
  outcome: 'ok',
});

/** A request's idempotency marker as Redis holds it: a field of its account's current marker window (1 h windows). */
async function markerOf(client: { hget(key: string, field: string): Promise<string | null> }, accountId: string, requestId: string): Promise<string | null> {
  const w = Math.floor(Date.now() / 3_600_000);
  return (await client.hget(`tg:{acct:${accountId}}:mk:${w}`, requestId)) ?? (await client.hget(`tg:{acct:${accountId}}:mk:${w - 1}`, requestId));
}

async function bothLedgers(t: Test, clock: Clock = systemClock) {
  // Scripted reserves for every account (no local admission: see ledger-redis-local-admission),
  // so both ledgers hold the same and Redis gets every call this file counts.
  const spied = await spiedLedger(t, { clock, termsTtlMs: 0 });
  const memory = createMemoryLedger({ pricing: testPricing(), clock, logger: silentLogger });
  t.teardown(() => memory.close());
  return { spied, memory, all: [spied.ledger, memory] as Ledger[] };
}

t.test('a Free account near its cap: 40 reserves in one turn are one script call, and exactly the 14 that fit are held', async (t) => {
  const { spied, all } = await bothLedgers(t);
  for (const ledger of all) {
    await ledger.ensureAccount({ id: 'free1', tier: 'free' });
    await ledger.settle(overageSettle('free1', 'base', cr(2_400)));
    const before = spied.scripts();
    const results: ReserveResult[] = await Promise.all(Array.from({ length: 40 }, (_, i) => ledger.reserve(reserve('free1', `r${i}`, cr(7)))));
    if (ledger.kind === 'redis') t.equal(spied.scripts() - before, 1, 'one script call for the 40 reserves');
    const held = results.flatMap((r, i) => (r.ok ? [i] : []));
    t.same(held, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], `${ledger.kind}: the first 14 in order (14 × 7 = 98 of the 100 left)`);
    t.same(results[14], { ok: false, reason: 'insufficient_credits', usedMicro: cr(2_400), limitMicro: cr(2_500) });
    t.equal((await ledger.usage('free1')).reservedMicro, cr(98));

    const mid = spied.scripts();
    const settled = await Promise.all(held.map((i) => ledger.settle(overageSettle('free1', `r${i}`, cr(5)))));
    if (ledger.kind === 'redis') t.equal(spied.scripts() - mid, 1, 'one script call for the 14 settles');
    t.ok(settled.every((s) => s.applied));
    const u = await ledger.usage('free1');
    t.equal(u.usedMicro, cr(2_470), `${ledger.kind}: 2,400 + 14 × 5`);
    t.equal(u.reservedMicro, 0);
    t.equal(u.requestCount, 15);
  }
});

t.test('the same request id twice in one batch holds once and applies once', async (t) => {
  const { all } = await bothLedgers(t);
  for (const ledger of all) {
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    const [a, b] = await Promise.all([ledger.reserve(reserve('acme', 'dup', cr(9))), ledger.reserve(reserve('acme', 'dup', cr(9)))]);
    t.same([a, b], [{ ok: true, open: true }, { ok: true, open: true }]);
    t.equal((await ledger.usage('acme')).reservedMicro, cr(9), `${ledger.kind}: held once`);
    const [s1, s2] = await Promise.all([ledger.settle(overageSettle('acme', 'dup', cr(4))), ledger.settle(overageSettle('acme', 'dup', cr(4)))]);
    t.same([s1.applied, s2.applied], [true, false], `${ledger.kind}: the second is a no-op`);
    const u = await ledger.usage('acme');
    t.same([u.usedMicro, u.reservedMicro, u.requestCount], [cr(4), 0, 1]);
  }
});

t.test('a batch whose first entry finds the period over rolls it over once, purges expired holds, and the rest follow', async (t) => {
  const clock = manualClock(utc(2026, 1, 31, 23, 59));
  const { spied, memory, all } = await bothLedgers(t, clock);
  for (const ledger of all) {
    await ledger.ensureAccount({ id: 'p1', tier: 'pro' });
    await ledger.settle(overageSettle('p1', 'jan', cr(100)));
    await ledger.reserve(reserve('p1', 'stale', cr(50), 30_000)); // expires at 23:59:30
  }
  clock.set(utc(2026, 2, 1, 0, 5));
  for (const ledger of all) {
    const before = spied.scripts();
    const r = await Promise.all([1, 2, 3, 4, 5].map((i) => ledger.reserve(reserve('p1', `feb${i}`, cr(3)))));
    if (ledger.kind === 'redis') t.equal(spied.scripts() - before, 1);
    t.ok(r.every((x) => x.ok));
    const u = await ledger.usage('p1');
    t.equal(u.period.start, utc(2026, 2, 1), `${ledger.kind}: February`);
    t.same([u.usedMicro, u.reservedMicro], [0, cr(15)], 'the stale hold released, the five held');
    t.equal(u.carryoverMicro, cr(199_900), "January's unused credits carried");
  }
  clock.set(utc(2026, 3, 2));
  for (const ledger of all) {
    const before = spied.scripts();
    const s = await Promise.all([1, 2, 3, 4, 5].map((i) => ledger.settle(overageSettle('p1', `feb${i}`, cr(2)))));
    if (ledger.kind === 'redis') t.equal(spied.scripts() - before, 1);
    t.ok(s.every((x) => x.applied));
    const u = await ledger.usage('p1');
    t.equal(u.period.start, utc(2026, 3, 1), `${ledger.kind}: March`);
    t.same([u.usedMicro, u.reservedMicro, u.requestCount], [cr(10), 0, 5], 'settled in the period they finished in, holds released');
  }
  t.same(await spied.ledger.usage('p1'), await memory.usage('p1'), 'both ledgers agree field for field');
  t.same(await spied.ledger.history('p1'), await memory.history('p1'));
  t.equal((await memory.history('p1')).length, 2, 'January and February closed');
});

t.test('BYOK and metered settles with different units in one batch', async (t) => {
  const { spied, all } = await bothLedgers(t);
  for (const ledger of all) {
    await ledger.ensureAccount({ id: 'b1', tier: 'starter' });
    const before = spied.scripts();
    const s = await Promise.all([
      ledger.settle(byokSettle('b1', 'k1', 'tts', { chars: 100 })),
      ledger.settle(byokSettle('b1', 'k2', 'llm', { inputTokens: 10, outputTokens: 5 })),
      ledger.settle(overageSettle('b1', 'm1', cr(4))),
      ledger.settle(byokSettle('b1', 'k3', 'tts', { chars: 50 })),
      ledger.settle(byokSettle('b1', 'k4', 'stt', {})),
    ]);
    if (ledger.kind === 'redis') t.equal(spied.scripts() - before, 1);
    t.ok(s.every((x) => x.applied));
    const u = await ledger.usage('b1');
    t.equal(u.usedMicro, cr(4), `${ledger.kind}: only the metered one costs`);
    t.equal(u.requestCount, 5);
    t.equal(u.byok.requestCount, 4);
    t.same(u.byok.units.tts, { chars: 150 });
    t.same(u.byok.units.llm, { inputTokens: 10, outputTokens: 5 });
    t.same(u.byok.units.stt, {});
    t.equal(u.breakdownMicro.llm, cr(4));
  }
});

t.test('two accounts and two reservation lifetimes in one turn: one call per (account, lifetime), each exact', async (t) => {
  const { spied, all } = await bothLedgers(t);
  const [redis] = all as [Ledger];
  for (const id of ['a', 'b']) await redis.ensureAccount({ id, tier: 'pro' });
  const before = spied.scripts();
  const r = await Promise.all([
    redis.reserve(reserve('a', 'a1', cr(1))),
    redis.reserve(reserve('b', 'b1', cr(2))),
    redis.reserve(reserve('a', 'a2', cr(3), 1_000)),
    redis.reserve(reserve('a', 'a3', cr(4))),
    redis.reserve(reserve('b', 'b2', cr(5))),
  ]);
  t.equal(spied.scripts() - before, 3, 'a (60 s), a (1 s), b');
  t.ok(r.every((x) => x.ok));
  t.equal((await redis.usage('a')).reservedMicro, cr(8));
  t.equal((await redis.usage('b')).reservedMicro, cr(7));
  const mid = spied.scripts();
  await Promise.all(['a1', 'a2', 'a3'].map((id, i) => redis.settle(overageSettle('a', id, cr(i + 1)))).concat([redis.settle(overageSettle('b', 'b1', cr(10)))]));
  t.equal(spied.scripts() - mid, 2, 'one settle call per account');
  t.same([(await redis.usage('a')).usedMicro, (await redis.usage('a')).reservedMicro], [cr(6), 0]);
  t.same([(await redis.usage('b')).usedMicro, (await redis.usage('b')).reservedMicro], [cr(10), cr(5)]);
});

t.test('a paid account crossing into overage inside a batch tells the pending set once', async (t) => {
  const { spied, all } = await bothLedgers(t);
  for (const ledger of all) {
    await ledger.ensureAccount({ id: 'pro1', tier: 'pro' });
    await ledger.settle(overageSettle('pro1', 'base', cr(199_999.5)));
    spied.sent.length = 0;
    await Promise.all([1, 2, 3, 4].map((i) => ledger.settle(overageSettle('pro1', `o${i}`, cr(1)))));
    if (ledger.kind === 'redis') {
      t.same(spied.sent, ['evalsha', 'sadd'], 'one script, then the pending set once (at the entry that made a whole credit pending)');
      t.same(await spied.client.smembers('tg:overage:pending'), ['pro1']);
    }
    t.equal((await ledger.usage('pro1')).overageMicro, cr(3.5), `${ledger.kind}: 200,003.5 − 200,000`);
  }
});

t.test('more entries than one call takes are split, in order, and all apply', async (t) => {
  const { spied, all } = await bothLedgers(t);
  const [redis] = all as [Ledger];
  await redis.ensureAccount({ id: 'big', tier: 'scale' });
  const before = spied.scripts();
  const r = await Promise.all(Array.from({ length: 300 }, (_, i) => redis.reserve(reserve('big', `r${i}`, cr(1)))));
  t.equal(spied.scripts() - before, 3, '128 + 128 + 44');
  t.ok(r.every((x) => x.ok));
  await Promise.all(Array.from({ length: 300 }, (_, i) => redis.settle(overageSettle('big', `r${i}`, 1_000))));
  const u = await redis.usage('big');
  t.same([u.usedMicro, u.reservedMicro, u.requestCount], [300_000, 0, 300]);
});

t.test('a failed batch rejects each of its calls, and settling again applies once', async (t) => {
  const { spied, all } = await bothLedgers(t);
  const [redis] = all as [Ledger];
  await redis.ensureAccount({ id: 'acme', tier: 'pro' });
  await redis.reserve(reserve('acme', 'x1', cr(2)));
  await redis.reserve(reserve('acme', 'x2', cr(2)));
  // The next script call fails in Redis (a script error reaches every call of the batch).
  await spied.client.script('FLUSH');
  const evalFn = spied.client.eval.bind(spied.client);
  let failOnce = true;
  spied.client.eval = ((...a: Parameters<typeof evalFn>) => {
    if (failOnce) {
      failOnce = false;
      return Promise.reject(new Error('ERR injected failure'));
    }
    return evalFn(...a);
  }) as typeof evalFn;
  const first = await Promise.allSettled([redis.settle(overageSettle('acme', 'x1', cr(1))), redis.settle(overageSettle('acme', 'x2', cr(1)))]);
  t.same(
    first.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  t.equal((first[0] as PromiseRejectedResult).reason.code, 'ledger_unavailable');
  const again = await Promise.all([redis.settle(overageSettle('acme', 'x1', cr(1))), redis.settle(overageSettle('acme', 'x2', cr(1)))]);
  t.same(
    again.map((s) => s.applied),
    [true, true],
  );
  const u = await redis.usage('acme');
  t.same([u.usedMicro, u.reservedMicro, u.requestCount], [cr(2), 0, 2]);
});

t.test('a refused reserve leaves no marker: the same request id can hold once credits are free', async (t) => {
  const { spied, all } = await bothLedgers(t);
  for (const ledger of all) {
    await ledger.ensureAccount({ id: 'f2', tier: 'free' });
    await ledger.reserve(reserve('f2', 'big', cr(2_000)));
    const refused = await ledger.reserve(reserve('f2', 'again', cr(600)));
    t.same(refused, { ok: false, reason: 'insufficient_credits', usedMicro: 0, limitMicro: cr(2_500) }, `${ledger.kind}: 2,000 held + 600 > 2,500`);
    if (ledger.kind === 'redis') {
      t.equal(await markerOf(spied.client, 'f2', 'big'), 'R', 'the held one is marked');
      t.equal(await markerOf(spied.client, 'f2', 'again'), null, 'no marker left by the refusal');
    }
    await ledger.settle(overageSettle('f2', 'big', cr(1_000)));
    t.same(await ledger.reserve(reserve('f2', 'again', cr(600))), { ok: true }, 'held on the second try');
    const u = await ledger.usage('f2');
    t.same([u.usedMicro, u.reservedMicro], [cr(1_000), cr(600)]);
  }
});

t.test('a Redis older than 4.0 is refused at start with a clear message', async (t) => {
  const { requireRedisVersion } = await import('../ledger/redis/index.js');
  const fake = (v: string) => ({ info: async () => `# Server\r\nredis_version:${v}\r\nredis_mode:standalone\r\n` }) as never;
  await t.rejects(requireRedisVersion(fake('3.2.12')), { code: 'ledger_unavailable', message: /Redis 3\.2 is too old: tollgate needs Redis 4\.0 or later/ });
  await t.rejects(requireRedisVersion(fake('2.8.24')), { message: /Redis 2\.8 is too old/ });
  await t.resolves(requireRedisVersion(fake('4.0.14')));
  await t.resolves(requireRedisVersion(fake('7.0.15')));
});

t.test('a batch that fails while deciding writes nothing, the retry applies every entry once, and one bad entry fails alone', async (t) => {
  const { spied } = await bothLedgers(t);
  const { ledger, client } = spied;
  await ledger.ensureAccount({ id: 'w', tier: 'pro' });
  await ledger.reserve(reserve('w', 'w1', cr(5)));
  await ledger.reserve(reserve('w', 'w2', cr(5)));
  // The holds' hash turned into a string: the settles' HGET fails inside the script, after the
  // first entry has been decided.
  const amtKey = 'tg:{acct:w}:resv:amt';
  const saved = await client.hgetall(amtKey);
  await client.del(amtKey);
  await client.set(amtKey, 'not a hash');
  const failed = await Promise.allSettled([ledger.settle(overageSettle('w', 'w1', cr(3))), ledger.settle(overageSettle('w', 'w2', cr(4)))]);
  t.same(
    failed.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  t.same([await markerOf(client, 'w', 'w1'), await markerOf(client, 'w', 'w2')], ['R', 'R'], 'no marker says settled');
  t.equal((await client.hget('tg:{acct:w}:state', 'used')) ?? '0', '0', 'nothing charged');
  await client.del(amtKey);
  await client.hset(amtKey, saved);
  const again = await Promise.all([ledger.settle(overageSettle('w', 'w1', cr(3))), ledger.settle(overageSettle('w', 'w2', cr(4)))]);
  t.same(
    again.map((s) => s.applied),
    [true, true],
  );
  const u = await ledger.usage('w');
  t.same([u.usedMicro, u.reservedMicro, u.requestCount], [cr(7), 0, 2], 'each charged once, both holds released');

  // One bad entry fails alone: the batch, which wrote nothing, is sent again entry by entry.
  // The entry is poisoned on its way to Redis (its amount sent as "x"), so that Redis refuses
  // every script call that carries it.
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((cmd: { name: string; args: unknown[] }, ...rest: unknown[]) => {
    if (cmd.name === 'evalsha') {
      const at = cmd.args.indexOf('bad');
      if (at >= 0) cmd.args[at + (cmd.args.includes('llm') ? 3 : 1)] = 'x';
    }
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof client.sendCommand;
  const scriptsBefore = spied.scripts();
  const r = await Promise.allSettled([ledger.reserve(reserve('w', 'good', cr(5))), ledger.reserve(reserve('w', 'bad', cr(5)))]);
  t.same(
    r.map((x) => x.status),
    ['fulfilled', 'rejected'],
  );
  t.same((r[0] as PromiseFulfilledResult<ReserveResult>).value, { ok: true, open: true });
  t.equal(spied.scripts() - scriptsBefore, 3, 'the batch, then each entry alone');
  t.same([await markerOf(client, 'w', 'good'), await markerOf(client, 'w', 'bad')], ['R', null]);
  t.equal((await ledger.usage('w')).reservedMicro, cr(5), 'held once, by the retry alone');
  const s = await Promise.allSettled([ledger.settle(overageSettle('w', 'good', cr(2))), ledger.settle(overageSettle('w', 'bad', cr(2)))]);
  t.same(
    s.map((x) => x.status),
    ['fulfilled', 'rejected'],
  );
  const u2 = await ledger.usage('w');
  t.same([u2.usedMicro, u2.reservedMicro, u2.requestCount], [cr(9), 0, 3], '7 + 2, charged once');
});

t.test('an unknown account answers every entry of its batch', async (t) => {
  const { spied, all } = await bothLedgers(t);
  for (const ledger of all) {
    const before = spied.scripts();
    const r = await Promise.all([ledger.reserve(reserve('ghost', 'g1', cr(1))), ledger.reserve(reserve('ghost', 'g2', cr(1)))]);
    t.same(r, [0, 0].map(() => ({ ok: false, reason: 'unknown_account', usedMicro: 0, limitMicro: 0 })), `${ledger.kind}: both reserves`);
    // Each reserve first reads the account's terms (termsTtlMs 0); when the two replies come back
    // in different turns the reserves go in two calls, else in one (seen: 1 in 4 runs).
    const reserveCalls = spied.scripts() - before;
    if (ledger.kind === 'redis') t.ok(reserveCalls >= 1 && reserveCalls <= 2, `the reserves: ${reserveCalls} call(s), one per turn`);
    const mid = spied.scripts();
    const s = await Promise.allSettled([ledger.settle(overageSettle('ghost', 'g1', cr(1))), ledger.settle(overageSettle('ghost', 'g2', cr(1)))]);
    t.same(
      s.map((x) => (x.status === 'rejected' ? (x.reason as { code: string }).code : 'applied')),
      ['unknown_account', 'unknown_account'],
    );
    if (ledger.kind === 'redis') t.equal(spied.scripts() - mid, 1, 'one call for the two settles');
  }
});

t.test('idempotency markers: hourly windows, found for at least an hour, a window unlinked two windows on', async (t) => {
  const HOUR = 3_600_000;
  const clock = manualClock(utc(2026, 3, 10, 9, 59, 0));
  const { spied, all } = await bothLedgers(t, clock);
  const w = Math.floor(clock.now() / HOUR);
  for (const ledger of all) {
    clock.set(utc(2026, 3, 10, 9, 59, 0));
    await ledger.ensureAccount({ id: 'm', tier: 'pro' });
    t.same(await ledger.reserve(reserve('m', 'x1', cr(5))), { ok: true, open: true });
    t.same(await ledger.settle(overageSettle('m', 'x1', cr(3))), { applied: true });
    if (ledger.kind === 'redis') {
      t.same(await spied.client.hgetall(`tg:{acct:m}:mk:${w}`), { x1: 'S' }, 'one hash per window, one field per request');
      const pttl = await spied.client.pttl(`tg:{acct:m}:mk:${w}`);
      t.ok(pttl > 2 * HOUR + 60_000 - 5_000 && pttl <= 2 * HOUR + 60_000, `the backstop expiry: the end of the window after next (2 h 60 s from 9:59): ${pttl} ms`);
    }
    // 10:58: the next window; the marker, 59 minutes old, is found there.
    clock.set(utc(2026, 3, 10, 10, 58, 0));
    t.same(await ledger.settle(overageSettle('m', 'x1', cr(3))), { applied: false }, `${ledger.kind}: a duplicate 59 min later applies nothing`);
    t.same(await ledger.reserve(reserve('m', 'x1', cr(5))), { ok: true, open: true }, 'a late duplicate reserve');
    t.equal((await ledger.usage('m')).reservedMicro, 0, 'holds nothing');
    t.same(await ledger.settle(overageSettle('m', 'x2', cr(1))), { applied: true }, 'another request in this window');
    // 11:00:01, 61 minutes on: past the idempotency ttl, on both ledgers.
    clock.set(utc(2026, 3, 10, 11, 0, 1));
    t.same(await ledger.settle(overageSettle('m', 'x1', cr(3))), { applied: true }, `${ledger.kind}: an hour on, the id is new again`);
    if (ledger.kind === 'redis') {
      // The first write of window w + 2 unlinks window w (freed off Redis's main thread).
      t.same([await spied.client.exists(`tg:{acct:m}:mk:${w}`), await spied.client.exists(`tg:{acct:m}:mk:${w + 1}`), await spied.client.exists(`tg:{acct:m}:mk:${w + 2}`)], [0, 1, 1], 'window w dropped, w + 1 and w + 2 kept');
    }
    const u = await ledger.usage('m');
    t.same([u.usedMicro, u.requestCount], [cr(7), 3]);
  }
  await t.rejects(spied.ledger.reserve(reserve('m', 'long', cr(1), HOUR - 60_000 + 1)), { code: 'invalid_input', message: /ttlMs 3540001 is too long for the idempotency ttl of 3600000 ms/ });
  t.same(await spied.ledger.reserve(reserve('m', 'long', cr(1), HOUR - 60_000)), { ok: true, open: true }, 'a reservation of 59 minutes fits');
});

t.test('a reservation ttl over 59 minutes widens the Redis ledger\'s idempotency ttl (proxy.reservationTtlMs)', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const tg = await startTollgate({ redis: { url: redis.url }, proxy: { reservationTtlMs: 7_200_000 } }, { tier: 'pro' });
  t.teardown(() => tg.close());
  t.same(await tg.app.ledger.reserve({ accountId: 'acct', requestId: 'two-hours', microCredits: cr(1), ttlMs: 7_200_000 }), { ok: true, open: true });
  t.equal((await tg.app.ledger.usage('acct')).reservedMicro, cr(1));
});
