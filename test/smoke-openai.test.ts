import t from 'tap';
import OpenAI from 'openai';
import { startUpstream, json, sse } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('openai SDK through tollgate: 1,000 + 500 tokens of gpt-4.1 = 12 credits', async (t) => {
  const up = await startUpstream(async (req, res) => {
    const body = JSON.parse(req.body.toString());
    if (body.stream) {
      await sse(res, [
        { data: { id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4.1-2025-04-14', choices: [{ index: 0, delta: { content: 'Hi' } }], usage: null } },
        { data: { id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4.1-2025-04-14', choices: [], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } } },
        { data: '[DONE]' },
      ]);
      return;
    }
    json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1-2025-04-14', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });
  });
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'starter' });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1` });
  const r = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] });
  t.equal(r.choices[0]!.message.content, 'Hi');
  t.equal(up.requests[0]!.headers.authorization, 'Bearer sk-platform');
  await tg.app.pipeline.idle(2000);
  let u = await tg.usage();
  t.equal(u.credits.used, 12);
  t.equal(u.breakdown.llm, 12);
  const stream = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }], stream: true });
  const chunks: unknown[] = [];
  for await (const c of stream) chunks.push(c);
  t.equal(chunks.length, 1, 'the injected usage chunk is hidden');
  t.match(up.requests[1]!.body.toString(), /"stream_options":\{"include_usage":true\}/);
  await tg.app.pipeline.idle(2000);
  u = await tg.usage();
  t.equal(u.credits.used, 24);
  t.equal(u.requestCount, 2);
});
