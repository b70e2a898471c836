import t from 'tap';
import Groq, { toFile } from 'groq-sdk';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const read = (name: string): Buffer => readFileSync(new URL(name, fixtures));

t.test('groq transcription errors cost nothing: a Groq 400 is free; audio by url on a Free account that cannot cover the reservation bound is refused before Groq sees it', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 400, JSON.parse(read('groq/stt-error-invalid-url.json').toString())));
  // 100 credits: less than the 120 a url transcription reserves (3,600 s at 2 per minute).
  const tg = await startTollgate({ providers: { groq: { baseUrl: up.url, apiKey: 'gsk_platform' } }, tiers: { free: { includedCredits: 100 } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new Groq({ apiKey: TEST_KEY, baseURL: tg.base('groq'), maxRetries: 0 });

  const failed = await client.audio.transcriptions.create({ file: await toFile(read('audio/tone-60s.ogg'), 'tone.ogg'), model: 'whisper-large-v3' }).catch((e: unknown) => e);
  t.ok(failed instanceof Groq.BadRequestError);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a provider error costs 0');

  const refused = await client.audio.transcriptions.create({ url: 'https://storage.example.com/a.ogg', model: 'whisper-large-v3' }).catch((e: unknown) => e);
  t.ok(refused instanceof Groq.APIError);
  t.equal((refused as InstanceType<typeof Groq.APIError>).status, 402);
  t.match((refused as InstanceType<typeof Groq.APIError>).error, { error: { code: 'insufficient_credits' } });
  t.equal(up.requests.length, 1, 'the refused request never reached Groq');
  t.equal((await tg.usage()).credits.used, 0);
});
