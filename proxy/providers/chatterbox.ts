// Chatterbox TTS API (travisvn/chatterbox-tts-api, self-hosted, no key): OpenAI-compatible speech
// under `/v1/audio/speech` and its aliases (`/audio/speech`, `/tts`), JSON `input`; the same with
// a voice sample upload (`…/upload`, multipart form `input` + `voice_file`); raw streaming
// (`…/stream`, `…/stream/upload`); `stream_format: "sse"` answers `speech.audio.delta` events and
// a final `speech.audio.done` with `usage{input_tokens, output_tokens}`; long texts are queued as
// jobs (`POST /audio/speech/long`). Paths from app/core/aliases.py.
//
// Billing: code points of `input` as the server synthesizes it (its validator strips it), at
// the seed's Chatterbox rate. The SSE `usage` is a rough word and chunk count (`len(text.split())`,
// 50 per audio chunk): recorded as tokens, never billed. A long-text job is billed when it is
// accepted; its status, download and SSE progress are free. Job retries and bulk actions would
// synthesize again without a text to count and are not routed.

import { requiredText, ttsPlan } from '../meters/tts.js';
import { freeRoute, openAiErrorBody, setBearer } from './openai-compatible.js';
import { formFields, speechDoneReport, speechRoute } from './openai-audio.js';
import type { ProviderAdapter, RouteSpec } from './types.js';

const PREFIXES = ['', '/v1'];

/** The multipart variants: the text is the form field `input`, the voice sample is skipped. */
function uploadRoute(path: string): RouteSpec {
  return {
    method: 'POST',
    path,
    body: 'buffer',
    plan(ctx, body) {
      const input = requiredText(ctx, formFields(ctx, body, ['input']).input, 'input');
      return ttsPlan(ctx, { text: input.trim(), report: speechDoneReport });
    },
  };
}

const routes: RouteSpec[] = [];
for (const p of [...PREFIXES.map((x) => `${x}/audio/speech`), '/tts']) {
  routes.push(speechRoute({ path: p, trim: true }));
  routes.push(speechRoute({ path: `${p}/stream`, trim: true }));
  routes.push(uploadRoute(`${p}/upload`));
  routes.push(uploadRoute(`${p}/stream/upload`));
}
for (const x of PREFIXES) {
  routes.push(speechRoute({ path: `${x}/audio/speech/long`, trim: true }));
  routes.push(freeRoute('GET', `${x}/audio/speech/long`));
  routes.push(freeRoute('GET', new RegExp(`^${x.replace('/', '\\/')}\\/audio\\/speech\\/long\\/[^/]+(?:\\/(?:download|sse|details))?$`)));
  routes.push(freeRoute('GET', `${x}/audio/speech/long-history`));
  routes.push(freeRoute('GET', `${x}/models`));
  routes.push(freeRoute('GET', `${x}/voices`));
  routes.push(freeRoute('GET', new RegExp(`^${x.replace('/', '\\/')}\\/voices\\/[^/]+(?:\\/download)?$`)));
  routes.push(freeRoute('GET', `${x}/health`));
}
// Voice library listings under their other names.
for (const p of ['/voice-library', '/voice_library', '/default-voice', '/status', '/info', '/v1/info', '/api/info']) routes.push(freeRoute('GET', p));

export const chatterbox: ProviderAdapter = {
  id: 'chatterbox',
  modality: 'tts',
  keyOptional: true,
  clientAuth: ['bearer'],
  setUpstreamKey: setBearer,
  routes,
  errorBody: openAiErrorBody,
};
