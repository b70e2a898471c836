// Anthropic cache tokens are reported beside input_tokens. They bill as input unless the
// operator configures cache rates. Usage: 2,000 input, 1,000 cache write, 3,000 cache read,
// 1,000 output. Seed rates (6 / 30): 6,000 × 6 + 1,000 × 30 = 66 credits. With cacheRead 0.6
// and cacheWrite 7.5: 12 + 7.5 + 1.8 + 30 = 51.3 credits.
import t from 'tap';
import { fixtureText, writeJson, writeSse, sseBlocks, body } from './helpers/llm-fixtures.js';
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

t.test('cache tokens count as input without a cache rate', async (t) => {
  t.same(await twoCalls(t, {}), [66, 132]);
});

t.test('cache tokens at the configured cache rates', async (t) => {
  const pricing = { llm: { 'anthropic:claude-sonnet-4': { input: 6, output: 30, cacheRead: 0.6, cacheWrite: 7.5 } } };
  t.same(await twoCalls(t, { pricing }), [51.3, 102.6]);
});
