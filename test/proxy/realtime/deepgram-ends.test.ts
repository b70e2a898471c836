// Ends of a Deepgram live session, each billing exactly what passed and leaving nothing
// reserved: a client killed (SIGKILL) after 30 s of audio = 4.5 credits; the provider closing
// with its own code and reason (1011 NET-0001) reaches the client unchanged; SIGTERM on a real
// tollgate process closes open sessions with 1001 after shutdown.graceMs and settles them.

import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { DeepgramClient } from '@deepgram/sdk';
import { createPricing } from '../../../pricing/index.js';
import { createRedisLedger } from '../../../ledger/index.js';
import { systemClock } from '../../../ledger/types.js';
import { pino } from 'pino';
import { startRedis } from '../../helpers/redis.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { logRecords, startOpsProcess } from '../../helpers/ops-process.js';
import { sinePcm, startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';

const CHILD = fileURLToPath(new URL('../../helpers/realtime/dg-stream-child.js', import.meta.url));

t.test('a client killed after 30 s of audio = 4.5 credits, nothing left reserved', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ redis: { url: redis.url }, providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  const child = spawn(process.execPath, [CHILD, tg.proxyUrl.replace('http', 'ws'), TEST_KEY, '30'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((r) => createInterface({ input: child.stdout! }).on('line', (l) => l === 'sent' && r()));
  await until(() => dg.connections[0]?.bytes === 960_000, 'the provider got 30 s');
  child.kill('SIGKILL');
  await until(() => dg.connections[0]?.closed !== undefined, 'tollgate closed the provider side');
  await until(async () => (await tg.usage()).requestCount >= 1 && (await tg.usage()).reserved === 0 && tg.app.realtime.open() === 0, 'the final settle');
  const u = await tg.usage();
  t.equal(u.credits.used, 4.5, '30 s = exactly 4.5 credits');
  t.equal(u.reserved, 0, 'nothing left reserved');
  t.equal(dg.connections[0]!.closed!.code, 1000, 'the provider side was closed normally');
});

t.test("the provider's close code and reason reach the client unchanged; what passed is billed", async (t) => {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.proxyUrl.replace('http', 'ws') + '/deepgram' });
  const socket = await client.listen.v1.connect({ model: 'nova-3', encoding: 'linear16', sample_rate: 16000, Authorization: '', reconnectAttempts: 0 });
  const closed = new Promise<{ code: number; reason: string }>((r) => socket.socket.addEventListener('close', (e) => r({ code: e.code, reason: e.reason })));
  socket.connect();
  await socket.waitForOpen();
  socket.sendMedia(sinePcm(4));
  await until(() => dg.connections[0]?.bytes === 128_000, 'the provider got 4 s');
  dg.connections[0]!.ws.close(1011, 'NET-0001');
  t.same(await closed, { code: 1011, reason: 'NET-0001' });
  await until(async () => tg.app.realtime.open() === 0 && (await tg.usage()).reserved === 0, 'settled');
  const u = await tg.usage();
  t.equal(u.credits.used, 0.6, '4 s at 9 credits a minute');
  t.equal(u.reserved, 0);
});

t.test('SIGTERM: open sessions close with 1001 after shutdown.graceMs, and settle', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const p = await startOpsProcess({
    redis: { url: redis.url },
    workers: 1,
    shutdown: { graceMs: 300 },
    providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } },
    accounts: [{ id: 'acct', tier: 'free', apiKeys: [TEST_KEY] }],
  });
  t.teardown(() => p.stop('SIGKILL'));
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: p.proxyUrl.replace('http', 'ws') + '/deepgram' });
  const socket = await client.listen.v1.connect({ model: 'nova-3', encoding: 'linear16', sample_rate: 16000, Authorization: '', reconnectAttempts: 0 });
  const closed = new Promise<{ code: number; reason: string }>((r) => socket.socket.addEventListener('close', (e) => r({ code: e.code, reason: e.reason })));
  socket.connect();
  await socket.waitForOpen();
  socket.sendMedia(sinePcm(10));
  await until(() => dg.connections[0]?.bytes === 320_000, 'the provider got 10 s');
  const exit = p.stop('SIGTERM', 60_000);
  t.same(await closed, { code: 1001, reason: 'shutting down' }, 'close 1001');
  t.equal(await exit, 0, 'tollgate exits cleanly');
  const final = logRecords(p, 'settled').filter((r) => r.final === true);
  t.equal(final.length, 1, 'one final settled line');
  t.match(final[0], { end: 'shutdown', closeCode: 1001, sessionMicroCredits: 1_500_000, provider: 'deepgram', status: 101 });
  const ledger = await createRedisLedger({ url: redis.url, pricing: createPricing(), clock: systemClock, logger: pino({ level: 'silent' }) });
  t.teardown(() => ledger.close());
  const u = await ledger.usage('acct');
  t.equal(u.usedMicro, 1_500_000, '10 s = 1.5 credits, settled before the exit');
  t.equal(u.reservedMicro, 0, 'nothing left reserved');
});
