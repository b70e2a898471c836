// Operator `pricing:` overrides: added models priced, model rows beat provider rows, bad values refused.

import t from 'tap';
import { createPricing, validatePricingOverrides } from '../pricing/index.js';

t.test('an added model is priced, its key normalised', async (t) => {
  const pricing = createPricing({ llm: { 'openai:GPT-4o-2024-08-06': { input: 2.5, output: 10 } } });
  const rate = pricing.llmRate('openai', 'gpt-4o');
  t.same(rate, { inputPer1k: 2_500_000, outputPer1k: 10_000_000 });
  t.same(pricing.llmRate('openai', 'gpt-4o-2024-11-20'), rate, 'any snapshot of it');
  t.equal(pricing.llmCost(rate!, { inputTokens: 1_000, outputTokens: 1_000 }), 12_500_000);
  t.equal(pricing.llmRate('openai', 'gpt-4o-mini'), undefined, 'not its relatives');
  t.same(pricing.llmRate('openai', 'gpt-4.1'), { inputPer1k: 4_000_000, outputPer1k: 16_000_000 }, 'seed rows stay');
});

t.test('an LLM override may set cache rates', async (t) => {
  const pricing = createPricing({ llm: { 'anthropic:claude-sonnet-4': { input: 6, output: 30, cacheRead: 0.6, cacheWrite: 7.5 } } });
  t.same(pricing.llmRate('anthropic', 'claude-sonnet-4-20250514'),
    { inputPer1k: 6_000_000, outputPer1k: 30_000_000, cacheReadPer1k: 600_000, cacheWritePer1k: 7_500_000 });
});

t.test('a model row beats the provider row', async (t) => {
  const pricing = createPricing({
    tts: { 'elevenlabs:eleven_flash_v2_5': 83, kokoro: 3, 'openai:tts-1': 15 },
    stt: { 'deepgram:nova-3': 10, groq: 4 },
  });
  t.equal(pricing.ttsRate('elevenlabs', 'eleven_flash_v2_5'), 83_000_000, 'model row');
  t.equal(pricing.ttsRate('elevenlabs', 'Eleven_Flash_v2_5'), 83_000_000, 'model row, any case');
  t.equal(pricing.ttsRate('elevenlabs', 'eleven_v3'), 166_000_000, 'other models: provider row');
  t.equal(pricing.ttsRate('elevenlabs'), 166_000_000, 'no model: provider row');
  t.equal(pricing.ttsRate('kokoro'), 3_000_000, 'a provider row replaced');
  t.equal(pricing.ttsRate('openai', 'tts-1'), 15_000_000, 'a model added for an unpriced provider');
  t.equal(pricing.ttsRate('openai', 'tts-1-hd'), undefined, 'only that model');
  t.equal(pricing.sttRate('deepgram', 'nova-3'), 10_000_000);
  t.equal(pricing.sttRate('deepgram', 'nova-2'), 9_000_000);
  t.equal(pricing.sttRate('groq'), 4_000_000);
});

t.test('OpenAI STT follows the whisper row unless priced itself', async (t) => {
  t.equal(createPricing({ stt: { whisper: 11 } }).sttRate('openai'), 11_000_000);
  const own = createPricing({ stt: { openai: 13, 'openai:gpt-4o-mini-transcribe': 3 } });
  t.equal(own.sttRate('openai', 'whisper-1'), 13_000_000);
  t.equal(own.sttRate('openai', 'gpt-4o-mini-transcribe'), 3_000_000);
  t.equal(own.sttRate('whisper'), 12_000_000);
});

t.test('credits convert to µcr exactly, up to 6 decimals', async (t) => {
  const pricing = createPricing({ tts: { cartesia: 0.000001, inworld: 166.123456, qwen: 0 }, stt: { mistral: 0.1 }, rag: 0.5 });
  t.equal(pricing.ttsRate('cartesia'), 1);
  t.equal(pricing.ttsRate('inworld'), 166_123_456);
  t.equal(pricing.ttsRate('qwen'), 0, 'zero is a price');
  t.equal(pricing.sttRate('mistral'), 100_000);
  t.equal(pricing.ragRate(), 500_000);
});

t.test('bad values are refused, each problem naming its key', async (t) => {
  const overrides = {
    tts: { elevenlabs: 0.1234567, cartesia: -1, elevenlab: 5, 'deepgram:': 1 },
    stt: { deepgram: '9' },
    llm: {
      openai: { input: 1, output: 1 },
      'openai:gpt-4o': { input: 1 },
      'openai:gpt-4.1': { input: 1, output: 1, cached: 1 },
      'openai:gpt-4.1-2025-04-14': { input: 1, output: 1 },
    },
    aliases: { fast: 'gpt-4.1' },
    rag: 1e-7,
    extras: {},
  };
  const expected = [
    'pricing.extras: unknown section (expected tts, stt, llm, aliases or rag)',
    'pricing.aliases.fast: key must be "provider:model"',
    'pricing.tts.elevenlabs: at most 6 decimals of a credit (1 µcr), got 0.1234567',
    'pricing.tts.cartesia: must not be negative, got -1',
    'pricing.tts.elevenlab: unknown provider "elevenlab" (expected one of openai, anthropic, groq, mistral, elevenlabs, deepgram, cartesia, fishaudio, resemble, inworld, qwen, kokoro, chatterbox, pockettts, whisper, rag)',
    'pricing.tts["deepgram:"]: key must be "provider:model"',
    'pricing.stt.deepgram: must be a number of credits, got "9"',
    'pricing.llm.openai: key must be "provider:model"',
    'pricing.llm["openai:gpt-4o"].output: required',
    'pricing.llm["openai:gpt-4.1"].cached: unknown field (expected input, output, cacheRead, cacheWrite, audioInput, audioOutput)',
    'pricing.llm["openai:gpt-4.1-2025-04-14"]: prices "openai:gpt-4.1" a second time (model names are normalised before pricing)',
    'pricing.rag: at most 6 decimals of a credit (1 µcr), got 1e-7',
  ];
  t.same(validatePricingOverrides(overrides), expected);
  t.throws(() => createPricing(overrides as never), { code: 'invalid_pricing_config', problems: expected });
  t.throws(() => createPricing({ tts: { elevenlabs: 0.1234567 } }), /pricing\.tts\.elevenlabs: at most 6 decimals/);
  t.same(validatePricingOverrides('nope'), ['pricing: must be a mapping']);
  t.same(validatePricingOverrides({}), []);
  t.same(validatePricingOverrides(undefined), []);
});

t.test('overrides never leak into another pricing or the seed', async (t) => {
  createPricing({ tts: { elevenlabs: 1 }, llm: { 'openai:gpt-4.1': { input: 1, output: 1 } }, rag: 9 });
  const seed = createPricing();
  t.equal(seed.ttsRate('elevenlabs'), 166_000_000);
  t.same(seed.llmRate('openai', 'gpt-4.1'), { inputPer1k: 4_000_000, outputPer1k: 16_000_000 });
  t.equal(seed.ragRate(), 2_000_000);
});
