import t from 'tap';
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixture, fixtureJson, settledLog, textOfCodePoints } from './voice-audio-fixtures.js';

t.test('ElevenLabs TTS through the SDK: 1,000 code points (emoji included) = 166 credits', async (t) => {
  const mp3 = fixture('audio/tone-60s-cbr.mp3').subarray(0, 4096);
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, fixtureJson('elevenlabs/tts-response-headers.json'));
    res.end(mp3);
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: up.url, apiKey: 'xi-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });

  const text = textOfCodePoints(1000);
  t.equal(text.length, 1100, '100 emoji are two UTF-16 units each');
  const client = new ElevenLabsClient({ apiKey: TEST_KEY, baseUrl: tg.base('elevenlabs') });
  const audio = await client.textToSpeech.convert('21m00Tcm4TlvDq8ikWAM', { text, modelId: 'eleven_multilingual_v2' });
  const chunks: Uint8Array[] = [];
  for await (const c of audio) chunks.push(c);
  t.same(Buffer.concat(chunks), mp3, 'the audio passes through unchanged');

  const seen = up.requests[0]!;
  t.equal(seen.path, '/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM');
  t.equal(seen.headers['xi-api-key'], 'xi-platform-key', 'the platform key goes upstream');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY, "the customer's key never reaches the provider");
  t.equal(JSON.parse(seen.body.toString()).text, text);

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 166);
  t.equal(u.breakdown.tts, 166);
  t.equal(u.requestCount, 1);
  t.match(log.records[0], { provider: 'elevenlabs', modality: 'tts', model: 'eleven_multilingual_v2', microCredits: 166_000_000, units: { chars: 1000 }, reported: { chars: 1000 }, source: 'request' });
});
