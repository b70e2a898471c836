// A reserve tollgate gives up on (its script call timed out: the request answers 503
// ledger_unavailable and is never forwarded) but that Redis still applies: the release journaled
// with the refusal takes its reservation back at no charge when Redis answers again, instead of
// the reservation expiring at its floor (issue 18's leftover). Redis is made slow, not down, with
// CLIENT PAUSE: the call times out in tollgate, then runs.

import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createRedisLedger } from '../../ledger/index.js';
import { startRedis } from '../helpers/redis.js';
import { manualClock, utc } from '../helpers/ledger-clock.js';
import { cr, testPricing } from '../helpers/ledger-pricing.js';

const silent = pino({ level: 'silent' });
const redis = await startRedis();
t.teardown(() => redis.stop());

async function open(t: Test, journal: boolean, prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-abandon-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clock = manualClock(utc(2026, 1, 10));
  const ledger = await createRedisLedger({
    url: redis.url,
    keyPrefix: prefix,
    pricing: testPricing(),
    clock,
    logger: silent,
    commandTimeoutMs: 150,
    ...(journal ? { journal: { dir, maxBytes: 1 << 20 } } : {}),
  });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'free1', tier: 'free' });
  return { ledger, clock };
}

/** The reserve's script call is held past tollgate's 150 ms timeout, then Redis runs it. */
async function reserveThatTimesOut(ledger: Awaited<ReturnType<typeof open>>['ledger'], requestId: string): Promise<string> {
  const admin = redis.client();
  await admin.call('CLIENT', 'PAUSE', '400', 'ALL');
  const err = await ledger.reserve({ accountId: 'free1', requestId, microCredits: cr(7), floorMicro: cr(7), modality: 'tts', ttlMs: 10_000 }).then(
    () => 'admitted',
    (e: { code?: string }) => String(e.code),
  );
  await sleep(450); // the pause ends; Redis runs the reserve tollgate gave up on
  await admin.quit();
  return err;
}

t.test('a timed-out reserve that Redis applied anyway is released at no charge', async (t) => {
  const { ledger } = await open(t, true, 'ab1');
  t.equal(await reserveThatTimesOut(ledger, 'r-timeout'), 'ledger_unavailable', 'tollgate gave up on the reserve (the request answers 503)');
  const before = await ledger.usage('free1');
  // Whether Redis had applied it by now depends on the pause; the release must cover both.
  t.comment(`held after the pause, before the replay: ${before.reservedMicro} µcr`);
  t.equal(await ledger.replayJournal(), 1, 'one release waited in the journal and was applied once');
  const u = await ledger.usage('free1');
  t.equal(u.reservedMicro, 0, 'nothing held');
  t.equal(u.usedMicro, 0, 'nothing charged');
  t.equal(u.requestCount, 0, 'a request never forwarded counts nowhere');
  t.equal(await ledger.replayJournal(), 0, 'nothing left to replay');
  // The reserve, were it to arrive now, holds nothing: its marker says settled.
  t.same(await ledger.reserve({ accountId: 'free1', requestId: 'r-timeout', microCredits: cr(7), floorMicro: cr(7), modality: 'tts', ttlMs: 10_000 }), { ok: true });
  t.equal((await ledger.usage('free1')).reservedMicro, 0, 'a late copy of the reserve holds nothing');
});

t.test('the reservation would otherwise have been held, and charged its floor at expiry', async (t) => {
  // The same timeout on a ledger without a journal: the reservation Redis applied stays.
  const { ledger, clock } = await open(t, false, 'ab2');
  t.equal(await reserveThatTimesOut(ledger, 'r-timeout'), 'ledger_unavailable');
  t.equal((await ledger.usage('free1')).reservedMicro, cr(7), 'held though the request was refused');
  clock.advance(11_000);
  const u = await ledger.usage('free1');
  t.equal(u.usedMicro, cr(7), 'charged its 7-credit floor once it expired: what the journaled release prevents');
});

t.test('a release beside a settled request of the account changes nothing else', async (t) => {
  const { ledger } = await open(t, true, 'ab3');
  await ledger.reserve({ accountId: 'free1', requestId: 'done', microCredits: cr(3), ttlMs: 10_000 });
  await ledger.settle({ accountId: 'free1', requestId: 'done', modality: 'tts', provider: 'openai', byok: false, microCredits: cr(2), units: {}, outcome: 'ok' });
  t.equal(await reserveThatTimesOut(ledger, 'r2'), 'ledger_unavailable');
  t.equal(await ledger.replayJournal(), 1);
  const u = await ledger.usage('free1');
  t.equal(u.usedMicro, cr(2), 'the settled request keeps its 2 credits');
  t.equal(u.requestCount, 1);
  t.equal(u.reservedMicro, 0);
});
