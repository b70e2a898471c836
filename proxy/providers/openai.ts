// OpenAI: chat completions and Responses (LLM), with more routes (audio) added by the voice work.
// Streams carry usage only with stream_options.include_usage, which tollgate injects and hides.
// https://platform.openai.com/docs/api-reference/chat-streaming

import { openAiCompatible } from './openai-compatible.js';

export const openai = openAiCompatible({
  id: 'openai',
  defaultBaseUrl: 'https://api.openai.com',
  prefix: '/v1',
  injectStreamUsage: true,
  responses: true,
});
