// Redis down longer than the old settle retry budget (about 16 s) under load: every settle that
// could not reach it waits in the process's journal on disk and lands exactly once when Redis
// is back (restarted on the same port with its data: AOF). A tollgate without the journal
// dropped them after its retries ("settlement failed after retries").

import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { logRecords } from '../helpers/ops-process.js';
import { startOpsStack } from '../helpers/ops-stack.js';

const KEY = 'tg_outage_journal_key_00000000001';
const N = 30;
const TEXT = 'y'.repeat(1000); // 15 credits a request at 15 per 1,000 code points
const OUTAGE_MS = 18_000;

t.test('Redis down 18 s with 30 settles due: all land exactly once when it returns', async (t) => {
  const stack = await startOpsStack(t, { key: KEY, keyPrefix: 'out', persistence: 'aof', journal: true });
  const { redis, up } = stack;
  const tg = await stack.start();
  const speech = () => stack.speech(tg.proxyUrl, TEXT);
  const readyz = async () => {
    const r = await fetch(`${tg.adminUrl}/readyz`);
    return { status: r.status, body: (await r.json()) as { journaled?: number; ledgerReason?: string } };
  };
  const usage = () => stack.usage(tg.adminUrl);

  t.equal((await speech()).status, 200, 'warm-up');
  stack.hold();
  const inflight = Array.from({ length: N }, () => speech().then((r) => r.status));
  const deadline = Date.now() + 20_000;
  while (up.requests.length < N + 1 && Date.now() < deadline) await sleep(20);
  t.equal(up.requests.length, N + 1, 'the provider works on all 30');
  await sleep(200); // their reservation records reach Redis

  await redis.kill();
  const downAt = Date.now();
  stack.release(); // the provider answers now: 30 settles due, Redis gone
  t.same(new Set(await Promise.all(inflight)), new Set([200]), 'every client got its answer');
  while ((await readyz()).body.journaled !== N && Date.now() < deadline + 10_000) await sleep(50);
  const down = await readyz();
  t.equal(down.status, 503, 'not ready while Redis is down');
  t.equal(down.body.journaled, N, 'all 30 settles wait in the journal');

  await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now()));
  await redis.restart();
  let ready = await readyz();
  const back = Date.now() + 20_000;
  while ((ready.status !== 200 || ready.body.journaled !== undefined) && Date.now() < back) {
    await sleep(100);
    ready = await readyz();
  }
  t.equal(ready.status, 200, 'ready again');
  t.equal(ready.body.journaled, undefined, 'the journal is empty');
  let u = await usage();
  t.equal(u.credits.used, (N + 1) * 15, '31 requests at 15 credits: every settle landed');
  t.equal(u.requestCount, N + 1, 'each exactly once');
  t.equal(u.reserved, 0, 'every reservation released');
  await sleep(1_000);
  u = await usage();
  t.equal(u.credits.used, (N + 1) * 15, 'and nothing more later');
  t.equal(logRecords(tg, 'settlement failed after retries').length, 0, 'none dropped');
  t.equal(logRecords(tg, 'journaled settles replayed').reduce((n, r) => n + Number(r.settled), 0), N, 'replayed once');
});
