import t from 'tap';
import { DeepgramClient } from '@deepgram/sdk';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixture, fixtureJson, pcmBytes, settledLog, wavBytes } from './voice-audio-fixtures.js';

t.test('Deepgram pre-recorded STT through the SDK: 60 s of WAV = 9 credits', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, fixtureJson('deepgram/listen-response.json')));
  const log = settledLog();
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: up.url, apiKey: 'dg-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.base('deepgram') });

  const wav = wavBytes(60_000);
  const r = await client.listen.v1.media.transcribeFile(wav, { model: 'nova-3', smart_format: true });
  t.equal((r as { results: { channels: Array<{ alternatives: Array<{ transcript: string }> }> } }).results.channels[0]!.alternatives[0]!.transcript, 'hello world');
  const seen = up.requests[0]!;
  t.equal(seen.path, '/v1/listen');
  t.equal(seen.query.get('model'), 'nova-3');
  t.equal(seen.headers.authorization, 'Token dg-platform-key', 'the platform key, in Deepgram\'s scheme');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY);
  t.same(seen.body, wav, 'the body reaches Deepgram byte for byte');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 9);
  t.equal(u.breakdown.stt, 9);
  t.match(log.records[0], { provider: 'deepgram', modality: 'stt', model: 'nova-3', microCredits: 9_000_000, units: { audioMs: 60_000 }, source: 'measured', reported: { audioMs: 60_000 } });
});

t.test('raw PCM described by encoding, sample_rate and channels; containers by their headers', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, fixtureJson('deepgram/listen-response.json')));
  const log = settledLog();
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: up.url, apiKey: 'dg-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.base('deepgram') });

  // 20 s of 8 kHz stereo linear16 = 640,000 bytes: 3 credits.
  // (The SDK types have no sample_rate/channels for files; the API takes them, so they go as extra query parameters.)
  await client.listen.v1.media.transcribeFile(pcmBytes(20_000, { sampleRate: 8_000, channels: 2, bitsPerSample: 16 }), { model: 'nova-3', encoding: 'linear16' }, { queryParams: { sample_rate: 8000, channels: 2 } });
  // An MP3 without an Xing header: 60.012 s by its frame count = 9.0018 credits.
  await client.listen.v1.media.transcribeFile(fixture('audio/tone-60s-cbr.mp3'), { model: 'nova-3' });
  // OGG/Opus: 60 s = 9 credits.
  await client.listen.v1.media.transcribeFile(fixture('audio/tone-60s.ogg'), { model: 'nova-3' });
  await tg.app.pipeline.idle(2000);
  // Sorted: a measurement still parsing when its response ends settles when it is done, so an
  // MP3's record can follow the next request's on a busy machine.
  t.same(log.records.map((r) => [r.units.audioMs, r.microCredits, r.source]).sort((a, b) => Number(a[0]) - Number(b[0])), [
    [20_000, 3_000_000, 'measured'],
    [60_000, 9_000_000, 'measured'],
    [60_012, 9_001_800, 'measured'],
  ]);
  t.equal((await tg.usage()).breakdown.stt, 21.0018);
});
