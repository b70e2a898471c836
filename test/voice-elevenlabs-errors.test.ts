import t from 'tap';
import { ElevenLabsClient, ElevenLabsError } from '@elevenlabs/elevenlabs-js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixtureJson, textOfCodePoints } from './voice-audio-fixtures.js';

t.test('a provider error costs nothing; past the Free cap the provider never sees the request', async (t) => {
  let status = 422;
  const up = await startUpstream((_req, res) => json(res, status, fixtureJson(status === 422 ? 'elevenlabs/error-422.json' : 'elevenlabs/error-401.json')));
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: up.url, apiKey: 'xi-platform-key' } } }, { tier: 'free' });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new ElevenLabsClient({ apiKey: TEST_KEY, baseUrl: tg.base('elevenlabs'), maxRetries: 0 });

  t.equal(await statusOf(client.textToSpeech.convert('v', { text: 'hello' })), 422);
  status = 500;
  t.equal(await statusOf(client.textToSpeech.convert('v', { text: 'hello' })), 500);
  await tg.app.pipeline.idle(2000);
  let u = await tg.usage();
  t.equal(u.credits.used, 0, '4xx and 5xx answers cost 0');
  t.equal(up.requests.length, 2);

  // 15,100 code points = 2,506.6 credits: more than Free's 2,500.
  const err = await client.textToSpeech.convert('v', { text: textOfCodePoints(15_100) }).catch((e: unknown) => e);
  t.ok(err instanceof ElevenLabsError);
  t.equal((err as ElevenLabsError).statusCode, 402);
  t.match((err as ElevenLabsError).body, { detail: { status: 'insufficient_credits' } }, "in ElevenLabs' error shape");
  t.equal(up.requests.length, 2, 'refused before the provider saw it');

  // The reservation is exact: 15,060 code points (2,499.96 credits) fit, one more does not.
  status = 200;
  await client.textToSpeech.convert('v', { text: textOfCodePoints(15_060) });
  await tg.app.pipeline.idle(2000);
  u = await tg.usage();
  t.equal(u.credits.used, 2499.96);
  t.equal(await statusOf(client.textToSpeech.convert('v', { text: 'ab' })), 402, '0.332 credits more would pass 2,500');
  t.equal(await statusOf(client.textToSpeech.convert('v', { text: '' })), 200, 'an empty text costs 0 and passes');
  t.equal(up.requests.length, 4);
});

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    return (e as ElevenLabsError).statusCode ?? -1;
  }
}

t.test('a wrong tollgate key is refused with 401 in the same shape', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, {}));
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: up.url, apiKey: 'xi-platform-key' } } });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new ElevenLabsClient({ apiKey: 'tg_wrong_key_000000000000000000', baseUrl: tg.base('elevenlabs'), maxRetries: 0 });
  const err = (await client.textToSpeech.convert('v', { text: 'hello' }).catch((e: unknown) => e)) as ElevenLabsError;
  t.equal(err.statusCode, 401);
  t.match(err.body, { detail: { status: 'invalid_api_key' } });
  t.equal(up.requests.length, 0);
});
