import t from 'tap';
import Cartesia, { toFile } from '@cartesia/cartesia-js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixture, fixtureJson, pcmBytes, settledLog, wavBytes } from './voice-audio-fixtures.js';

t.test('Cartesia batch STT through the SDK: 60 s of audio = 10 credits, measured by tollgate', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, fixtureJson('cartesia/stt-response.json')));
  const log = settledLog();
  const tg = await startTollgate({ providers: { cartesia: { baseUrl: up.url, apiKey: 'sk_car_platform' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new Cartesia({ apiKey: TEST_KEY, baseURL: tg.base('cartesia'), maxRetries: 0 });

  const r = await client.stt.transcribe({ file: await toFile(wavBytes(60_000), 'call.wav', { type: 'audio/wav' }), model: 'ink-whisper', language: 'en' });
  t.equal(r.text, 'Hello, world!');
  t.equal(up.requests[0]!.headers.authorization, 'Bearer sk_car_platform');
  // A FLAC file, and raw PCM declared by the query (encoding, sample_rate): 60 s and 12 s.
  await tg.app.pipeline.idle(2000);
  await client.stt.transcribe({ file: await toFile(fixture('audio/tone-60s.flac'), 'a.flac'), model: 'ink-whisper' });
  await tg.app.pipeline.idle(2000);
  await client.stt.transcribe({ file: await toFile(pcmBytes(12_000), 'a.raw'), model: 'ink-whisper', encoding: 'pcm_s16le', sample_rate: 16000 });
  await tg.app.pipeline.idle(2000);
  // Sorted: measurements settle when their parse ends, not always in request order.
  t.same(log.records.map((x) => [x.units.audioMs, x.microCredits, x.source, x.reported?.audioMs]).sort((a, b) => Number(a[0]) - Number(b[0])), [
    [12_000, 2_000_000, 'measured', 60_000],
    [60_000, 10_000_000, 'measured', 60_000],
    [60_000, 10_000_000, 'measured', 60_000],
  ]);
  const u = await tg.usage();
  t.equal(u.breakdown.stt, 22);
  t.equal(u.credits.used, 22);
});
