// Every row of the seed price table, priced exactly: shared/seed "Credit Costs" is the source of truth.

import t from 'tap';
import { createPricing, SEED_PRICES, type ProviderId } from '../pricing/index.js';

const CR = 1_000_000;
const pricing = createPricing();

// Credits per 1,000 characters, copied from the seed.
const TTS: Array<[ProviderId, number]> = [
  ['cartesia', 78], ['elevenlabs', 166], ['deepgram', 30], ['fishaudio', 10], ['resemble', 120],
  ['inworld', 80], ['chatterbox', 6], ['pockettts', 2], ['kokoro', 4], ['qwen', 4],
];
// Credits per minute of audio.
const STT: Array<[ProviderId, number]> = [
  ['whisper', 12], ['deepgram', 9], ['elevenlabs', 6], ['fishaudio', 8], ['cartesia', 10],
  ['mistral', 8], ['groq', 2],
];
// Credits per 1,000 input and output tokens.
const LLM: Array<[ProviderId, string, number, number]> = [
  ['openai', 'gpt-5.2', 5, 20], ['openai', 'gpt-4.1', 4, 16], ['openai', 'gpt-4.1-mini', 1, 3],
  ['openai', 'gpt-4.1-nano', 1, 1], ['anthropic', 'claude-sonnet-4', 6, 30],
  ['anthropic', 'claude-3-5-haiku', 2, 8], ['groq', 'llama-4-maverick', 1, 2], ['groq', 'llama-4-scout', 1, 1],
];

t.test('the table holds exactly the seed rows, in µcr', async (t) => {
  t.same(SEED_PRICES.tts, Object.fromEntries(TTS.map(([p, c]) => [p, c * CR])));
  t.same(SEED_PRICES.stt, Object.fromEntries(STT.map(([p, c]) => [p, c * CR])));
  t.same(SEED_PRICES.llm, Object.fromEntries(LLM.map(([p, m, i, o]) => [`${p}:${m}`, { inputPer1k: i * CR, outputPer1k: o * CR }])));
  t.equal(SEED_PRICES.rag, 2 * CR);
  t.ok(Object.isFrozen(SEED_PRICES.tts) && Object.isFrozen(SEED_PRICES.llm['openai:gpt-4.1']), 'seed data is frozen');
});

t.test('TTS: 1,000 characters cost the row’s credits', async (t) => {
  for (const [provider, credits] of TTS) {
    const rate = pricing.ttsRate(provider);
    t.equal(rate, credits * CR, `${provider} rate`);
    t.equal(pricing.ttsCost(rate!, 1_000), credits * CR, `${provider}: 1,000 chars = ${credits} credits`);
    t.equal(pricing.ttsCost(rate!, 2_500), credits * 2_500_000, `${provider}: 2,500 chars`);
    t.equal(pricing.ttsRate(provider, 'any-model'), credits * CR, `${provider}: provider row prices every model`);
  }
});

t.test('STT: one minute of audio costs the row’s credits', async (t) => {
  for (const [provider, credits] of STT) {
    const rate = pricing.sttRate(provider);
    t.equal(rate, credits * CR, `${provider} rate`);
    t.equal(pricing.sttCost(rate!, 60_000), credits * CR, `${provider}: 60 s = ${credits} credits`);
    t.equal(pricing.sttCost(rate!, 30_000), (credits * CR) / 2, `${provider}: 30 s = ${credits / 2} credits`);
  }
});

t.test('STT: OpenAI’s /v1/audio/transcriptions is priced by the whisper row', async (t) => {
  t.equal(pricing.sttRate('openai'), 12 * CR);
  t.equal(pricing.sttRate('openai', 'whisper-1'), 12 * CR);
  t.equal(pricing.sttRate('openai', 'gpt-4o-transcribe'), 12 * CR);
});

t.test('LLM: 1,000 input and 1,000 output tokens cost the row’s credits', async (t) => {
  for (const [provider, model, input, output] of LLM) {
    const rate = pricing.llmRate(provider, model);
    t.same(rate, { inputPer1k: input * CR, outputPer1k: output * CR }, `${provider}:${model} rate`);
    t.equal(pricing.llmCost(rate!, { inputTokens: 1_000, outputTokens: 0 }), input * CR, `${model}: 1k in`);
    t.equal(pricing.llmCost(rate!, { inputTokens: 0, outputTokens: 1_000 }), output * CR, `${model}: 1k out`);
    t.equal(pricing.llmCost(rate!, { inputTokens: 1_000, outputTokens: 1_000 }), (input + output) * CR, `${model}: 1k + 1k`);
  }
});

t.test('RAG: a search query costs 2 credits', async (t) => {
  t.equal(pricing.ragRate(), 2_000_000);
});

t.test('what the seed does not price stays unpriced', async (t) => {
  t.equal(pricing.ttsRate('openai'), undefined, 'OpenAI TTS is not in the seed');
  t.equal(pricing.ttsRate('whisper'), undefined);
  t.equal(pricing.sttRate('anthropic'), undefined);
  t.equal(pricing.sttRate('kokoro'), undefined);
  t.equal(pricing.llmRate('mistral', 'mistral-large-latest'), undefined, 'Mistral LLM is not in the seed');
  t.equal(pricing.llmRate('groq', 'gpt-4.1'), undefined, 'a price belongs to its provider');
  t.equal(pricing.llmRate('nope', 'gpt-4.1'), undefined);
  t.equal(pricing.ttsRate('nope'), undefined);
});
