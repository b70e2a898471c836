// Model-name normalisation: snapshots and aliases reach their priced row; other models never do.

import t from 'tap';
import { createPricing } from '../pricing/index.js';

const pricing = createPricing();

// [provider, model as the client sends it, canonical name]: each one priced.
const PRICED: Array<[string, string, string]> = [
  ['openai', 'gpt-4.1', 'gpt-4.1'],
  ['openai', 'gpt-4.1-2025-04-14', 'gpt-4.1'],
  ['openai', 'gpt-4.1-mini-2025-04-14', 'gpt-4.1-mini'],
  ['openai', 'gpt-4.1-nano-2025-04-14', 'gpt-4.1-nano'],
  ['openai', 'gpt-5.2-2025-12-11', 'gpt-5.2'],
  ['openai', 'GPT-4.1', 'gpt-4.1'],
  ['openai', '  gpt-4.1-mini ', 'gpt-4.1-mini'],
  ['openai', 'openai/gpt-4.1', 'gpt-4.1'],
  ['OpenAI', 'openai/gpt-5.2-2025-12-11', 'gpt-5.2'],
  ['anthropic', 'claude-sonnet-4-20250514', 'claude-sonnet-4'],
  ['anthropic', 'claude-sonnet-4-0', 'claude-sonnet-4'],
  ['anthropic', 'anthropic/claude-sonnet-4', 'claude-sonnet-4'],
  ['anthropic', 'claude-3-5-haiku-latest', 'claude-3-5-haiku'],
  ['anthropic', 'claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
  ['anthropic', 'claude-haiku-3-5', 'claude-3-5-haiku'],
  ['anthropic', 'claude-haiku-3.5', 'claude-3-5-haiku'],
  ['groq', 'meta-llama/llama-4-scout-17b-16e-instruct', 'llama-4-scout'],
  ['groq', 'meta-llama/llama-4-maverick-17b-128e-instruct', 'llama-4-maverick'],
  ['groq', 'llama-4-scout-17b-16e-instruct', 'llama-4-scout'],
  ['groq', 'llama-4-maverick', 'llama-4-maverick'],
];

// [provider, model]: not a seed model, so unpriced (the proxy answers `unpriced_model`).
const UNPRICED: Array<[string, string]> = [
  ['openai', 'gpt-4.1-mini-foo'],
  ['openai', 'gpt-4'],
  ['openai', 'gpt-4o'],
  ['openai', 'gpt-4o-2024-08-06'],
  ['openai', 'gpt-4.10'],
  ['openai', 'gpt-4.1o'],
  ['openai', 'gpt-4-1'],
  ['openai', 'gpt-5'],
  ['openai', 'gpt-5.2-pro'],
  ['openai', 'gpt-5.2-chat-latest'],
  ['openai', 'ft:gpt-4.1-2025-04-14:acme::abc123'],
  ['openai', 'azure/gpt-4.1'],
  ['openai', ''],
  ['openai', '-latest'],
  ['anthropic', 'claude-sonnet-4-5'],
  ['anthropic', 'claude-sonnet-4-5-20250929'],
  ['anthropic', 'claude-opus-4-0'],
  ['anthropic', 'claude-3-5-sonnet-20241022'],
  ['anthropic', 'claude-haiku-4-5'],
  ['anthropic', 'claude-3-haiku-20240307'],
  ['groq', 'meta-llama/llama-4-scout-17b-16e'],
  ['groq', 'llama-4-scout-17b-16e-instruct-fp8'],
  ['groq', 'llama-3.3-70b-versatile'],
  ['groq', 'openai/gpt-oss-120b'],
  ['groq', 'gpt-4.1'],
  ['openai', 'llama-4-scout'],
  ['anthropic', 'gpt-4.1'],
  ['mistral', 'mistral-large-latest'],
];

t.test('snapshots, spellings and aliases normalise to the priced row', async (t) => {
  for (const [provider, model, canonical] of PRICED) {
    t.equal(pricing.normalizeModel(provider, model), canonical, `${provider} ${JSON.stringify(model)}`);
    t.same(pricing.llmRate(provider, model), pricing.llmRate(provider, canonical), `${provider} ${model} is priced as ${canonical}`);
    t.not(pricing.llmRate(provider, model), undefined, `${provider} ${model} is priced`);
  }
});

t.test('a model that is not in the table stays unpriced', async (t) => {
  for (const [provider, model] of UNPRICED) {
    t.equal(pricing.llmRate(provider, model), undefined, `${provider} ${JSON.stringify(model)}`);
  }
});

t.test('prefix-like names are not collapsed onto a priced model', async (t) => {
  t.equal(pricing.normalizeModel('openai', 'gpt-4.1-mini-foo'), 'gpt-4.1-mini-foo');
  t.equal(pricing.normalizeModel('openai', 'gpt-4o'), 'gpt-4o');
  t.equal(pricing.normalizeModel('openai', 'gpt-4'), 'gpt-4');
  t.equal(pricing.normalizeModel('anthropic', 'claude-sonnet-4-5'), 'claude-sonnet-4-5');
  t.equal(pricing.normalizeModel('openai', '-latest'), '-latest', 'a name that is only a suffix is kept');
});

t.test('operator aliases are keyed provider:alias', async (t) => {
  const p = createPricing({ aliases: { 'openai:prod-chat': 'gpt-4.1-2025-04-14', 'anthropic:Fast': 'claude-3-5-haiku' } });
  t.equal(p.normalizeModel('openai', 'prod-chat'), 'gpt-4.1', 'the alias target is normalised too');
  t.same(p.llmRate('openai', 'PROD-CHAT'), { inputPer1k: 4_000_000, outputPer1k: 16_000_000 });
  t.same(p.llmRate('anthropic', 'fast'), { inputPer1k: 2_000_000, outputPer1k: 8_000_000 });
  t.equal(p.llmRate('groq', 'prod-chat'), undefined, 'an alias belongs to its provider');
  t.equal(pricing.llmRate('openai', 'prod-chat'), undefined, 'and to the pricing it was configured on');
});
