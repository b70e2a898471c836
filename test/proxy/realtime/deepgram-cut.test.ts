// Enforcement inside a Deepgram live session and at its handshake: a Free account with 3
// credits left is cut after exactly 20 s of audio (640,000 bytes reach the provider, close 4402
// insufficient_credits); the next handshake is refused with HTTP 402 (not a close, so the SDK's
// retries stay cheap); the per-account cap answers 429 too_many_sessions; 401 and 404 likewise.

import t from 'tap';
import { DeepgramClient } from '@deepgram/sdk';
import { WebSocket } from 'ws';
import { startRedis } from '../../helpers/redis.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { sinePcm, startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';

const CREDIT = 1_000_000;

/** The upgrade's HTTP refusal: status and JSON body. */
function refusal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', () => {});
    ws.once('unexpected-response', (_req, res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(s) }));
    });
  });
}

t.test('Free with 3 credits left: cut after exactly 20 s (640,000 bytes upstream), 4402; then 402 at the handshake', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ redis: { url: redis.url }, providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  // 2,500 included: spend 2,497 so 3 are left.
  await tg.app.ledger.settle({ accountId: 'acct', requestId: 'earlier', modality: 'llm', provider: 'openai', byok: false, microCredits: 2_497 * CREDIT, units: {}, outcome: 'ok' });
  t.equal((await tg.usage()).credits.remaining, 3);

  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.proxyUrl.replace('http', 'ws') + '/deepgram' });
  const socket = await client.listen.v1.connect({ model: 'nova-3', encoding: 'linear16', sample_rate: 16000, channels: 1, Authorization: '', reconnectAttempts: 0 });
  const closed = new Promise<{ code: number; reason: string }>((r) => socket.socket.addEventListener('close', (e) => r({ code: e.code, reason: e.reason })));
  socket.connect();
  await socket.waitForOpen();
  // 30 s offered in 100 ms frames (and one odd 1,001-byte frame so the cut falls inside a frame).
  const audio = sinePcm(30);
  socket.sendMedia(audio.subarray(0, 1_001));
  for (let i = 1_001; i < audio.length; i += 3_200) socket.sendMedia(audio.subarray(i, Math.min(i + 3_200, audio.length)));
  const end = await closed;
  t.same(end, { code: 4402, reason: 'insufficient_credits' }, 'close 4402 insufficient_credits');
  await until(() => dg.connections[0]?.closed !== undefined, 'the provider side closed');
  t.equal(dg.connections[0]!.bytes, 640_000, 'the provider received exactly 20 s of audio');
  await until(async () => (await tg.usage()).reserved === 0, 'the final settle');
  const u = await tg.usage();
  t.equal(u.credits.used, 2_500, 'exactly the 3 credits left were spent (20 s at 9 credits a minute)');
  t.equal(u.credits.remaining, 0);
  t.equal(u.breakdown.stt, 3);
  t.equal(u.reserved, 0, 'nothing left reserved');

  const wsBase = tg.proxyUrl.replace('http', 'ws');
  const r = await refusal(`${wsBase}/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000`, { authorization: `Token ${TEST_KEY}` });
  t.equal(r.status, 402, 'no credits: HTTP 402 at the handshake, not a close');
  t.match(r.body, { err_code: 'insufficient_credits', err_msg: /insufficient credits/ }, "Deepgram's error shape");
  t.equal(dg.connections.length, 1, 'the provider never saw the refused session');
});

t.test('per-account session cap → 429 too_many_sessions; bad key 401; unmetered path 404', async (t) => {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } }, realtime: { maxSessionsPerAccount: { free: 2 } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  const url = `${tg.proxyUrl.replace('http', 'ws')}/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000`;
  const open = async () => {
    const ws = new WebSocket(url, ['token', TEST_KEY]);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    t.equal(ws.protocol, 'token', "the 101 selects 'token', never the key");
    return ws;
  };
  const a = await open();
  const b = await open();
  const r = await refusal(url, { authorization: `Token ${TEST_KEY}` });
  t.equal(r.status, 429);
  t.equal(r.body.err_code, 'too_many_sessions');
  t.equal(dg.connections.length, 2, 'the third session never reached the provider');
  a.close();
  await until(() => tg.app.realtime.open() === 1, 'one session closed');
  const c = await open();
  t.pass('a slot frees when a session ends');
  b.close();
  c.close();

  t.equal((await refusal(url, { authorization: 'Token tg_wrong_key_000000000000000' })).status, 401);
  t.equal((await refusal(url)).body.err_code, 'invalid_api_key', 'no key at all: 401');
  const nf = await refusal(`${tg.proxyUrl.replace('http', 'ws')}/deepgram/v1/agent/converse`, { authorization: `Token ${TEST_KEY}` });
  t.equal(nf.status, 404);
  t.equal(nf.body.err_code, 'unknown_route');
  t.equal(dg.connections.length, 3);
});
