// The official @anthropic-ai/sdk through tollgate. claude-sonnet-4 (requested as
// claude-sonnet-4-20250514) at 6 / 30 credits per 1,000 tokens: 2,000 in + 1,000 out = 42.
// Streamed: message_start reports input, message_delta usage is cumulative (400, then 1,000):
// the last one counts, never the sum.
// Cache tokens are reported beside input_tokens and bill as input unless the operator
// configures cache rates. Usage 2,000 input, 1,000 cache write, 3,000 cache read, 1,000
// output: at the seed rates 6,000 × 6 + 1,000 × 30 = 66 credits; with cacheRead 0.6 and
// cacheWrite 7.5, 12 + 7.5 + 1.8 + 30 = 51.3 credits.
import t from 'tap';
import { body, fixtureText, sseBlocks, writeJson, writeSse } from './helpers/llm-fixtures.js';
import { anthropicClient, startLlmStack } from './helpers/llm-tollgate.js';

const override = {
  anthropic: async (req: import('./helpers/upstream.js').RecordedRequest, res: import('node:http').ServerResponse) => {
    if (body(req).stream) await writeSse(res, sseBlocks(fixtureText('anthropic', 'messages-cache-stream.sse')));
    else writeJson(res, 200, fixtureText('anthropic', 'messages-cache.json'));
    return true;
  },
};

async function twoCalls(t: { teardown(fn: () => unknown): void }, config: Record<string, unknown>): Promise<number[]> {
  const { tg, settledUsage } = await startLlmStack(t, { override, config });
  const client = await anthropicClient(tg);
  const m = await client.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: [{ role: 'user', content: 'hello' }] });
  if (m.usage.cache_read_input_tokens !== 3000) throw new Error('the client should see the cache usage');
  const after1 = (await settledUsage()).credits.used;
  // Streamed, message_delta reports only output_tokens: input and cache come from message_start.
  const s = await client.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: [{ role: 'user', content: 'hello' }], stream: true });
  for await (const _ of s);
  const after2 = (await settledUsage()).credits.used;
  return [after1, after2];
}

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

t.test('cache tokens count as input without a cache rate', async (t) => {
  t.same(await twoCalls(t, {}), [66, 132]);
});

t.test('cache tokens at the configured cache rates', async (t) => {
  const pricing = { llm: { 'anthropic:claude-sonnet-4': { input: 6, output: 30, cacheRead: 0.6, cacheWrite: 7.5 } } };
  t.same(await twoCalls(t, { pricing }), [51.3, 102.6]);
});
