import t from 'tap';
import { encode } from '@msgpack/msgpack';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixture, fixtureJson, settledLog, textOfCodePoints, wavBytes } from './voice-audio-fixtures.js';

// Fish Audio has no Node SDK among ours: requests are made the way fish-audio-python 1.3 makes
// them (msgpack body, `model` header, Bearer key) and as JSON (the HTTP API's other body).
t.test('Fish Audio /v1/tts, msgpack and JSON bodies, audio streamed back: chars × 10 / 1,000', async (t) => {
  const mp3 = fixture('audio/tone-60s-cbr.mp3');
  const up = await startUpstream(async (req, res) => {
    if (req.path === '/model') return json(res, 200, fixtureJson('fishaudio/model-list.json'));
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'transfer-encoding': 'chunked' });
    for (let i = 0; i < 4; i++) {
      res.write(mp3.subarray(i * 2048, (i + 1) * 2048));
      await new Promise((r) => setTimeout(r, 3));
    }
    res.end();
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { fishaudio: { baseUrl: up.url, apiKey: 'fish-platform-key' } } }, { tier: 'free', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });

  const text = textOfCodePoints(1000);
  const packed = encode({ text, chunk_length: 200, format: 'mp3', mp3_bitrate: 128, references: [{ audio: wavBytes(300), text: 'ref' }], reference_id: null, normalize: true, latency: 'balanced' });
  const r1 = await fetch(`${tg.base('fishaudio')}/v1/tts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/msgpack', model: 's2-pro' },
    body: packed,
  });
  t.equal(r1.status, 200);
  t.same(Buffer.from(await r1.arrayBuffer()), mp3.subarray(0, 8192));
  const seen = up.requests[0]!;
  t.equal(seen.headers.authorization, 'Bearer fish-platform-key');
  t.equal(seen.headers.model, 's2-pro');
  t.same(seen.body, Buffer.from(packed), 'the msgpack body is forwarded as sent');

  const r2 = await fetch(`${tg.base('fishaudio')}/v1/tts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', model: 's1' },
    body: JSON.stringify({ text: 'Hello 🐟 world', format: 'wav' }),
  });
  await r2.arrayBuffer();

  // The voice listing the SDK uses is free.
  const r3 = await fetch(`${tg.base('fishaudio')}/model?page_size=10`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  t.match(await r3.json(), { total: 1 });

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  // 1,000 + 13 code points × 10 / 1,000 = 10.13 credits
  t.equal(u.breakdown.tts, 10.13);
  t.equal(u.requestCount, 2, 'the free listing is not a metered request');
  t.same(log.records.map((x) => [x.model, x.units.chars, x.microCredits]), [['s2-pro', 1000, 10_000_000], ['s1', 13, 130_000]]);
});

t.test('Fish Audio TTS without text is refused before the provider sees it', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, {}));
  const tg = await startTollgate({ providers: { fishaudio: { baseUrl: up.url, apiKey: 'fish-platform-key' } } });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const r = await fetch(`${tg.base('fishaudio')}/v1/tts`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/msgpack' }, body: encode({ format: 'mp3' }) });
  t.equal(r.status, 400);
  t.match(await r.json(), { status: 400, code: 'invalid_request' });
  t.equal(up.requests.length, 0);
});
