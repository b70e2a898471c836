import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/qwen/${name}`, import.meta.url), 'utf8'));
const PATH = '/api/v1/services/aigc/multimodal-generation/generation';

t.test('qwen errors cost nothing: a DashScope failure is free; an unpriced chat model and a Free account past its credits are refused before DashScope sees them', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 401, fixture('error-invalid-api-key.json')));
  const tg = await startTollgate({ providers: { qwen: { baseUrl: up.url, apiKey: 'sk-dashscope' } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const post = (body: unknown) =>
    fetch(`${tg.base('qwen')}${PATH}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const failed = await post({ model: 'qwen3-tts-flash', input: { text: '你好', voice: 'Cherry' } });
  t.equal(failed.status, 401);
  t.same(await failed.json(), fixture('error-invalid-api-key.json'));
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a provider error costs 0');

  const chat = await post({ model: 'qwen-vl-max', input: { messages: [{ role: 'user', content: [{ text: 'hi' }] }] } });
  t.equal(chat.status, 400);
  t.match(await chat.json(), { code: 'unpriced_model' });

  // 626,000 characters at 4 credits per 1,000 = 2,504 credits > 2,500.
  const refused = await post({ model: 'qwen3-tts-flash', input: { text: '字'.repeat(626_000), voice: 'Cherry' } });
  t.equal(refused.status, 402);
  t.match(await refused.json(), { code: 'insufficient_credits', message: /insufficient credits/ });
  t.equal(up.requests.length, 1, 'neither refused request reached DashScope');
  t.equal((await tg.usage()).credits.used, 0);
});
