// The main SDK path on the Redis ledger settles exactly as on the in-memory one: the same calls
// (openai chat and Responses, anthropic, groq; plain and streamed) give the same /v1/usage.
// 12 + 12 + 12 + 42 + 42 + 1.5 + 1.5 = 123 credits over 7 requests.
import t from 'tap';
import { startRedis } from './helpers/redis.js';
import { anthropicClient, groqClient, openaiClient, startLlmStack, type LlmStack } from './helpers/llm-tollgate.js';

const msgs = [{ role: 'user' as const, content: 'hello' }];

async function run(stack: LlmStack): Promise<any> {
  const { tg } = stack;
  const openai = openaiClient(tg);
  await openai.chat.completions.create({ model: 'gpt-4.1', messages: msgs });
  for await (const _ of await openai.chat.completions.create({ model: 'gpt-4.1', messages: msgs, stream: true }));
  for await (const _ of await openai.responses.create({ model: 'gpt-4.1', input: 'hello', stream: true }));
  const anthropic = await anthropicClient(tg);
  await anthropic.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: msgs });
  for await (const _ of await anthropic.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: msgs, stream: true }));
  const groq = groqClient(tg);
  await groq.chat.completions.create({ model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: msgs });
  for await (const _ of await groq.chat.completions.create({ model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: msgs, stream: true }));
  return stack.settledUsage();
}

t.test('Redis and in-memory ledgers agree on the LLM path', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const onRedis = await startLlmStack(t, { tier: 'free', config: { redis: { url: redis.url } } });
  const inMemory = await startLlmStack(t, { tier: 'free' });
  t.equal(onRedis.tg.app.ledger.kind, 'redis');
  t.equal(inMemory.tg.app.ledger.kind, 'memory');

  const r = await run(onRedis);
  const m = await run(inMemory);
  t.equal(r.credits.used, 123);
  t.equal(r.credits.remaining, 2377);
  t.equal(r.breakdown.llm, 123);
  t.equal(r.requestCount, 7);
  t.equal(r.reserved, 0);
  t.same(r, m, '/v1/usage is identical on both ledgers');
});
