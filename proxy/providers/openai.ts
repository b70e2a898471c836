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
  responses: true,
  // Speech-to-text bills at the seed's Whisper row (pricing's STT_PROVIDER_ROWS); text-to-speech
  // has no seed price: 400 unpriced_model unless the operator prices `openai` under pricing.tts.
  extraRoutes: [
    transcriptionRoute({ path: '/v1/audio/transcriptions' }),
    transcriptionRoute({ path: '/v1/audio/translations' }),
    speechRoute({ path: '/v1/audio/speech', requireModel: true }),
  ],
});
