// The reservation for an LLM call is the input estimate plus the most it may generate
// (max_completion_tokens, else max_tokens / max_output_tokens, else proxy.llmDefaultMaxTokens),
// for each of its `n` choices: the Free tier's hard cap is checked against it.
// Regression: `n` was ignored, so n = 3 reserved a third of what the call could spend.
import t from 'tap';
import OpenAI from 'openai';
import { anthropicClient, openaiClient, startLlmStack } from './helpers/llm-tollgate.js';

const msgs = [{ role: 'user' as const, content: 'hello' }]; // reserved as 5 UTF-8 bytes + 4 = 9 tokens
const outcome = (p: Promise<unknown>) => p.then(() => 'served', (e: InstanceType<typeof OpenAI.APIError>) => `${e.status} ${e.code ?? e.type}`);

t.test('reservations against a Free account of 40 credits', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t, { tier: 'free', config: { tiers: { free: { includedCredits: 40 } }, proxy: { llmDefaultMaxTokens: 3000 } } });
  const openai = openaiClient(tg);
  const decide = async (p: Promise<unknown>) => {
    const r = await outcome(p);
    await settledUsage(); // served calls settle (12 credits, the fixture's usage) before the next
    return r;
  };
  // gpt-4.1 at 4 / 16: 9 × 4 + 2,000 × 16 = 32.036 credits reserved, fits in 40. Used: 12.
  t.equal(await decide(openai.chat.completions.create({ model: 'gpt-4.1', max_tokens: 2000, messages: msgs })), 'served');
  // 3 choices × 1,000 × 16 + 0.036 = 48.036 > 28 left (one choice, 16.036, would fit).
  t.equal(await decide(openai.chat.completions.create({ model: 'gpt-4.1', n: 3, max_tokens: 1000, messages: msgs })), '402 insufficient_credits', 'every choice is reserved');
  // No limit named: the configured default, 3,000 × 16 + 0.036 = 48.036 > 28.
  t.equal(await decide(openai.chat.completions.create({ model: 'gpt-4.1', messages: msgs })), '402 insufficient_credits', 'the configured default');
  // max_completion_tokens wins over max_tokens: 16.036 fits in 28. Used: 24.
  t.equal(await decide(openai.chat.completions.create({ model: 'gpt-4.1', max_completion_tokens: 1000, max_tokens: 9000, messages: msgs })), 'served');
  // Responses, max_output_tokens: "hello" = 5 bytes, 0.02 + 5,000 × 16 = 80.02 > 16.
  t.equal(await decide(openai.responses.create({ model: 'gpt-4.1', input: 'hello', max_output_tokens: 5000 })), '402 insufficient_credits');
  // Anthropic max_tokens: claude-sonnet-4 at 6 / 30, 0.054 + 1,000 × 30 = 30.054 > 16.
  t.equal(await decide((await anthropicClient(tg)).messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1000, messages: msgs })), '402 insufficient_credits');
  t.equal(up.openai.requests.length, 2, 'refused calls never reach the provider');
  t.equal(up.anthropic.requests.length, 0);
  const u = await settledUsage();
  t.equal(u.credits.used, 24);
  t.equal(u.requestCount, 2);
  t.equal(u.reserved, 0);
});
