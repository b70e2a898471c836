import t from 'tap';
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/kokoro/${name}`, import.meta.url), 'utf8'));

t.test("kokoro errors cost nothing: the server's 400 is free, and a Free account past its credits gets the openai SDK's 402 before Kokoro sees it", async (t) => {
  const up = await startUpstream((_req, res) => json(res, 400, fixture('error-voice-not-found.json')));
  const tg = await startTollgate({ providers: { kokoro: { baseUrl: up.url } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('kokoro')}/v1`, maxRetries: 0 });

  const failed = await client.audio.speech.create({ model: 'kokoro', voice: 'af_nobody', input: 'Hello.' }).catch((e: unknown) => e);
  t.ok(failed instanceof OpenAI.BadRequestError);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a provider error costs 0');

  // 625,001 characters at 4 credits per 1,000 = 2,500.004 credits > 2,500.
  const refused = await client.audio.speech.create({ model: 'kokoro', voice: 'af_bella', input: 'z'.repeat(625_001) }).catch((e: unknown) => e);
  t.ok(refused instanceof OpenAI.APIError);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).status, 402);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).code, 'insufficient_credits');
  t.equal(up.requests.length, 1, 'the refused request never reached Kokoro');
  t.equal((await tg.usage()).credits.used, 0);
});
