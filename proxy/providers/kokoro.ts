// Kokoro-FastAPI (self-hosted, no key): OpenAI-compatible `POST /v1/audio/speech` (JSON `input`;
// audio streams by default, `stream: false` buffers), `POST /dev/captioned_speech` (the same
// request, audio with word timestamps) and `POST /dev/dialogue` (speaker `turns[].text`).
// Routes as in remsky/Kokoro-FastAPI api/src/routers/{openai_compatible,development}.py.
//
// Billing: code points of the text, at the seed's Kokoro rate; Kokoro reports nothing. Markup
// Kokoro reads but does not speak is not counted: SSML tags (`ssml: true`), `[pause:…s]`, and the
// `[voice:…]`/`[rate:…]` tags of `allow_voice_tags`. Dialogue turns count their texts. Phoneme synthesis
// (`/dev/generate_from_phonemes`) has no text to count and is not routed.

import { requiredText, ssmlText } from '../meters/tts.js';
import { freeRoute, openAiErrorBody, setBearer } from './openai-compatible.js';
import { speechRoute } from './openai-audio.js';
import type { ProviderAdapter, RouteContext } from './types.js';

// Inline control tags Kokoro reads and does not speak (api/src/services/text_processing/text_processor.py).
const PAUSE_TAG = /\[pause:\d+(?:\.\d+)?s\]/gi;
const CONTROL_TAG = /\[voice:\s*[a-zA-Z0-9_][a-zA-Z0-9_+\-(). ]*?\s*\]|\[(?:base)?rate:\s*\d+(?:\.\d+)?\s*\]/gi;

function speechText(ctx: RouteContext, obj: Record<string, unknown>): string {
  const input = requiredText(ctx, obj.input, 'input');
  let text = obj.ssml === true ? ssmlText(input) : input;
  if (obj.allow_voice_tags === true) text = text.replace(CONTROL_TAG, '');
  return text.replace(PAUSE_TAG, '');
}

function dialogueText(ctx: RouteContext, obj: Record<string, unknown>): string {
  const turns = obj.turns ?? obj.inputs;
  if (!Array.isArray(turns)) ctx.fail('invalid_request', '`turns` (the dialogue to synthesize) is required');
  // Kokoro strips each turn's text before rendering it.
  return turns.map((t) => requiredText(ctx, (t as { text?: unknown } | null)?.text, 'turns[].text').trim()).join('');
}

export const kokoro: ProviderAdapter = {
  id: 'kokoro',
  modality: 'tts',
  keyOptional: true,
  clientAuth: ['bearer'],
  setUpstreamKey: setBearer,
  routes: [
    // Audio streams unless the request says `stream: false`.
    speechRoute({ path: '/v1/audio/speech', text: speechText, streamed: (obj) => obj.stream !== false }),
    speechRoute({ path: '/dev/captioned_speech', text: speechText, streamed: (obj) => obj.stream !== false }),
    speechRoute({ path: '/dev/dialogue', text: dialogueText }),
    freeRoute('GET', '/v1/models'),
    freeRoute('GET', /^\/v1\/models\/[^/]+$/),
    freeRoute('GET', '/v1/audio/voices'),
    // Voice combination mixes stored voice tensors; no speech is synthesized.
    freeRoute('POST', '/v1/audio/voices/combine'),
    // Files written by earlier (metered) requests with return_download_link.
    freeRoute('GET', /^\/v1\/download\/[^/]+$/),
    // Text normalisation only.
    freeRoute('POST', '/dev/phonemize'),
  ],
  errorBody: openAiErrorBody,
};
