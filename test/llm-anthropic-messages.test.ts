// The official @anthropic-ai/sdk through tollgate. claude-sonnet-4 (requested as
// claude-sonnet-4-20250514) at 6 / 30 credits per 1,000 tokens: 2,000 in + 1,000 out = 42.
// Streamed: message_start reports input, message_delta usage is cumulative (400, then 1,000):
// the last one counts, never the sum.
import t from 'tap';
import { anthropicClient, startLlmStack } from './helpers/llm-tollgate.js';

t.test('anthropic messages: 42 credits each, streamed or not', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t);
  const client = await anthropicClient(tg);

  const m = await client.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: [{ role: 'user', content: 'hello' }] });
  t.same(m.content, [{ type: 'text', text: 'Hello! How can I help you today?' }]);
  let u = await settledUsage();
  t.equal(u.credits.used, 42);

  const stream = await client.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: [{ role: 'user', content: 'hello' }], stream: true });
  const types: string[] = [];
  let text = '';
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
  }
  t.equal(text, 'Hello! How can I help you today?');
  t.same(types.filter((x) => x === 'message_delta').length, 2, 'both cumulative message_delta events reach the client');
  u = await settledUsage();
  t.equal(u.credits.used, 84);

  // The SDK's MessageStream helper sees the same answer.
  const helper = client.messages.stream({ model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: [{ role: 'user', content: 'hello' }] });
  const final = await helper.finalMessage();
  t.equal(final.usage.output_tokens, 1000);
  u = await settledUsage();
  t.equal(u.credits.used, 126);
  t.equal(u.breakdown.llm, 126);
  t.equal(u.requestCount, 3);
  t.equal(u.reserved, 0);
  t.same(up.anthropic.requests.map((r) => r.path), ['/v1/messages', '/v1/messages', '/v1/messages']);
});
