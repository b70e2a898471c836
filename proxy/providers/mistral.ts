// Mistral: OpenAI-compatible chat; streams carry `usage` on the last chunk without being asked
// (stream_options is not part of Mistral's API, so nothing is injected).
// https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post
// The seed prices no Mistral LLM: chat models are refused with unpriced_model unless the
// operator prices them in `pricing.llm` (`mistral:mistral-small-latest`, …).

import { openAiCompatible } from './openai-compatible.js';
import { transcriptionRoute } from './openai-audio.js';

export const mistral = openAiCompatible({
  id: 'mistral',
  defaultBaseUrl: 'https://api.mistral.ai',
  prefix: '/v1',
  injectStreamUsage: false,
  // Mistral's chat API names the output limit max_tokens only.
  boundField: 'max_tokens',
  // Voxtral transcription: multipart `file`, or `file_url`/`file_id`; `usage.prompt_audio_seconds`
  // in the answer and in the stream's `transcription.done` event.
  extraRoutes: [transcriptionRoute({ path: '/v1/audio/transcriptions', referenceFields: ['file_url', 'file_id'] })],
});
