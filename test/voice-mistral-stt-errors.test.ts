import t from 'tap';
import { Mistral } from '@mistralai/mistralai';
import * as errors from '@mistralai/mistralai/models/errors';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const read = (name: string): Buffer => readFileSync(new URL(name, fixtures));

t.test('mistral transcription errors cost nothing: a Mistral 401 is free, a Free account past its credits is refused before Mistral sees the upload', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 401, JSON.parse(read('mistral/stt-error-unauthorized.json').toString())));
  const tg = await startTollgate({ providers: { mistral: { baseUrl: up.url, apiKey: 'mistral-platform' } }, tiers: { free: { includedCredits: 1 } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new Mistral({ apiKey: TEST_KEY, serverURL: tg.base('mistral') });
  // 44,016 bytes of Ogg reserve 11.004 s = 1.4672 credits at 8 per minute: over a 1-credit tier.
  const ogg = read('audio/tone-60s.ogg');
  const small = ogg.subarray(0, 6_000); // 1.5 s reserved = 0.2 credits: forwarded

  const failed = await client.audio.transcriptions.complete({ model: 'voxtral-mini-latest', file: { fileName: 'a.ogg', content: small } }).catch((e: unknown) => e);
  t.ok(failed instanceof errors.MistralError);
  t.equal((failed as errors.MistralError).statusCode, 401);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a provider error costs 0');

  const refused = await client.audio.transcriptions.complete({ model: 'voxtral-mini-latest', file: { fileName: 'tone.ogg', content: ogg } }).catch((e: unknown) => e);
  t.ok(refused instanceof errors.MistralError);
  t.equal((refused as errors.MistralError).statusCode, 402);
  t.match((refused as errors.MistralError).body, /insufficient_credits/);
  t.equal(up.requests.length, 1, 'the refused upload never reached Mistral');
  t.equal((await tg.usage()).credits.used, 0);
});
