import t from 'tap';
import { DeepgramClient } from '@deepgram/sdk';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixture, fixtureJson, settledLog, textOfCodePoints } from './voice-audio-fixtures.js';

t.test('Deepgram Aura through the SDK, audio streamed back in chunks: chars × 30 / 1,000', async (t) => {
  const mp3 = fixture('audio/tone-60s-cbr.mp3');
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, fixtureJson('deepgram/speak-response-headers.json'));
    for (let i = 0; i < 8; i++) {
      res.write(mp3.subarray(i * 4096, (i + 1) * 4096));
      await new Promise((r) => setTimeout(r, 2));
    }
    res.end();
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: up.url, apiKey: 'dg-platform-key' } } }, { tier: 'free', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.base('deepgram') });

  const text = textOfCodePoints(1000);
  const audio = await client.speak.v1.audio.generate({ text, model: 'aura-2-thalia-en' });
  const got = Buffer.from(await audio.arrayBuffer());
  t.same(got, mp3.subarray(0, 8 * 4096));
  const seen = up.requests[0]!;
  t.equal(seen.path, '/v1/speak');
  t.equal(seen.query.get('model'), 'aura-2-thalia-en');
  t.equal(seen.headers.authorization, 'Token dg-platform-key');
  t.same(JSON.parse(seen.body.toString()), { text });

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.breakdown.tts, 30);
  t.equal(u.credits.used, 30);
  t.match(log.records[0], { units: { chars: 1000 }, reported: { chars: 51 }, microCredits: 30_000_000, source: 'request', model: 'aura-2-thalia-en' });
});
