// Cost arithmetic: exact integer µcr, STT rounded half up, bad units refused.

import t from 'tap';
import { createPricing } from '../pricing/index.js';

const pricing = createPricing();
const rate = (provider: string, model: string) => {
  const r = pricing.llmRate(provider, model);
  if (r === undefined) throw new Error(`${provider}:${model} unpriced`);
  return r;
};

t.test('worked examples from the seed', async (t) => {
  const cases: Array<[string, number, number]> = [
    ['1,000 chars ElevenLabs = 166 credits', pricing.ttsCost(pricing.ttsRate('elevenlabs')!, 1_000), 166_000_000],
    ['1 char Cartesia = 0.078 credits', pricing.ttsCost(pricing.ttsRate('cartesia')!, 1), 78_000],
    ['gpt-4.1, 1,000 in + 500 out = 12 credits',
      pricing.llmCost(rate('openai', 'gpt-4.1'), { inputTokens: 1_000, outputTokens: 500 }), 12_000_000],
    ['claude-sonnet-4, 2,000 in + 1,000 out = 42 credits',
      pricing.llmCost(rate('anthropic', 'claude-sonnet-4-20250514'), { inputTokens: 2_000, outputTokens: 1_000 }), 42_000_000],
    ['gpt-5.2, 1 in + 1 out = 0.025 credits', pricing.llmCost(rate('openai', 'gpt-5.2'), { inputTokens: 1, outputTokens: 1 }), 25_000],
    ['60 s Deepgram = 9 credits', pricing.sttCost(pricing.sttRate('deepgram')!, 60_000), 9_000_000],
    ['30 s Whisper = 6 credits', pricing.sttCost(pricing.sttRate('whisper')!, 30_000), 6_000_000],
    ['1 ms at 12/min = 200 µcr', pricing.sttCost(12_000_000, 1), 200],
    ['7 ms at 9/min = 1,050 µcr', pricing.sttCost(9_000_000, 7), 1_050],
    ['1 ms Groq (2/min = 33.33… µcr) rounds down', pricing.sttCost(pricing.sttRate('groq')!, 1), 33],
    ['2 ms Groq (66.66… µcr) rounds up', pricing.sttCost(pricing.sttRate('groq')!, 2), 67],
    ['1 ms Cartesia (166.66… µcr) rounds up', pricing.sttCost(pricing.sttRate('cartesia')!, 1), 167],
  ];
  for (const [name, actual, expected] of cases) t.equal(actual, expected, name);
});

t.test('STT rounds half up, never to even', async (t) => {
  // 30 µcr per minute is 0.0005 µcr per ms: every 1,000 ms is exactly half a µcr.
  t.equal(pricing.sttCost(30, 999), 0, '0.4995 → 0');
  t.equal(pricing.sttCost(30, 1_000), 1, '0.5 → 1');
  t.equal(pricing.sttCost(30, 3_000), 2, '1.5 → 2');
  t.equal(pricing.sttCost(30, 5_000), 3, '2.5 → 3 (banker’s rounding would give 2)');
  t.equal(pricing.ttsCost(1, 500), 1, 'TTS at a sub-µcr rate: 0.5 → 1');
  t.equal(pricing.ttsCost(1, 499), 0, 'TTS 0.499 → 0');
});

t.test('LLM cost is rounded once, over the sum', async (t) => {
  const r = { inputPer1k: 1, outputPer1k: 1 };
  t.equal(pricing.llmCost(r, { inputTokens: 500, outputTokens: 500 }), 1, '0.5 + 0.5 = 1, not 1 + 1');
  t.equal(pricing.llmCost(r, { inputTokens: 400, outputTokens: 400 }), 1, '0.4 + 0.4 = 0.8 → 1, not 0 + 0');
});

t.test('cache tokens count as input unless a cache rate is configured', async (t) => {
  const sonnet = rate('anthropic', 'claude-sonnet-4');
  const usage = { inputTokens: 1_000, outputTokens: 1_000, cacheReadTokens: 1_000, cacheWriteTokens: 1_000 };
  t.equal(pricing.llmCost(sonnet, usage), 3 * 6_000_000 + 30_000_000, 'at the input rate');
  t.equal(pricing.llmCost({ ...sonnet, cacheReadPer1k: 600_000, cacheWritePer1k: 7_500_000 }, usage),
    6_000_000 + 30_000_000 + 600_000 + 7_500_000, 'at their own rates');
  t.equal(pricing.llmCost({ ...sonnet, cacheReadPer1k: 0 }, usage), 2 * 6_000_000 + 30_000_000, 'a zero cache rate is a rate');
});

t.test('zero units cost zero', async (t) => {
  t.equal(pricing.ttsCost(166_000_000, 0), 0);
  t.equal(pricing.sttCost(12_000_000, 0), 0);
  t.equal(pricing.llmCost(rate('openai', 'gpt-4.1'), { inputTokens: 0, outputTokens: 0 }), 0);
  t.equal(pricing.ttsCost(0, 1_000_000), 0, 'a zero rate too');
});

t.test('huge units stay exact', async (t) => {
  // 9e6 × (1e13 + 7) is past 2^53: a float product would lose the trailing 7.
  t.equal(pricing.sttCost(9_000_000, 10_000_000_000_007), 1_500_000_000_001_050);
  t.equal(pricing.sttCost(2_000_000, 10_000_000_000_001), 333_333_333_333_367, '333,333,333,333,366.67 rounds up');
  t.equal(pricing.ttsCost(166_000_000, 50_000_000_000), 8_300_000_000_000_000);
  t.equal(pricing.llmCost({ inputPer1k: 20_000_000, outputPer1k: 20_000_000 },
    { inputTokens: 400_000_000_001, outputTokens: 0 }), 8_000_000_000_020_000);
  t.throws(() => pricing.sttCost(9_000_000, Number.MAX_SAFE_INTEGER), RangeError, 'a cost past 2^53 is refused');
});

t.test('negative, fractional and non-numeric units are a TypeError', async (t) => {
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '10' as unknown as number]) {
    t.throws(() => pricing.ttsCost(166_000_000, bad), TypeError, `chars ${String(bad)}`);
    t.throws(() => pricing.sttCost(12_000_000, bad), TypeError, `ms ${String(bad)}`);
    t.throws(() => pricing.llmCost(rate('openai', 'gpt-4.1'), { inputTokens: bad, outputTokens: 0 }), TypeError, `input ${String(bad)}`);
    t.throws(() => pricing.llmCost(rate('openai', 'gpt-4.1'), { inputTokens: 0, outputTokens: bad }), TypeError, `output ${String(bad)}`);
    t.throws(() => pricing.llmCost(rate('openai', 'gpt-4.1'), { inputTokens: 0, outputTokens: 0, cacheReadTokens: bad }), TypeError, `cache read ${String(bad)}`);
    t.throws(() => pricing.ttsCost(bad, 1), TypeError, `rate ${String(bad)}`);
  }
});
