import t from 'tap';
import { DeepgramClient, DeepgramError } from '@deepgram/sdk';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixtureJson, wavBytes } from './voice-audio-fixtures.js';

t.test('Deepgram: a 400 answer costs 0; a Free account out of credits gets 402 before Deepgram sees it', async (t) => {
  let status = 400;
  const up = await startUpstream((_req, res) => json(res, status, status === 400 ? fixtureJson('deepgram/error-400.json') : fixtureJson('deepgram/listen-response.json')));
  // Free, with a reservation bound of 1,000 bytes a second: a 60 s WAV reserves 1,920 s = 288 credits.
  const tg = await startTollgate({ proxy: { sttReserveBytesPerSecond: 1000 }, providers: { deepgram: { baseUrl: up.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.base('deepgram'), maxRetries: 0 });

  const e1 = await client.listen.v1.media.transcribeFile(wavBytes(1_000), { model: 'nova-3' }).catch((e: unknown) => e);
  t.ok(e1 instanceof DeepgramError);
  t.equal((e1 as DeepgramError).statusCode, 400);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a provider error costs nothing');

  // Spend 2,490 of Free's 2,500 credits on TTS (83,000 chars × 30 / 1,000).
  status = 200;
  await fetch(`${tg.base('deepgram')}/v1/speak?model=aura-2-thalia-en`, {
    method: 'POST',
    headers: { authorization: `Token ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'x'.repeat(83_000) }),
  }).then((r) => r.arrayBuffer());
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 2490);
  const before = up.requests.length;
  const e2 = await client.listen.v1.media.transcribeFile(wavBytes(60_000), { model: 'nova-3' }).catch((e: unknown) => e);
  t.equal((e2 as DeepgramError).statusCode, 402);
  t.match((e2 as DeepgramError).body, { err_code: 'insufficient_credits' }, "Deepgram's error shape");
  t.equal(up.requests.length, before, 'Deepgram never saw it');
});
