// The openai SDK's Responses API through tollgate: usage from the body, or from the terminal
// `response.completed` event of the stream. gpt-4.1, 1,000 in + 500 out = 12 credits.
import t from 'tap';
import { openaiClient, startLlmStack } from './helpers/llm-tollgate.js';

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
