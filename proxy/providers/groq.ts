// Groq: OpenAI-compatible under /openai/v1; streams report usage in the last chunk's `x_groq.usage`
// (and in an OpenAI-style usage chunk when the client asks for include_usage), so nothing is injected.
// https://console.groq.com/docs/api-reference#chat-create

import { openAiCompatible } from './openai-compatible.js';
import { transcriptionRoute } from './openai-audio.js';

export const groq = openAiCompatible({
  id: 'groq',
  defaultBaseUrl: 'https://api.groq.com',
  prefix: '/openai/v1',
  injectStreamUsage: false,
  // max_completion_tokens, as OpenAI (max_tokens is deprecated here too).
  // https://console.groq.com/docs/api-reference#chat-create
  boundField: 'max_completion_tokens',
  chunkUsage: (chunk) => (chunk.x_groq as { usage?: unknown } | undefined)?.usage,
  // Whisper on Groq: multipart `file`, or the audio by `url`; only `verbose_json` reports `duration`.
  extraRoutes: [
    transcriptionRoute({ path: '/openai/v1/audio/transcriptions', referenceFields: ['url'] }),
    transcriptionRoute({ path: '/openai/v1/audio/translations', referenceFields: ['url'] }),
  ],
});
