// Deepgram live STT through tollgate with @deepgram/sdk (listen v1) against a local fake socket
// server: a 60 s session of 16 kHz linear16 mono bills exactly 9 credits (the seed's Deepgram
// STT row, 9 credits a minute), interim settles show in /v1/usage while it runs, nothing stays
// reserved, the session counts as one request, and the tollgate key never reaches the provider
// (headers, query, subprotocols); the SDK's x-deepgram-session-id reaches Deepgram (header or
// browser subprotocol); Flux `/v2/listen` bills its audio the same way.

import t from 'tap';
import { DeepgramClient } from '@deepgram/sdk';
import { startRedis } from '../../helpers/redis.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { sinePcm, startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';

const CHUNK = 3_200; // 100 ms of 16 kHz 16-bit mono

t.test('60 s of linear16 = 9 credits, settled live and once at the end (Redis ledger)', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate(
    { redis: { url: redis.url }, providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } }, realtime: { settleIntervalMs: 200 } },
    { tier: 'free' },
  );
  t.teardown(() => tg.close());

  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.proxyUrl.replace('http', 'ws') + '/deepgram' });
  const socket = await client.listen.v1.connect({ model: 'nova-3', encoding: 'linear16', sample_rate: 16000, channels: 1, Authorization: `Token ${TEST_KEY}`, reconnectAttempts: 0 });
  const messages: Array<{ type: string; duration?: number }> = [];
  socket.on('message', (m) => messages.push(m as { type: string; duration?: number }));
  const closed = new Promise<{ code: number; reason: string }>((r) => socket.socket.addEventListener('close', (e) => r({ code: e.code, reason: e.reason })));
  socket.connect();
  await socket.waitForOpen();

  const audio = sinePcm(60);
  t.equal(audio.length, 1_920_000);
  // The first 30 s, then wait for an interim settle while the session is still open.
  for (let i = 0; i < 960_000; i += CHUNK) socket.sendMedia(audio.subarray(i, i + CHUNK));
  socket.sendKeepAlive({ type: 'KeepAlive' });
  await until(() => dg.connections[0]?.bytes === 960_000, 'the fake got 30 s');
  await until(async () => (await tg.usage()).credits.used === 4.5, 'an interim settle of 4.5 credits');
  const live = await tg.usage();
  t.equal(live.credits.used, 4.5, 'the open session shows in /v1/usage: 30 s = 4.5 credits');
  t.ok(live.reserved > 0, 'and it holds a reservation ahead while it runs');
  t.equal(live.requestCount, 0, 'an interim settle counts no request');
  t.equal(dg.connections[0]!.closed, undefined, 'the session is still open');

  for (let i = 960_000; i < audio.length; i += CHUNK) socket.sendMedia(audio.subarray(i, i + CHUNK));
  socket.sendCloseStream({ type: 'CloseStream' });
  const end = await closed;
  t.same(end, { code: 1000, reason: '' }, "the provider's close reaches the client unchanged");

  await until(async () => (await tg.usage()).reserved === 0 && (await tg.usage()).credits.used === 9, 'the final settle');
  const u = await tg.usage();
  t.equal(u.credits.used, 9, '60 s of 16 kHz linear16 mono = exactly 9 credits');
  t.equal(u.breakdown.stt, 9);
  t.equal(u.reserved, 0, 'nothing left reserved');
  t.equal(u.requestCount, 1, 'the session is one request, however many settles it took');

  const c = dg.connections[0]!;
  t.equal(c.bytes, 1_920_000, 'every byte reached the provider');
  t.same(c.texts.map((x) => JSON.parse(x).type), ['KeepAlive', 'CloseStream'], 'control frames stay text frames');
  t.equal(c.headers.authorization, 'Token dg-platform-key', "the platform key goes upstream in Deepgram's header");
  t.notOk(JSON.stringify(c.headers).includes(TEST_KEY), 'the tollgate key is in no upstream header');
  t.notOk(c.url.includes(TEST_KEY), 'nor in the query');
  t.equal(c.protocols, '', 'no subprotocol goes upstream');
  t.match(c.headers['x-deepgram-session-id'], /^[0-9a-f-]{36}$/, "the SDK's session id header passes through");
  t.same(Object.fromEntries(c.query), { model: 'nova-3', encoding: 'linear16', sample_rate: '16000', channels: '1' });
  const meta = messages.find((m) => m.type === 'Metadata');
  t.equal(meta?.duration, 60, "Deepgram's Metadata reaches the client");
  t.equal(messages.filter((m) => m.type === 'Results').length, 60);

  // Metrics: the session, its frames and bytes each way, no cut-off.
  const metrics = await (await fetch(`${tg.adminUrl}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(metrics)?.[1]);
  const textBytes = c.texts.reduce((n, x) => n + Buffer.byteLength(x), 0);
  t.equal(metric('tollgate_realtime_sessions_total{provider="deepgram",end="provider_close"}'), 1);
  t.equal(metric('tollgate_realtime_sessions_open{provider="deepgram"}'), 0);
  t.equal(metric('tollgate_realtime_frames_total{provider="deepgram",direction="client"}'), 602, '600 audio frames, KeepAlive, CloseStream');
  t.equal(metric('tollgate_realtime_bytes_total{provider="deepgram",direction="client"}'), 1_920_000 + textBytes);
  t.equal(metric('tollgate_realtime_frames_total{provider="deepgram",direction="provider"}'), 61, '60 Results and the Metadata');
  t.notOk(/tollgate_realtime_cutoffs_total\{/.test(metrics), 'no cut-off');
});

t.test('the key in the query (?token=) or the browser subprotocol is removed too; a BYOK session bills 0 and counts its audio', async (t) => {
  const dg = await startFakeDeepgram({ key: 'dg-customer-own' });
  t.teardown(() => dg.close());
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(`${tg.proxyUrl.replace('http', 'ws')}/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&keyterm=a&keyterm=b&token=${TEST_KEY}`, {
    headers: { 'x-provider-key-deepgram': 'dg-customer-own' },
  });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  ws.send(sinePcm(2));
  ws.send(JSON.stringify({ type: 'CloseStream' }));
  await new Promise((r) => ws.once('close', r));
  const c = dg.connections[0]!;
  t.equal(c.url, '/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&keyterm=a&keyterm=b', 'the token parameter is gone; duplicate keys pass unchanged');
  t.equal(c.headers.authorization, 'Token dg-customer-own', 'the BYOK key goes upstream');
  t.equal(c.headers['x-provider-key-deepgram'], undefined);
  await until(async () => (await tg.usage()).byok.requestCount === 1, 'the BYOK settle');
  const u = await tg.usage();
  t.equal(u.credits.used, 0, 'BYOK: zero credits');
  t.match(u.byok.usage.stt, { seconds: 2 }, 'BYOK: the audio is still counted');
});

t.test("x-deepgram-session-id from the browser's subprotocol pair goes upstream as the header; Flux /v2/listen bills 10 s = 1.5 credits", async (t) => {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  const { WebSocket } = await import('ws');
  const sid = '6a1f4c52-8a53-4b8e-9a3e-2d2f0c1b7e11';
  const ws = new WebSocket(`${tg.proxyUrl.replace('http', 'ws')}/deepgram/v2/listen?model=flux-general-en&encoding=linear16&sample_rate=16000`, ['token', TEST_KEY, 'x-deepgram-session-id', sid]);
  const types: string[] = [];
  ws.on('message', (d) => types.push(JSON.parse(String(d)).type));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  t.equal(ws.protocol, 'token', "the 101 selects 'token'");
  ws.send(sinePcm(10));
  ws.send(JSON.stringify({ type: 'CloseStream' }));
  t.equal(await closed, 1005, 'Flux closes without a status code: the client sees the same');
  const c = dg.connections[0]!;
  t.equal(c.path, '/v2/listen');
  t.equal(c.headers['x-deepgram-session-id'], sid, 'the session id reaches Deepgram as its header');
  t.equal(c.protocols, '', 'no subprotocol goes upstream');
  t.equal(c.headers.authorization, 'Token dg-platform-key');
  t.equal(c.bytes, 320_000);
  t.same(types, ['Connected', ...Array(10).fill('TurnInfo')]);
  await until(async () => tg.app.realtime.open() === 0 && (await tg.usage()).requestCount === 1, 'settled');
  const u = await tg.usage();
  t.equal(u.credits.used, 1.5, "10 s at Deepgram's STT row (9 credits a minute)");
  t.equal(u.reserved, 0);
});
