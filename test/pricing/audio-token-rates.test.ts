// Audio-token rates of realtime LLM rows (`pricing.llm` `audioInput` / `audioOutput`): parsed
// exactly from credits, billed to their own token counts, and absent rates fall back to text.

import t from 'tap';
import { createPricing } from '../../pricing/index.js';

// gpt-realtime list prices per 1M tokens: text in $4, cached $0.40, out $16; audio in $32, out $64.
const pricing = createPricing({
  llm: { 'openai:gpt-realtime': { input: 4, output: 16, cacheRead: 0.4, audioInput: 32, audioOutput: 64 } },
});

t.test('an operator row with audio rates, in µcr per 1,000 tokens', async (t) => {
  t.same(pricing.llmRate('openai', 'gpt-realtime-2025-08-28'), {
    inputPer1k: 4_000_000,
    outputPer1k: 16_000_000,
    cacheReadPer1k: 400_000,
    audioInputPer1k: 32_000_000,
    audioOutputPer1k: 64_000_000,
  });
});

t.test('each token kind at its rate, rounded once', async (t) => {
  const rate = pricing.llmRate('openai', 'gpt-realtime')!;
  // 100 text in × 4 + 1,000 audio in × 32 + 100 cached × 0.4 + 60 text out × 16 + 240 audio out × 64
  // = 400 + 32,000 + 40 + 960 + 15,360 = 48,760 credits per 1,000 → 48.76 credits.
  t.equal(pricing.llmCost(rate, { inputTokens: 100, audioInputTokens: 1000, cacheReadTokens: 100, outputTokens: 60, audioOutputTokens: 240 }), 48_760_000);
  // One token of each: (4 + 32 + 0.4 + 16 + 64) / 1,000 credits = 116.4 / 1000 → 116,400 µcr.
  t.equal(pricing.llmCost(rate, { inputTokens: 1, audioInputTokens: 1, cacheReadTokens: 1, outputTokens: 1, audioOutputTokens: 1 }), 116_400);
});

t.test('without audio rates, audio tokens bill as text input / output', async (t) => {
  const rate = createPricing().llmRate('openai', 'gpt-4.1')!;
  t.equal(pricing.llmCost(rate, { inputTokens: 0, audioInputTokens: 1000, outputTokens: 0, audioOutputTokens: 1000 }), 4_000_000 + 16_000_000);
});

t.test('bad audio rates are config problems', async (t) => {
  t.throws(() => createPricing({ llm: { 'openai:gpt-realtime': { input: 4, output: 16, audioInput: 0.0000001 } } } as never), /pricing\.llm\.openai:gpt-realtime\.audioInput: at most 6 decimals|audioInput/);
  t.throws(() => createPricing({ llm: { 'openai:gpt-realtime': { input: 4, output: 16, audioOut: 1 } } } as never), /audioOut: unknown field/);
});
