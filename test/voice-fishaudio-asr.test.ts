import t from 'tap';
import { encode } from '@msgpack/msgpack';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixture, fixtureJson, multipart, settledLog, wavBytes } from './voice-audio-fixtures.js';

t.test('Fish Audio /v1/asr: msgpack (Python SDK) and multipart (Go SDK) uploads, 60 s = 8 credits', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, fixtureJson('fishaudio/asr-response.json')));
  const log = settledLog();
  const tg = await startTollgate({ providers: { fishaudio: { baseUrl: up.url, apiKey: 'fish-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });

  const packed = Buffer.from(encode({ audio: wavBytes(60_000), ignore_timestamps: false, language: 'en' }));
  const r1 = await fetch(`${tg.base('fishaudio')}/v1/asr`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/msgpack' }, body: packed });
  t.match(await r1.json(), { text: /Hello world/ });
  t.same(up.requests[0]!.body, packed);
  t.equal(up.requests[0]!.headers.authorization, 'Bearer fish-platform-key');
  await tg.app.pipeline.idle(2000);

  const form = multipart([
    { name: 'audio', value: fixture('audio/tone-60s.webm'), filename: 'audio.webm', contentType: 'audio/webm' },
    { name: 'ignore_timestamps', value: 'false' },
  ]);
  await fetch(`${tg.base('fishaudio')}/v1/asr`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': form.contentType }, body: form.body }).then((r) => r.json());
  await tg.app.pipeline.idle(2000);

  // The provider's 60000.0 is read as milliseconds: its segments end at 59.74 s.
  // Sorted: measurements settle when their parse ends, not always in request order.
  t.same(log.records.map((x) => [x.units.audioMs, x.microCredits, x.source, x.reported?.audioMs]).sort((a, b) => Number(a[0]) - Number(b[0])), [
    [60_000, 8_000_000, 'measured', 60_000],
    [60_008, 8_001_067, 'measured', 60_000],
  ]);
  t.equal((await tg.usage()).breakdown.stt, 16.001067);
});
