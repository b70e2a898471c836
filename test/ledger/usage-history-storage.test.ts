// How the usage history is stored (stop 26, issue 22's cost): a bucket holds only per-(modality,
// model) counters and the totals are their sums, made when read (older buckets also hold the
// totals, which are not counted twice); receipts are a capped list, newest first, paged by a
// cursor that stays right while receipts arrive between pages; `history.enabled: false` writes
// neither.
import t from 'tap';
import { createRedisLedger } from '../../ledger/index.js';
import { hourId, parseBucket } from '../../ledger/usage-history.js';
import { silentLogger } from '../helpers/ledger-backends.js';
import { manualClock, utc } from '../helpers/ledger-clock.js';
import { cr, testPricing } from '../helpers/ledger-pricing.js';
import { startRedis } from '../helpers/redis.js';
import { historyBackends, historySettle } from '../helpers/history-backends.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
let n = 0;

const BACKENDS = historyBackends(redis.url, 'hs');
const settle = historySettle;

t.test('redis: a bucket holds the pair counters only, added to in place', async (t) => {
  const clock = manualClock(utc(2026, 7, 1, 10));
  const prefix = `hs${++n}`;
  const ledger = await createRedisLedger({ url: redis.url, keyPrefix: prefix, pricing: testPricing(), clock, logger: silentLogger });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'a', tier: 'pro' });
  await ledger.settle(settle('a', 'r1', 500_000, { model: 'gpt-4.1', units: { inputTokens: 20, outputTokens: 12 } }));
  await ledger.settle(settle('a', 'r2', 250_000, { model: 'gpt-4.1', units: { inputTokens: 10, outputTokens: 6 } }));
  await ledger.settle(settle('a', 'r3', 0, { model: 'gpt-4.1', byok: true, units: { inputTokens: 5, outputTokens: 1 } }));
  const c = redis.client();
  t.teardown(() => c.quit());
  const key = `${prefix}:{acct:a}:u:h:${hourId(clock.now())}`;
  t.same(await c.hgetall(key), {
    nm: '1',
    'c|llm|gpt-4.1': '750000',
    'n|llm|gpt-4.1': '3',
    'u|llm|inputTokens|gpt-4.1': '35',
    'u|llm|outputTokens|gpt-4.1': '19',
    nb: '1',
  });
  const ttl = await c.pttl(key);
  t.ok(ttl > 34 * 86_400_000 && ttl <= 35 * 86_400_000, `the bucket lives 35 days (${ttl} ms)`);
  const [b] = await ledger.historyBuckets('a', 'hour', [hourId(clock.now())]);
  t.match(b, { micro: 750_000, requests: 3, byokRequests: 1, modalities: { llm: { micro: 750_000, requests: 3 }, tts: { micro: 0, requests: 0 } } });
  t.equal((await c.llen(`${prefix}:{acct:a}:rc`)), 3, 'three receipts in the list');
});

t.test('an older bucket (totals stored beside the pairs) is read without counting them twice', async (t) => {
  const old = {
    n: '3', c: '1500', nb: '1', nm: '2',
    'c|llm': '1000', 'n|llm': '2', 'c|llm|a': '1000', 'n|llm|a': '2', 'u|llm|outputTokens|a': '7',
    'c|tts': '500', 'n|tts': '1', 'c|tts|k': '500', 'n|tts|k': '1',
  };
  const b = parseBucket(old);
  t.match(b, { micro: 1_500, requests: 3, byokRequests: 1, modalities: { llm: { micro: 1_000, requests: 2 }, tts: { micro: 500, requests: 1 } } });
  t.same(b.groups.map((g) => [g.modality, g.model, g.micro, g.requests]), [['llm', 'a', 1_000, 2], ['tts', 'k', 500, 1]]);
  // Written to after an upgrade: only the pairs grow, and the sums follow them.
  const grown = parseBucket({ ...old, 'c|llm|a': '1250', 'n|llm|a': '3' });
  t.equal(grown.micro, 1_750);
  t.equal(grown.requests, 4);
});

for (const [name, make] of BACKENDS) {
  t.test(`${name}: receipts arriving between pages neither repeat nor skip one`, async (t) => {
    const clock = manualClock(utc(2026, 7, 2, 10));
    const ledger = await make(clock, { hourlyRetentionDays: 35, dailyRetentionDays: 400, receiptsPerAccount: 50 });
    t.teardown(() => ledger.close());
    await ledger.ensureAccount({ id: 'p', tier: 'pro' });
    for (let i = 1; i <= 10; i++) {
      clock.advance(1_000);
      await ledger.settle(settle('p', `a${i}`, 1_000 * i, { model: 'm' }));
    }
    const p1 = await ledger.receipts('p', { limit: 4 });
    t.same(p1.receipts.map((r) => r.requestId), ['a10', 'a9', 'a8', 'a7']);
    // Seven more land before the next page is read: it goes on from a7, not from the new head.
    for (let i = 1; i <= 7; i++) await ledger.settle(settle('p', `b${i}`, 1, { model: 'm' }));
    const p2 = await ledger.receipts('p', { limit: 4, cursor: p1.next! });
    t.same(p2.receipts.map((r) => r.requestId), ['a6', 'a5', 'a4', 'a3']);
    t.same(p2.receipts.map((r) => r.micro), [6_000, 5_000, 4_000, 3_000]);
    const p3 = await ledger.receipts('p', { limit: 4, cursor: p2.next! });
    t.same(p3.receipts.map((r) => r.requestId), ['a2', 'a1']);
    t.equal(p3.next, null, 'the oldest page says so');
    const all = await ledger.receipts('p', { limit: 100 });
    t.equal(all.receipts.length, 17);
    t.same(all.receipts.slice(0, 3).map((r) => r.requestId), ['b7', 'b6', 'b5']);
  });

  t.test(`${name}: 200 settles at once (batched) keep exactly the newest 25 receipts, each once`, async (t) => {
    const clock = manualClock(utc(2026, 7, 3, 10));
    const ledger = await make(clock, { hourlyRetentionDays: 35, dailyRetentionDays: 400, receiptsPerAccount: 25 });
    t.teardown(() => ledger.close());
    await ledger.ensureAccount({ id: 'c', tier: 'pro' });
    await Promise.all(Array.from({ length: 200 }, (_, i) => ledger.settle(settle('c', `c${i}`, 1_000, { model: 'm', units: { outputTokens: 2 } }))));
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ledger.receipts('c', { limit: 7, ...(cursor ? { cursor } : {}) });
      ids.push(...page.receipts.map((r) => r.requestId));
      cursor = page.next ?? undefined;
    } while (cursor);
    t.equal(ids.length, 25, 'exactly the cap');
    t.equal(new Set(ids).size, 25, 'no receipt twice');
    const [b] = await ledger.historyBuckets('c', 'hour', [hourId(clock.now())]);
    t.match(b, { micro: 200_000, requests: 200 });
    t.same(b!.groups[0]!.units, { outputTokens: 400 });
  });

  t.test(`${name}: an expired reservation's floor has a receipt of outcome "expired"`, async (t) => {
    const clock = manualClock(utc(2026, 7, 4, 10));
    const ledger = await make(clock);
    t.teardown(() => ledger.close());
    await ledger.ensureAccount({ id: 'x', tier: 'free' });
    await ledger.reserve({ accountId: 'x', requestId: 'gone-1', microCredits: cr(2), ttlMs: 60_000, floorMicro: 3_000, modality: 'tts' });
    clock.advance(120_000);
    t.equal((await ledger.usage('x')).usedMicro, 3_000);
    const r = await ledger.receipts('x', { limit: 10 });
    t.equal(r.receipts.length, 1);
    t.match(r.receipts[0], { requestId: 'gone-1', modality: 'tts', micro: 3_000, outcome: 'expired', byok: false, provider: null, time: clock.now() });
  });

  t.test(`${name}: history.enabled false writes no buckets and no receipts; the charge is the same`, async (t) => {
    const clock = manualClock(utc(2026, 7, 5, 10));
    const ledger = await make(clock, { enabled: false, hourlyRetentionDays: 35, dailyRetentionDays: 400, receiptsPerAccount: 1000 });
    t.teardown(() => ledger.close());
    await ledger.ensureAccount({ id: 'off', tier: 'pro' });
    await ledger.settle(settle('off', 'o1', 7_000, { model: 'm', units: { outputTokens: 3 } }));
    await ledger.reserve({ accountId: 'off', requestId: 'o2', microCredits: cr(1), ttlMs: 60_000, floorMicro: 5_000, modality: 'tts' });
    clock.advance(120_000);
    const u = await ledger.usage('off');
    t.equal(u.usedMicro, 12_000, 'the settle and the expired floor are charged');
    t.equal(u.requestCount, 2);
    t.same(await ledger.historyBuckets('off', 'hour', [hourId(clock.now() - 120_000), hourId(clock.now())]), [null, null]);
    t.same((await ledger.receipts('off', { limit: 10 })).receipts, []);
  });
}
