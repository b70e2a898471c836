// OpenAI: chat completions and Responses (LLM), with more routes (audio) added by the voice work.
// Streams carry usage only with stream_options.include_usage, which tollgate injects and hides.
// https://platform.openai.com/docs/api-reference/chat-streaming

import { openAiCompatible } from './openai-compatible.js';
import { speechRoute, transcriptionRoute } from './openai-audio.js';

export const openai = openAiCompatible({
  id: 'openai',
  defaultBaseUrl: 'https://api.openai.com',
  prefix: '/v1',
  injectStreamUsage: true,
  // A capped account's request without a limit gets max_completion_tokens: OpenAI deprecates
  // max_tokens in its favour, and its reasoning models refuse max_tokens.
  // https://platform.openai.com/docs/api-reference/chat/create#chat-create-max_completion_tokens
  boundField: 'max_completion_tokens',
  // An image costs at most 1,536 32-px patches × the model's multiplier on patch-based models
  // (gpt-4.1-nano: × 2.46 = 3,779, the largest of the seed's models), 85 + 170 × 8 tiles = 1,445
  // on tile-based ones at high detail (gpt-4.1).
  // https://platform.openai.com/docs/guides/images-vision#calculating-costs
  // (gpt-4o-mini counts 2,833 + 5,667 a tile: unpriced in the seed; an operator pricing it
  // relies on the ledger's write-off at the cap.) OpenAI documents no tool preamble: tools are
  // bounded by their JSON's bytes, longer than the form the model reads.
  inputBounds: { imageTokens: 3_779, toolTokens: 0 },
  responses: true,
  // Speech-to-text bills at the seed's Whisper row (pricing's STT_PROVIDER_ROWS); text-to-speech
  // has no seed price: 400 unpriced_model unless the operator prices `openai` under pricing.tts.
  extraRoutes: [
    transcriptionRoute({ path: '/v1/audio/transcriptions' }),
    transcriptionRoute({ path: '/v1/audio/translations' }),
    speechRoute({ path: '/v1/audio/speech', requireModel: true }),
  ],
});
