// Types of the pricing domain: rates, tiers, costs. Pure data, no I/O.
//
// Money is integers: every amount is in micro-credits (1 credit = 1,000,000 µcr;
// 1 credit = $0.001, so 1 µcr = $0.000000001). Rates are integers in µcr too, which
// keeps every cost computation exact for the seed table and for operator rates with
// up to six decimals of a credit.

export type Modality = 'tts' | 'stt' | 'llm' | 'rag';
export const MODALITIES: readonly Modality[] = ['tts', 'stt', 'llm', 'rag'];

export type TierId = 'free' | 'starter' | 'pro' | 'scale';
export const TIER_IDS: readonly TierId[] = ['free', 'starter', 'pro', 'scale'];

/** Micro-credits in one credit. */
export const MICRO_PER_CREDIT = 1_000_000;

/** Every provider id tollgate routes (`http://PROXY/{provider}/...`); price keys use these. */
export type ProviderId =
  | 'openai' | 'anthropic' | 'groq' | 'mistral' | 'elevenlabs' | 'deepgram' | 'cartesia'
  | 'fishaudio' | 'resemble' | 'inworld' | 'qwen' | 'kokoro' | 'chatterbox' | 'pockettts'
  | 'whisper' | 'rag';
export const PROVIDER_IDS: readonly ProviderId[] = [
  'openai', 'anthropic', 'groq', 'mistral', 'elevenlabs', 'deepgram', 'cartesia',
  'fishaudio', 'resemble', 'inworld', 'qwen', 'kokoro', 'chatterbox', 'pockettts',
  'whisper', 'rag',
];

/**
 * A price table in µcr. TTS and STT rows are keyed `provider` or `provider:model` (the model
 * part normalised); LLM rows `provider:model`.
 */
export interface PriceTable {
  /** µcr per 1,000 characters. */
  tts: Readonly<Record<string, number>>;
  /** µcr per minute of audio. */
  stt: Readonly<Record<string, number>>;
  llm: Readonly<Record<string, Readonly<LlmRate>>>;
  /** µcr per RAG search query. */
  rag: number;
}

export interface LlmRate {
  /** µcr per 1,000 input tokens. */
  inputPer1k: number;
  /** µcr per 1,000 output tokens. */
  outputPer1k: number;
  /** µcr per 1,000 cache-read input tokens; absent: cache reads count as input. */
  cacheReadPer1k?: number;
  /** µcr per 1,000 cache-write input tokens; absent: cache writes count as input. */
  cacheWritePer1k?: number;
  /** µcr per 1,000 uncached audio input tokens (realtime models); absent: they count as input. */
  audioInputPer1k?: number;
  /** µcr per 1,000 audio output tokens (realtime models); absent: they count as output. */
  audioOutputPer1k?: number;
}

/**
 * Tokens of one LLM call. The four counts are disjoint (Anthropic's shape): an adapter whose
 * provider folds cached tokens into its input count (OpenAI's `prompt_tokens`) either
 * reports them all as `inputTokens`, or subtracts what it moves to `cacheReadTokens`.
 */
export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Uncached audio input tokens, disjoint from `inputTokens` (OpenAI Realtime). */
  audioInputTokens?: number;
  /** Audio output tokens, disjoint from `outputTokens` (OpenAI Realtime). */
  audioOutputTokens?: number;
}

export interface Tier {
  id: TierId;
  /** Monthly price in US cents (Stripe's unit), for display and checkout. */
  priceCents: number;
  /** Included credits per period, in µcr. */
  includedMicro: number;
  /** true: requests past the limit are refused (Free). false: overage allowed. */
  hardCap: boolean;
  /** Overage price in USD per credit, as a decimal string (exact, for Stripe's unit_amount_decimal). */
  overageUsdPerCredit: string | null;
  /** How many following periods unused included credits stay available for. */
  carryoverPeriods: number;
}

/**
 * Operator overrides and additions, from `pricing:` in the config. Credits are plain
 * numbers there (e.g. 166, or 0.5); the pricing factory converts them to µcr exactly
 * (at most 6 decimals) and rejects anything that is not.
 */
export interface PricingOverrides {
  /** provider id -> credits per 1,000 characters (keys `provider` or `provider:model`). */
  tts?: Record<string, number>;
  /** provider id -> credits per minute of audio (keys `provider` or `provider:model`). */
  stt?: Record<string, number>;
  /** `provider:model` -> credits per 1,000 tokens. */
  llm?: Record<string, { input: number; output: number; cacheRead?: number; cacheWrite?: number; audioInput?: number; audioOutput?: number }>;
  /** extra model aliases: `provider:alias` -> canonical model. */
  aliases?: Record<string, string>;
  /** credits per RAG search query. */
  rag?: number;
}

export interface TierOverrides {
  [tier: string]: {
    priceCents?: number;
    includedCredits?: number;
    carryoverPeriods?: number;
    overageUsdPerCredit?: string | null;
  };
}

/** What the rest of tollgate sees of pricing. Every method is pure and synchronous. */
export interface Pricing {
  /** µcr per 1,000 characters for a TTS provider (model-specific row first), or undefined if unpriced. */
  ttsRate(provider: string, model?: string): number | undefined;
  /** µcr per minute of audio for an STT provider (model-specific row first), or undefined. */
  sttRate(provider: string, model?: string): number | undefined;
  /** LLM rate after model-name normalisation, or undefined if unpriced. */
  llmRate(provider: string, model: string): LlmRate | undefined;
  /** The canonical model name pricing uses for `model` (dates and aliases removed). */
  normalizeModel(provider: string, model: string): string;
  /** µcr per RAG query. */
  ragRate(): number;
  /** Exact cost in µcr. */
  ttsCost(ratePer1k: number, chars: number): number;
  /** Cost of `ms` milliseconds of audio, in µcr, rounded half up to a whole µcr. */
  sttCost(ratePerMinute: number, ms: number): number;
  llmCost(rate: LlmRate, usage: LlmUsage): number;
  tier(id: TierId): Tier;
  tiers(): readonly Tier[];
}
