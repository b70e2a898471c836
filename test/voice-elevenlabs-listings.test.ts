import t from 'tap';
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

// The listings the SDK calls pass on the platform key, free and uncounted; other routes are
// refused unless BYOK.
t.test('ElevenLabs voices and models listings are free; an unlisted route is unknown_route', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.path === '/v1/models') return json(res, 200, [{ model_id: 'eleven_multilingual_v2', name: 'Eleven Multilingual v2', can_do_text_to_speech: true }]);
    if (req.path === '/v2/voices') return json(res, 200, { voices: [{ voice_id: '21m00Tcm4TlvDq8ikWAM', name: 'Rachel' }], has_more: false, total_count: 1 });
    return json(res, 200, { voices: [{ voice_id: '21m00Tcm4TlvDq8ikWAM', name: 'Rachel' }] });
  });
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: up.url, apiKey: 'xi-platform-key' } } });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new ElevenLabsClient({ apiKey: TEST_KEY, baseUrl: tg.base('elevenlabs'), maxRetries: 0 });

  t.equal((await client.models.list())[0]!.modelId, 'eleven_multilingual_v2');
  t.equal((await client.voices.getAll()).voices[0]!.name, 'Rachel');
  t.equal((await client.voices.search({ pageSize: 10 })).voices[0]!.name, 'Rachel');
  t.same(up.requests.map((r) => r.headers['xi-api-key']), ['xi-platform-key', 'xi-platform-key', 'xi-platform-key']);

  const r = await fetch(`${tg.base('elevenlabs')}/v1/user/subscription`, { headers: { 'xi-api-key': TEST_KEY } });
  t.equal(r.status, 404);
  t.match(await r.json(), { detail: { status: 'unknown_route' } });
  t.equal(up.requests.length, 3, "the platform's account data is not reachable");

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 0);
  t.equal(u.requestCount, 0);
});
