import t from 'tap';
import Cartesia from '@cartesia/cartesia-js';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { settledLog, textOfCodePoints, wavBytes } from './voice-audio-fixtures.js';

t.test('Cartesia /tts/bytes through the SDK: 1,000 code points = 78 credits', async (t) => {
  const wav = wavBytes(500);
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.end(wav);
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { cartesia: { baseUrl: up.url, apiKey: 'sk_car_platform' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new Cartesia({ apiKey: TEST_KEY, baseURL: tg.base('cartesia'), maxRetries: 0 });

  const transcript = textOfCodePoints(1000);
  const res = await client.tts.generate({
    model_id: 'sonic-3',
    transcript,
    voice: { mode: 'id', id: '694f9389-aac1-45b6-b726-9d9369183238' },
    output_format: { container: 'wav', encoding: 'pcm_s16le', sample_rate: 16000 },
  });
  t.same(Buffer.from(await res.arrayBuffer()), wav);
  const seen = up.requests[0]!;
  t.equal(seen.path, '/tts/bytes');
  t.equal(seen.headers.authorization, 'Bearer sk_car_platform');
  t.ok(seen.headers['cartesia-version'], 'the client\'s Cartesia-Version passes through');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY);

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.breakdown.tts, 78);
  t.match(log.records[0], { provider: 'cartesia', model: 'sonic-3', units: { chars: 1000 }, microCredits: 78_000_000, source: 'request' });
});

t.test("an older client's X-API-Key is taken as the tollgate key; upstream gets Bearer", async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.end(wavBytes(10));
  });
  const tg = await startTollgate({ providers: { cartesia: { baseUrl: up.url, apiKey: 'sk_car_platform' } } }, { tier: 'starter' });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const r = await fetch(`${tg.base('cartesia')}/tts/bytes`, {
    method: 'POST',
    headers: { 'x-api-key': TEST_KEY, 'cartesia-version': '2024-06-10', 'content-type': 'application/json' },
    body: JSON.stringify({ model_id: 'sonic-english', transcript: 'Hello, world!', voice: { mode: 'id', id: 'v' }, output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 44100 } }),
  });
  t.equal(r.status, 200);
  await r.arrayBuffer();
  t.equal(up.requests[0]!.headers.authorization, 'Bearer sk_car_platform');
  t.equal(up.requests[0]!.headers['x-api-key'], undefined);
  t.equal(up.requests[0]!.headers['cartesia-version'], '2024-06-10');
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).breakdown.tts, 1.014, '13 code points × 78 / 1,000');
});
