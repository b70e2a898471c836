// The usage history and receipts on both ledgers: the buckets are written by the call that
// charges, so hourly and daily sums equal the ledger's charge exactly (BYOK, failures, write-offs,
// expired floors and late settles included); models past 40 a bucket fold into `other`;
// receipts are newest first, paged by cursor, capped exactly.
import t from 'tap';
import fc from 'fast-check';
import { createRedisLedger } from '../../ledger/index.js';
import { dayId, hourId, type HistoryBucket } from '../../ledger/usage-history.js';
import { silentLogger } from '../helpers/ledger-backends.js';
import { manualClock, utc } from '../helpers/ledger-clock.js';
import { cr, testPricing } from '../helpers/ledger-pricing.js';
import { fcParams } from '../helpers/property.js';
import { startRedis } from '../helpers/redis.js';
import { historyBackends, historySettle } from '../helpers/history-backends.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
let n = 0;
const H = 3_600_000;

const BACKENDS = historyBackends(redis.url, 'h');
const settle = historySettle;

function hoursBetween(from: number, to: number): string[] {
  const ids: string[] = [];
  for (let h = from - (from % H); h < to; h += H) ids.push(hourId(h));
  return ids;
}

function total(bs: (HistoryBucket | null)[]): { micro: number; requests: number; byok: number; mod: Record<string, number> } {
  const out = { micro: 0, requests: 0, byok: 0, mod: { tts: 0, stt: 0, llm: 0, rag: 0 } as Record<string, number> };
  for (const b of bs) {
    if (!b) continue;
    out.micro += b.micro;
    out.requests += b.requests;
    out.byok += b.byokRequests;
    for (const m of ['tts', 'stt', 'llm', 'rag']) out.mod[m]! += b.modalities[m as 'llm'].micro;
    // Each bucket's groups sum to its totals.
    t.equal(b.groups.reduce((s, g) => s + g.micro, 0), b.micro);
    t.equal(b.groups.reduce((s, g) => s + g.requests, 0), b.requests);
  }
  return out;
}

for (const [name, make] of BACKENDS) {
  t.test(`${name}: a mixed workload's buckets equal the ledger to the µcr`, async (t) => {
    const clock = manualClock(utc(2026, 1, 10, 22, 30));
    const ledger = await make(clock);
    t.teardown(() => ledger.close());
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    await ledger.updateAccount('acme', { timeZone: 'Europe/Paris' });
    await ledger.ensureAccount({ id: 'tiny', tier: 'free' });

    // 22:30Z = 23:30 in Paris: the Paris day of 10 January.
    await ledger.reserve({ accountId: 'acme', requestId: 'r1', microCredits: cr(10), ttlMs: 600_000 });
    await ledger.settle(settle('acme', 'r1', 1_500_000, { model: 'gpt-4.1', keyId: 'k1', units: { inputTokens: 1000, outputTokens: 500 } }));
    t.same(await ledger.settle(settle('acme', 'r1', 1_500_000, { model: 'gpt-4.1' })), { applied: false }, 'a duplicate adds nothing');
    clock.set(utc(2026, 1, 10, 22, 45));
    await ledger.settle(settle('acme', 'r2', 166_000, { modality: 'tts', provider: 'elevenlabs', model: 'eleven_multilingual_v2', units: { chars: 1000 } }));
    // 23:10Z = 00:10 on 11 January in Paris, the same UTC day.
    clock.set(utc(2026, 1, 10, 23, 10));
    await ledger.settle(settle('acme', 'r3', 2_000_000, { modality: 'stt', model: 'whisper-1', units: { audioMs: 60_000 } }));
    await ledger.settle(settle('acme', 'b1', 0, { byok: true, provider: 'anthropic', model: 'claude-sonnet-4', units: { inputTokens: 200, outputTokens: 100 } }));
    await ledger.settle(settle('acme', 'f1', 0, { modality: 'rag', provider: 'rag', outcome: 'upstream_error', units: {} }));
    // A reservation whose process died: its floor is charged when it expires (here at a usage
    // read), then its late settle adds only what it cost beyond, without counting it twice.
    await ledger.reserve({ accountId: 'acme', requestId: 'e1', microCredits: cr(5), ttlMs: 60_000, floorMicro: 300_000, modality: 'llm' });
    clock.set(utc(2026, 1, 11, 1, 5));
    await ledger.usage('acme');
    clock.set(utc(2026, 1, 11, 1, 6));
    await ledger.settle(settle('acme', 'e1', 500_000, { model: 'gpt-4.1-mini', units: { inputTokens: 10 } }));
    // Free: 2,600 credits reported against 2,500 left: 100 written off, never in the history.
    await ledger.reserve({ accountId: 'tiny', requestId: 'w1', microCredits: cr(1), ttlMs: 60_000 });
    t.same(await ledger.settle(settle('tiny', 'w1', cr(2600), { model: 'gpt-4.1' })), { applied: true, writtenOffMicro: cr(100) });

    const u = await ledger.usage('acme');
    t.equal(u.usedMicro, 1_500_000 + 166_000 + 2_000_000 + 500_000);
    t.equal(u.requestCount, 6);
    t.equal(u.lastRequestAt, utc(2026, 1, 11, 1, 6));

    const hours = hoursBetween(utc(2026, 1, 10, 20), utc(2026, 1, 11, 4));
    const hourly = total(await ledger.historyBuckets('acme', 'hour', hours));
    t.same(hourly, { micro: u.usedMicro, requests: u.requestCount, byok: 1, mod: u.breakdownMicro }, 'Σ hourly = the ledger');
    const daily = total(await ledger.historyBuckets('acme', 'day', ['20260110', '20260111', '20260112']));
    t.same(daily, hourly, 'Σ daily (Paris) = Σ hourly');

    const [d10, d11] = await ledger.historyBuckets('acme', 'day', ['20260110', '20260111']);
    t.equal(d10!.micro, 1_666_000, 'Paris 10 January: r1 and r2');
    t.equal(d10!.requests, 2);
    t.same(d10!.groups, [
      { modality: 'llm', model: 'gpt-4.1', micro: 1_500_000, requests: 1, units: { inputTokens: 1000, outputTokens: 500 } },
      { modality: 'tts', model: 'eleven_multilingual_v2', micro: 166_000, requests: 1, units: { chars: 1000 } },
    ]);
    t.same(d11!.groups, [
      { modality: 'llm', model: 'claude-sonnet-4', micro: 0, requests: 1, units: { inputTokens: 200, outputTokens: 100 } },
      { modality: 'llm', model: 'gpt-4.1-mini', micro: 200_000, requests: 0, units: { inputTokens: 10 } },
      { modality: 'llm', model: 'unknown', micro: 300_000, requests: 1, units: {} },
      { modality: 'rag', model: 'unknown', micro: 0, requests: 1, units: {} },
      { modality: 'stt', model: 'whisper-1', micro: 2_000_000, requests: 1, units: { audioMs: 60_000 } },
    ]);
    t.equal(d11!.byokRequests, 1);
    const [h22, h23] = await ledger.historyBuckets('acme', 'hour', ['2026011022', '2026011023']);
    t.equal(h22!.micro, 1_666_000, 'UTC 22:00: r1, r2');
    t.equal(h23!.micro, 2_000_000, 'UTC 23:00: r3, b1, f1');
    t.equal(h23!.requests, 3);
    t.equal((await ledger.historyBuckets('tiny', 'day', ['20260111']))[0]!.micro, cr(2500), 'the written-off part is not in the history');

    // Receipts: newest first, a cursor pages on, the expired floor and the late settle each have one.
    const all = await ledger.receipts('acme', { limit: 100 });
    t.same(all.receipts.map((r) => [r.requestId, r.micro, r.outcome]), [
      ['e1', 500_000, 'ok'],
      ['e1', 300_000, 'expired'],
      ['f1', 0, 'upstream_error'],
      ['b1', 0, 'ok'],
      ['r3', 2_000_000, 'ok'],
      ['r2', 166_000, 'ok'],
      ['r1', 1_500_000, 'ok'],
    ]);
    t.equal(all.next, null);
    t.match(all.receipts[6], { provider: 'openai', model: 'gpt-4.1', modality: 'llm', units: { inputTokens: 1000, outputTokens: 500 }, byok: false, keyId: 'k1', time: utc(2026, 1, 10, 22, 30) });
    t.match(all.receipts[3], { provider: 'anthropic', byok: true, micro: 0, units: { inputTokens: 200, outputTokens: 100 } });
    const p1 = await ledger.receipts('acme', { limit: 3 });
    t.same(p1.receipts.map((r) => r.requestId), ['e1', 'e1', 'f1']);
    const p2 = await ledger.receipts('acme', { limit: 3, cursor: p1.next! });
    t.same(p2.receipts.map((r) => r.requestId), ['b1', 'r3', 'r2']);
    const p3 = await ledger.receipts('acme', { limit: 3, cursor: p2.next! });
    t.same(p3.receipts.map((r) => r.requestId), ['r1']);
    t.equal(p3.next, null);
  });

  t.test(`${name}: past 40 models a bucket folds the rest into "other"; interim settles have no receipt; receipts capped`, async (t) => {
    const clock = manualClock(utc(2026, 3, 2, 9));
    const ledger = await make(clock, { hourlyRetentionDays: 35, dailyRetentionDays: 400, receiptsPerAccount: 5 });
    t.teardown(() => ledger.close());
    await ledger.ensureAccount({ id: 'many', tier: 'scale' });
    for (let i = 0; i < 45; i++) await ledger.settle(settle('many', `m${i}`, 1_000 + i, { model: `model-${String(i).padStart(2, '0')}`, units: { outputTokens: 1 } }));
    // A session: two interim settles (no receipt), then the final one, whose receipt is the session's.
    await ledger.settle(settle('many', 's:0', 7_000, { modality: 'stt', provider: 'deepgram', model: 'nova-3', units: { audioMs: 1000 }, receipt: false }));
    await ledger.settle(settle('many', 's:1', 7_000, { modality: 'stt', provider: 'deepgram', model: 'nova-3', units: { audioMs: 1000 }, receipt: false }));
    await ledger.settle(settle('many', 's:2', 3_000, { modality: 'stt', provider: 'deepgram', model: 'nova-3', units: { audioMs: 500 }, receipt: { requestId: 'sess', priorMicro: 14_000, units: { audioMs: 2500 } } }));
    const [b] = await ledger.historyBuckets('many', 'hour', [hourId(clock.now())]);
    t.equal(b!.groups.length, 42, '40 models, then llm/other and stt/other (nova-3 came 46th: folded)');
    const other = b!.groups.filter((g) => g.model === 'other');
    t.same(other.map((g) => [g.modality, g.requests, g.micro]), [
      ['llm', 5, 1_040 + 1_041 + 1_042 + 1_043 + 1_044],
      ['stt', 3, 17_000],
    ]);
    t.equal(b!.micro, 45 * 1_000 + (44 * 45) / 2 + 17_000, 'Σ exact with the fold');
    t.equal(b!.groups.reduce((s, g) => s + g.micro, 0), b!.micro);
    const [d] = await ledger.historyBuckets('many', 'day', [dayId(clock.now(), 'UTC')]);
    t.same(d, b, 'the day (UTC) holds the same');
    const r = await ledger.receipts('many', { limit: 100 });
    t.same(r.receipts.map((x) => x.requestId), ['sess', 'm44', 'm43', 'm42', 'm41'], 'one receipt per session; the newest 5 kept');
    t.match(r.receipts[0], { micro: 17_000, units: { audioMs: 2500 }, modality: 'stt', provider: 'deepgram' });
  });

  t.test(`${name}: property: Σ hourly = Σ daily = used, in any zone, for random workloads`, async (t) => {
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...zones),
        fc.array(fc.record({ gapMin: fc.integer({ min: 0, max: 600 }), micro: fc.integer({ min: 0, max: 5_000_000 }), byok: fc.boolean(), mod: fc.constantFrom('tts', 'stt', 'llm', 'rag'), model: fc.constantFrom('a', 'b', 'c', '') }), { minLength: 1, maxLength: 25 }),
        async (tz, ops) => {
          const clock = manualClock(utc(2026, 3, 28, 20));
          const ledger = await make(clock);
          try {
            const id = `p${run++}`;
            await ledger.ensureAccount({ id, tier: 'pro' });
            await ledger.updateAccount(id, { timeZone: tz });
            const start = clock.now();
            let i = 0;
            for (const op of ops) {
              clock.advance(op.gapMin * 60_000);
              await ledger.settle(settle(id, `q${i++}`, op.byok ? 0 : op.micro, { byok: op.byok, modality: op.mod as 'llm', ...(op.model ? { model: op.model } : {}), units: { queries: 1 } }));
            }
            const u = await ledger.usage(id);
            const h = total(await ledger.historyBuckets(id, 'hour', hoursBetween(start, clock.now() + 1)));
            const days: string[] = [];
            for (let d = start - 86_400_000; d <= clock.now() + 86_400_000; d += 3 * H) if (!days.includes(dayId(d, tz))) days.push(dayId(d, tz));
            const d = total(await ledger.historyBuckets(id, 'day', days));
            return h.micro === u.usedMicro && h.requests === u.requestCount && d.micro === u.usedMicro && d.requests === u.requestCount;
          } finally {
            await ledger.close();
          }
        },
      ),
      fcParams(15),
    );
  });
}

t.test('redis: a zone changed by another process moves the days written from then on', async (t) => {
  const clock = manualClock(utc(2026, 5, 1, 16, 30)); // 01:30 on 2 May in Tokyo
  const prefix = `hz${++n}`;
  const a = await createRedisLedger({ url: redis.url, keyPrefix: prefix, pricing: testPricing(), clock, logger: silentLogger });
  const b = await createRedisLedger({ url: redis.url, keyPrefix: prefix, pricing: testPricing(), clock, logger: silentLogger });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.ensureAccount({ id: 'z', tier: 'pro' });
  await a.settle(settle('z', 'z1', 1_000, { model: 'm' }));
  await b.updateAccount('z', { timeZone: 'Asia/Tokyo' });
  // Process a hears of the change on the account channel and reads the zone again.
  for (let i = 0; i < 100 && (await a.historyBuckets('z', 'day', ['20260502']))[0] === null; i++) {
    await a.settle(settle('z', `z${i + 2}`, 1_000, { model: 'm' }));
    await new Promise((r) => setTimeout(r, 20));
  }
  const [utcDay, tokyoDay] = await a.historyBuckets('z', 'day', ['20260501', '20260502']);
  t.ok(utcDay!.micro >= 1_000, 'the first settle is in the UTC day it was written in');
  const u = await a.usage('z');
  t.equal(utcDay!.micro + tokyoDay!.micro, u.usedMicro, 'every charge is in exactly one day');
  t.equal((await a.getAccount('z'))!.timeZone, 'Asia/Tokyo');
});

for (const [name, make] of BACKENDS) {
  t.test(`${name}: receiptsPerAccount 0 keeps no receipts; the history is kept all the same`, async (t) => {
    const clock = manualClock(utc(2026, 6, 1, 12));
    const ledger = await make(clock, { hourlyRetentionDays: 35, dailyRetentionDays: 400, receiptsPerAccount: 0 });
    t.teardown(() => ledger.close());
    await ledger.ensureAccount({ id: 'quiet', tier: 'pro' });
    await ledger.reserve({ accountId: 'quiet', requestId: 'x1', microCredits: cr(1), ttlMs: 60_000, floorMicro: 5_000, modality: 'tts' });
    await ledger.settle(settle('quiet', 'q1', 7_000, { model: 'm' }));
    clock.advance(120_000);
    await ledger.usage('quiet');
    t.same((await ledger.receipts('quiet', { limit: 10 })).receipts, []);
    const [b] = await ledger.historyBuckets('quiet', 'hour', [hourId(clock.now())]);
    t.equal(b!.micro, 12_000, 'the settle and the expired floor');
    t.equal(b!.requests, 2);
  });
}
