// The journal outlives its process: settles journaled while Redis is down, the process killed
// with -9 before Redis returns, Redis back, and the next process to start on the same journal
// dir adopts the dead one's file and replays it: exact totals. A second start replays nothing.

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logRecords } from '../helpers/ops-process.js';
import { startOpsStack } from '../helpers/ops-stack.js';

const KEY = 'tg_journal_next_key_0000000000001';
const N = 25;
const TEXT = 'z'.repeat(2000); // 30 credits a request at 15 per 1,000 code points

t.test('kill -9 with settles journaled; the next process replays them once', async (t) => {
  const stack = await startOpsStack(t, { key: KEY, keyPrefix: 'next', persistence: 'aof', journal: true });
  const { redis, up } = stack;
  const journalDir = stack.journalDir!;
  const a = await stack.start();
  const speech = (url: string) => stack.speech(url, TEXT);
  const journaled = async (adminUrl: string) => ((await (await fetch(`${adminUrl}/readyz`)).json()) as { journaled?: number }).journaled ?? 0;
  const usage = (adminUrl: string) => stack.usage(adminUrl);
  const journalFiles = () => readdirSync(journalDir).filter((f) => f.includes('.journal'));

  t.equal((await speech(a.proxyUrl)).status, 200, 'warm-up');
  stack.hold();
  const inflight = Array.from({ length: N }, () => speech(a.proxyUrl).then((r) => r.status));
  const deadline = Date.now() + 30_000;
  while (up.requests.length < N + 1 && Date.now() < deadline) await sleep(20);
  t.equal(up.requests.length, N + 1);
  await sleep(200);
  await redis.kill();
  stack.release();
  t.same(new Set(await Promise.all(inflight)), new Set([200]));
  while ((await journaled(a.adminUrl)) !== N && Date.now() < deadline) await sleep(50);
  // `journaled` counts a settle from when it is handed to the journal; its line reaches the disk
  // with the next batch's fsync (50 ms; longer on a loaded machine): wait for all N lines.
  const linesOnDisk = () => journalFiles().reduce((n, f) => n + readFileSync(join(journalDir, f), 'utf8').split('\n').filter((l) => l.trim() !== '').length, 0);
  while (linesOnDisk() < N && Date.now() < deadline + 10_000) await sleep(50);
  t.equal(await journaled(a.adminUrl), N, 'all 25 settles on disk');
  t.equal(journalFiles().length, 1, 'in one journal file, the process’s own');

  await a.stop('SIGKILL');
  await redis.restart();

  const b = await stack.start();
  let u = await usage(b.adminUrl);
  while (u.requestCount !== N + 1 && Date.now() < deadline + 20_000) {
    await sleep(100);
    u = await usage(b.adminUrl);
  }
  t.equal(u.credits.used, (N + 1) * 30, '26 requests at 30 credits');
  t.equal(u.requestCount, N + 1);
  t.equal(u.reserved, 0, 'the dead process’s reservations released by their settles');
  while (journalFiles().length > 0 && Date.now() < deadline + 25_000) await sleep(50);
  t.same(journalFiles(), [], 'the adopted file is gone once replayed');
  await sleep(1_500); // log lines are flushed at least every second
  t.equal(logRecords(b, 'adopted the settle journal of a process that is gone').length, 1);
  t.equal(logRecords(b, 'journaled settles replayed').reduce((n, r) => n + Number(r.settled), 0), N);
  await b.stop('SIGTERM');

  const c = await stack.start();
  await sleep(1_500);
  u = await usage(c.adminUrl);
  t.equal(u.credits.used, (N + 1) * 30, 'a second start changes nothing');
  t.equal(u.requestCount, N + 1);
  t.equal(logRecords(c, 'adopted the settle journal of a process that is gone').length, 0, 'nothing to adopt');
  t.equal(logRecords(c, 'journaled settles replayed').length, 0, 'nothing replayed');
  await c.stop('SIGTERM');
});
