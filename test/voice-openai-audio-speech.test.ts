import t from 'tap';
import OpenAI from 'openai';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('openai text-to-speech: refused as unpriced_model by default; with an operator price, 1,000 code points at 15 = 15 credits', async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    res.end(Buffer.alloc(2048, 0xff));
  });
  const unpriced = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } });
  const priced = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, pricing: { tts: { openai: 15 } } });
  t.teardown(async () => {
    await unpriced.close();
    await priced.close();
    await up.close();
  });
  const input = 'o'.repeat(999) + '🗣';

  const refused = await new OpenAI({ apiKey: TEST_KEY, baseURL: `${unpriced.base('openai')}/v1`, maxRetries: 0 }).audio.speech
    .create({ model: 'gpt-4o-mini-tts', voice: 'coral', input })
    .catch((e: unknown) => e);
  t.ok(refused instanceof OpenAI.BadRequestError);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).code, 'unpriced_model');
  t.equal(up.requests.length, 0, 'an unpriced request never reaches OpenAI');

  const speech = await new OpenAI({ apiKey: TEST_KEY, baseURL: `${priced.base('openai')}/v1` }).audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'coral', input });
  t.equal((await speech.arrayBuffer()).byteLength, 2048);
  t.equal(up.requests[0]!.path, '/v1/audio/speech');
  t.equal(up.requests[0]!.headers.authorization, 'Bearer sk-platform');
  await priced.app.pipeline.idle(2000);
  const u = await priced.usage();
  t.equal(u.credits.used, 15);
  t.equal(u.breakdown.tts, 15);
});
