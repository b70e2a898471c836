import t from 'tap';
import { encode } from '@msgpack/msgpack';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixtureJson, textOfCodePoints, wavBytes } from './voice-audio-fixtures.js';

t.test('Fish Audio: a 402 from Fish costs 0; past the Free cap tollgate refuses before Fish sees it', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 402, fixtureJson('fishaudio/error-402.json')));
  const tg = await startTollgate({ providers: { fishaudio: { baseUrl: up.url, apiKey: 'fish-platform-key' } } }, { tier: 'free' });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const post = (path: string, body: Uint8Array) =>
    fetch(`${tg.base('fishaudio')}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/msgpack', model: 's1' }, body });

  const r1 = await post('/v1/tts', encode({ text: 'hello' }));
  t.equal(r1.status, 402);
  t.same(await r1.json(), fixtureJson('fishaudio/error-402.json'), "Fish's own answer passes through");
  const r2 = await post('/v1/asr', encode({ audio: wavBytes(2_000) }));
  t.equal(r2.status, 402);
  await r2.arrayBuffer();
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0);
  t.equal(up.requests.length, 2);

  // 250,100 code points × 10 / 1,000 = 2,501 credits > 2,500
  const r3 = await post('/v1/tts', encode({ text: textOfCodePoints(250_100) }));
  t.equal(r3.status, 402);
  t.match(await r3.json(), { status: 402, code: 'insufficient_credits' });
  t.equal(up.requests.length, 2);
});
