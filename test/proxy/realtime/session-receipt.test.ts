// A realtime session has one receipt, written by its final settle: its id is the handshake's
// x-tollgate-request-id, its credits and units the whole session's. Interim settles (which show
// the session in /v1/usage while it runs) write none; the history holds the session exactly.
// Deepgram live STT against the local fake, on the Redis ledger (the Lua path).

import t from 'tap';
import WebSocket from 'ws';
import { startRedis } from '../../helpers/redis.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { sinePcm, startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';

const CHUNK = 3_200; // 100 ms of 16 kHz 16-bit mono

t.test('20 s of audio with an interim settle in between: one receipt of 3 credits, found by the session id', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ redis: { url: redis.url }, providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } }, realtime: { settleIntervalMs: 200 } }, { tier: 'pro' });
  t.teardown(() => tg.close());
  const events = async () => (await (await fetch(`${tg.adminUrl}/v1/usage/events`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as any;

  const ws = new WebSocket(`${tg.proxyUrl.replace('http', 'ws')}/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&channels=1`, { headers: { authorization: `Token ${TEST_KEY}` } });
  let sessionId: string | undefined;
  ws.on('upgrade', (res) => {
    sessionId = res.headers['x-tollgate-request-id'] as string;
  });
  ws.on('message', () => {});
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  t.match(sessionId, /^[0-9a-f-]{36}$/, 'the handshake carries the session id');

  const audio = sinePcm(20);
  for (let i = 0; i < audio.length / 2; i += CHUNK) ws.send(audio.subarray(i, i + CHUNK));
  await until(async () => (await tg.usage()).credits.used === 1.5, 'an interim settle of 10 s (1.5 credits)');
  t.same((await events()).events, [], 'an interim settle writes no receipt');
  for (let i = audio.length / 2; i < audio.length; i += CHUNK) ws.send(audio.subarray(i, i + CHUNK));
  ws.send(JSON.stringify({ type: 'CloseStream' }));
  t.equal(await closed, 1000);
  await until(async () => (await tg.usage()).reserved === 0 && (await tg.usage()).credits.used === 3, 'the final settle');

  const ev = await events();
  t.equal(ev.events.length, 1, 'one receipt for the session');
  t.match(ev.events[0], { requestId: sessionId, provider: 'deepgram', modality: 'stt', credits: 3, units: { audioMs: 20_000 }, outcome: 'ok', byok: false });
  const h = (await (await fetch(`${tg.adminUrl}/v1/usage/history?granularity=month&groupBy=modality`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as any;
  t.equal(h.buckets.length, 1);
  t.match(h.buckets[0].groups, [{ modality: 'stt', credits: 3, units: { audioMs: 20_000 } }], 'the history holds the session exactly');
});
