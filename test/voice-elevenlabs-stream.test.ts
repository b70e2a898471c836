import t from 'tap';
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixture, settledLog } from './voice-audio-fixtures.js';

// Streamed TTS: the audio (or NDJSON with base64 audio and alignment) flows chunk by chunk, and
// the charge is the text's code points, known before the first byte.
t.test('ElevenLabs /stream and /stream/with-timestamps through the SDK, chunk by chunk', async (t) => {
  const mp3 = fixture('audio/tone-60s-cbr.mp3');
  const ndjson = fixture('elevenlabs/stream-with-timestamps.ndjson').toString().trim().split('\n');
  const up = await startUpstream(async (req, res) => {
    if (req.path.endsWith('/with-timestamps')) {
      res.writeHead(200, { 'content-type': 'application/json', 'character-cost': '6' });
      for (const line of ndjson) {
        res.write(`${line}\n`);
        await new Promise((r) => setTimeout(r, 5));
      }
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'character-cost': '6' });
    for (let i = 0; i < 5; i++) {
      res.write(mp3.subarray(i * 1000, (i + 1) * 1000));
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: up.url, apiKey: 'xi-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new ElevenLabsClient({ apiKey: TEST_KEY, baseUrl: tg.base('elevenlabs') });

  const audio = await client.textToSpeech.stream('voice1', { text: 'Hello world 🌍', modelId: 'eleven_flash_v2_5' });
  let bytes = 0;
  for await (const c of audio) bytes += c.length;
  t.equal(bytes, 5000);

  const events = await client.textToSpeech.streamWithTimestamps('voice1', { text: 'Hello world', modelId: 'eleven_flash_v2_5' });
  const chars: string[] = [];
  let n = 0;
  for await (const e of events) {
    n++;
    chars.push(...(e.alignment?.characters ?? []));
  }
  t.equal(n, 3, 'every NDJSON chunk reaches the SDK');
  t.equal(chars.join(''), 'Hello world');

  t.same(up.requests.map((r) => r.path), ['/v1/text-to-speech/voice1/stream', '/v1/text-to-speech/voice1/stream/with-timestamps']);
  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  // 13 + 11 code points at 166 credits / 1,000 = 3.984 credits
  t.equal(u.breakdown.tts, 3.984);
  t.same(log.records.map((r) => [r.units.chars, r.reported?.chars, r.microCredits]), [[13, 6, 2_158_000], [11, 6, 1_826_000]]);
});
