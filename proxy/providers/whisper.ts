// Self-hosted whisper-compatible servers (speaches/faster-whisper-server, LocalAI, whisper.cpp's
// OpenAI-compatible mode): OpenAI's `POST /v1/audio/transcriptions` and `/translations`, multipart
// `file`. No default upstream, no key needed (a configured apiKey is sent as Bearer).
//
// Billing: the seconds tollgate measures from the upload, at the seed's Whisper row; `verbose_json`
// is the only format these servers time (`duration`), used when the audio cannot be parsed.

import { freeRoute, openAiErrorBody, setBearer } from './openai-compatible.js';
import { transcriptionRoute } from './openai-audio.js';
import type { ProviderAdapter } from './types.js';

export const whisper: ProviderAdapter = {
  id: 'whisper',
  modality: 'stt',
  keyOptional: true,
  clientAuth: ['bearer'],
  setUpstreamKey: setBearer,
  routes: [
    transcriptionRoute({ path: '/v1/audio/transcriptions' }),
    transcriptionRoute({ path: '/v1/audio/translations' }),
    freeRoute('GET', '/v1/models'),
    freeRoute('GET', /^\/v1\/models\/[^/]+$/),
    freeRoute('GET', '/health'),
  ],
  errorBody: openAiErrorBody,
};
