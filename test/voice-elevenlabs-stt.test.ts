import t from 'tap';
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixtureJson, settledLog, wavBytes } from './voice-audio-fixtures.js';

t.test('ElevenLabs Scribe through the SDK: 60 s WAV = 6 credits, measured by tollgate', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.body.includes('cloud_storage_url')) json(res, 200, fixtureJson('elevenlabs/stt-url-response.json'));
    else json(res, 200, fixtureJson('elevenlabs/stt-response.json'));
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: up.url, apiKey: 'xi-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new ElevenLabsClient({ apiKey: TEST_KEY, baseUrl: tg.base('elevenlabs') });

  const wav = wavBytes(60_000);
  const r = await client.speechToText.convert({ modelId: 'scribe_v1', file: new Blob([wav], { type: 'audio/wav' }) });
  t.equal((r as { text: string }).text, 'Hello world.');
  t.equal(up.requests[0]!.headers['xi-api-key'], 'xi-platform-key');
  t.ok(up.requests[0]!.body.includes(wav.subarray(0, 1000)), 'the file reaches the provider intact');
  await tg.app.pipeline.idle(2000);
  let u = await tg.usage();
  t.equal(u.breakdown.stt, 6);
  t.match(log.records[0], { modality: 'stt', microCredits: 6_000_000, units: { audioMs: 60_000 }, source: 'measured', reported: { audioMs: 60_000 } });

  // Audio by URL: only the provider's audio_duration_secs (150.5 s) can price it: 15.05 credits.
  await client.speechToText.convert({ modelId: 'scribe_v1', cloudStorageUrl: 'https://storage.example.com/call.mp3' });
  await tg.app.pipeline.idle(2000);
  u = await tg.usage();
  t.equal(u.breakdown.stt, 21.05);
  t.match(log.records[1], { microCredits: 15_050_000, units: { audioMs: 150_500 }, source: 'provider' });
});

t.test('file_format=pcm_s16le_16: raw 16 kHz PCM is bytes ÷ 32,000 per second', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, { ...fixtureJson<object>('elevenlabs/stt-response.json'), audio_duration_secs: 30 }));
  const log = settledLog();
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: up.url, apiKey: 'xi-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new ElevenLabsClient({ apiKey: TEST_KEY, baseUrl: tg.base('elevenlabs') });
  await client.speechToText.convert({ modelId: 'scribe_v1', fileFormat: 'pcm_s16le_16', file: new Blob([Buffer.alloc(32_000 * 30)]) });
  await tg.app.pipeline.idle(2000);
  t.match(log.records[0], { microCredits: 3_000_000, units: { audioMs: 30_000 }, source: 'measured' });
});
