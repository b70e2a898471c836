// Pocket TTS (kyutai-labs/pocket-tts `pocket-tts serve`, self-hosted, no key): `POST /tts` takes a
// form — `text`, and `voice_url` or an uploaded `voice_wav` — and streams WAV back (FastAPI
// `Form(...)`, so multipart and urlencoded bodies both work). pocket_tts/main.py.
//
// Billing: code points of `text`, at the seed's Pocket TTS rate; the server reports nothing.
// The body is a small form read whole ('buffer', bounded by proxy.maxJsonBodyBytes, which also
// bounds an uploaded voice sample) so the text is counted before forwarding.

import type { ErrorCode } from '../errors.js';
import { requiredText, ttsPlan } from '../meters/tts.js';
import { freeRoute, setBearer } from './openai-compatible.js';
import { formFields } from './openai-audio.js';
import type { ProviderAdapter } from './types.js';

export const pockettts: ProviderAdapter = {
  id: 'pockettts',
  modality: 'tts',
  keyOptional: true,
  clientAuth: ['bearer'],
  setUpstreamKey: setBearer,
  routes: [
    {
      method: 'POST',
      path: '/tts',
      body: 'buffer',
      plan(ctx, body) {
        return ttsPlan(ctx, { text: requiredText(ctx, formFields(ctx, body, ['text']).text, 'text') });
      },
    },
    freeRoute('GET', '/health'),
  ],
  // FastAPI's error shape, `{"detail": …}`, with tollgate's code beside it.
  errorBody(code: ErrorCode, message: string) {
    return { detail: message, code };
  },
};
