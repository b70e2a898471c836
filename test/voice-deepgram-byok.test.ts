import t from 'tap';
import { DeepgramClient } from '@deepgram/sdk';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixtureJson, wavBytes } from './voice-audio-fixtures.js';

t.test("Deepgram BYOK: the customer's own key goes upstream, costs 0, and the audio is still measured", async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.path === '/v1/models') return json(res, 200, { stt: [{ name: 'nova-3', canonical_name: 'nova-3' }], tts: [] });
    return json(res, 200, fixtureJson('deepgram/listen-response.json'));
  });
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: up.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.base('deepgram'), headers: { 'X-Provider-Key-Deepgram': 'dg-customer-own-key' } });

  await client.listen.v1.media.transcribeFile(wavBytes(60_000), { model: 'nova-3' });
  const models = await client.manage.v1.models.list();
  t.match(models, { stt: [{ name: 'nova-3' }] });
  t.equal(up.requests[0]!.headers.authorization, 'Token dg-customer-own-key');
  t.equal(up.requests[0]!.headers['x-provider-key-deepgram'], undefined, 'the BYOK header itself is not forwarded');
  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 0);
  t.equal(u.requestCount, 2);
  t.match(u.byok, { requestCount: 2, usage: { stt: { seconds: 60 } } }, 'BYOK requests count, their audio is reported under byok');
});
