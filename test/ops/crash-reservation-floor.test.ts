// kill -9 of a tollgate process with requests in flight on a paid account admitted locally (no
// reserve round trip): each request's reservation record reached Redis beside the settles, so
// once the reservation ttl (15 s here) has passed, each is charged its floor, the documented
// estimate (TTS: the whole text, 1,000 code points at 15 credits per 1,000 = 15 credits), once.
// On a tollgate without reservation records the same crash charged nothing.

import t from 'tap';
import { pino } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPricing } from '../../pricing/index.js';
import { createRedisLedger, systemClock } from '../../ledger/index.js';
import { startOpsStack } from '../helpers/ops-stack.js';

const KEY = 'tg_crash_floor_key_000000000000001';
const N = 20;
const TEXT = 'x'.repeat(1000);
const PER_REQUEST = 15_000_000; // µcr: 1,000 code points × 15 credits per 1,000

t.test('kill -9 with 20 requests in flight: each is charged its floor after the reservation ttl', async (t) => {
  const stack = await startOpsStack(t, { key: KEY, keyPrefix: 'crash', config: { proxy: { reservationTtlMs: 15_000 } } });
  const { redis, up } = stack;
  const tg = await stack.start();
  const speech = () => stack.speech(tg.proxyUrl, TEXT);
  const reserves = async () => {
    const text = await (await fetch(`${tg.adminUrl}/metrics`)).text();
    return Number(/^tollgate_ledger_script_seconds_count\{op="reserve"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  const usage = () => stack.usage(tg.adminUrl);

  // The warm-up: its reserve goes to Redis and reads the account's terms (pro, no limit). The
  // others are held for ever: the process dies first.
  t.equal((await speech()).status, 200);
  stack.hold();
  await sleep(300);
  t.equal(await reserves(), 1, 'one reserve round trip so far');

  const t0 = Date.now();
  const inflight = Array.from({ length: N }, () => speech().catch(() => undefined));
  const deadline = Date.now() + 20_000;
  while (up.requests.length < N + 1 && Date.now() < deadline) await sleep(20);
  t.equal(up.requests.length, N + 1, 'the provider is working on all 20');
  t.comment(`all at the provider in ${Date.now() - t0} ms`);
  t.equal(await reserves(), 1, 'all 20 admitted locally (no reserve round trip)');
  // Their records reach Redis beside the settles (within openSettleDelayMs): 20 × 15 credits held.
  while ((await usage()).reserved !== 300 && Date.now() < deadline) await sleep(20);
  let u = await usage();
  t.equal(u.reserved, 300, 'the 20 reservations are held in Redis');
  t.equal(u.credits.used, 15, 'only the warm-up is charged');

  await tg.stop('SIGKILL');
  await Promise.all(inflight);

  const pricing = createPricing({ tts: { openai: 15 } }, {});
  const ledger = await createRedisLedger({ url: redis.url, keyPrefix: 'crash', pricing, clock: systemClock, logger: pino({ level: 'silent' }) });
  t.teardown(() => ledger.close());
  let snap = await ledger.usage('acme');
  t.equal(snap.reservedMicro, N * PER_REQUEST, 'still held before the ttl');
  while (snap.reservedMicro > 0 && Date.now() < deadline + 20_000) {
    await sleep(200);
    snap = await ledger.usage('acme');
  }
  t.equal(snap.usedMicro, (N + 1) * PER_REQUEST, 'the warm-up, and each crashed request at its floor: 21 × 15 credits');
  t.equal(snap.breakdownMicro.tts, (N + 1) * PER_REQUEST);
  t.equal(snap.requestCount, N + 1);
  t.equal(snap.reservedMicro, 0);
  snap = await ledger.usage('acme');
  t.equal(snap.usedMicro, (N + 1) * PER_REQUEST, 'charged once');
});
