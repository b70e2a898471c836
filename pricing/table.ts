// The seed price table (shared/seed "Credit Costs") as data, every rate in µcr: 1 credit = 1,000,000 µcr.

import type { PriceTable } from './types.js';

/**
 * Every row of the seed table. A provider missing here is unpriced for that modality, and
 * the proxy refuses it with `unpriced_model` unless the operator adds a price.
 */
export const SEED_PRICES: PriceTable = deepFreeze({
  // Text-to-speech: µcr per 1,000 characters.
  tts: {
    cartesia: 78_000_000,
    elevenlabs: 166_000_000,
    deepgram: 30_000_000,
    fishaudio: 10_000_000,
    resemble: 120_000_000, // seed: "Resemble AI"
    inworld: 80_000_000,
    chatterbox: 6_000_000,
    pockettts: 2_000_000, // seed: "Pocket TTS"
    kokoro: 4_000_000,
    qwen: 4_000_000, // seed: "Qwen TTS"
  },
  // Speech-to-text: µcr per minute of audio. OpenAI's transcription endpoint is "Whisper":
  // see STT_PROVIDER_ROWS.
  stt: {
    whisper: 12_000_000,
    deepgram: 9_000_000,
    elevenlabs: 6_000_000,
    fishaudio: 8_000_000,
    cartesia: 10_000_000,
    mistral: 8_000_000,
    groq: 2_000_000,
  },
  // LLM: µcr per 1,000 tokens, keyed by provider and canonical model (see normalize.ts).
  llm: {
    'openai:gpt-5.2': { inputPer1k: 5_000_000, outputPer1k: 20_000_000 },
    'openai:gpt-4.1': { inputPer1k: 4_000_000, outputPer1k: 16_000_000 },
    'openai:gpt-4.1-mini': { inputPer1k: 1_000_000, outputPer1k: 3_000_000 },
    'openai:gpt-4.1-nano': { inputPer1k: 1_000_000, outputPer1k: 1_000_000 },
    'anthropic:claude-sonnet-4': { inputPer1k: 6_000_000, outputPer1k: 30_000_000 },
    'anthropic:claude-3-5-haiku': { inputPer1k: 2_000_000, outputPer1k: 8_000_000 }, // seed: "Claude Haiku 3.5"
    'groq:llama-4-maverick': { inputPer1k: 1_000_000, outputPer1k: 2_000_000 },
    'groq:llama-4-scout': { inputPer1k: 1_000_000, outputPer1k: 1_000_000 },
  },
  // RAG: µcr per search query.
  rag: 2_000_000,
});

/**
 * STT providers priced by another provider's row when they have none of their own. The seed
 * lists "Whisper", and OpenAI's `/v1/audio/transcriptions` is Whisper, so `openai` pays the
 * whisper row; an operator's own `stt.openai` price takes precedence.
 */
export const STT_PROVIDER_ROWS: Readonly<Record<string, string>> = Object.freeze({
  openai: 'whisper',
});

/**
 * Exact model aliases, `provider:alias` -> canonical model, looked up before and after
 * date suffixes are stripped. Exact on purpose: a name is priced only if it is known to be
 * the same model, never because it looks like one.
 */
export const SEED_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  // The seed's name order, and the dotted spelling.
  'anthropic:claude-haiku-3-5': 'claude-3-5-haiku',
  'anthropic:claude-haiku-3.5': 'claude-3-5-haiku',
  'anthropic:claude-3.5-haiku': 'claude-3-5-haiku',
  // Groq's model ids (https://console.groq.com/docs/models), after `meta-llama/` is removed.
  'groq:llama-4-maverick-17b-128e-instruct': 'llama-4-maverick',
  'groq:llama-4-scout-17b-16e-instruct': 'llama-4-scout',
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
