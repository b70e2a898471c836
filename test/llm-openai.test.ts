// The official openai SDK through tollgate, priced from the provider's usage: chat completions
// and the Responses API (usage in the body, or in the stream's terminal `response.completed`),
// plain and streamed. gpt-4.1 at 4 / 16 credits per 1,000 tokens: 1,000 in + 500 out = 12.
import t from 'tap';
import { openaiClient, startLlmStack } from './helpers/llm-tollgate.js';

t.test('openai chat completions: 12 credits each, streamed or not', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t);
  const client = openaiClient(tg);

  const r = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] });
  t.equal(r.choices[0]!.message.content, 'Hello! How can I help you today?');
  t.same(r.usage?.prompt_tokens, 1000, 'the client sees the provider usage of a plain answer');
  let u = await settledUsage();
  t.equal(u.credits.used, 12);
  t.equal(u.breakdown.llm, 12);
  t.equal(u.requestCount, 1);

  const stream = await client.chat.completions.create({ model: 'gpt-4.1-2025-04-14', messages: [{ role: 'user', content: 'hello' }], stream: true });
  let text = '';
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.delta.content ?? '';
  }
  t.equal(text, 'Hello! How can I help you today?');
  t.equal(chunks, 7, 'role, 5 content deltas, finish: no usage chunk');
  u = await settledUsage();
  t.equal(u.credits.used, 24);
  t.equal(u.breakdown.llm, 24);
  t.equal(u.requestCount, 2);
  t.equal(u.reserved, 0);
  t.equal(up.openai.requests.length, 2);
  t.same(up.openai.requests.map((r) => r.path), ['/v1/chat/completions', '/v1/chat/completions']);
});

t.test('openai responses: 12 credits each, streamed or not', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t);
  const client = openaiClient(tg);

  const r = await client.responses.create({ model: 'gpt-4.1', input: 'hello', max_output_tokens: 800 });
  t.equal(r.output_text, 'Hello! How can I help you today?');
  let u = await settledUsage();
  t.equal(u.credits.used, 12);

  const stream = await client.responses.create({ model: 'gpt-4.1', input: 'hello', stream: true });
  let text = '';
  let completed = 0;
  for await (const ev of stream) {
    if (ev.type === 'response.output_text.delta') text += ev.delta;
    if (ev.type === 'response.completed') completed++;
  }
  t.equal(text, 'Hello! How can I help you today?');
  t.equal(completed, 1);
  u = await settledUsage();
  t.equal(u.credits.used, 24);
  t.equal(u.breakdown.llm, 24);
  t.equal(u.requestCount, 2);
  t.equal(u.reserved, 0);
  t.same(up.openai.requests.map((q) => q.path), ['/v1/responses', '/v1/responses']);
});
