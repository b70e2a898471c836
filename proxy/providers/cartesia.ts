// Cartesia: Sonic text-to-speech (bytes, SSE) and Ink batch speech-to-text.
// https://docs.cartesia.ai/api-reference/tts/bytes · https://docs.cartesia.ai/api-reference/stt/transcribe
//
// Verified against @cartesia/cartesia-js 4.2 (client.js, resources/tts.js, resources/stt/stt.js):
// - the key goes in `Authorization: Bearer`, with `cartesia-version: 2026-08-14`; `baseURL`
//   (or CARTESIA_BASE_URL) replaces https://api.cartesia.ai. Older clients send `X-API-Key` and
//   `Cartesia-Version: 2024-06-10`; the API accepts either header ("Authenticate your client
//   applications" in Cartesia's docs), so the upstream always gets `Authorization: Bearer`, and
//   the client's Cartesia-Version passes through unchanged.
// - tts.generate: POST /tts/bytes (Accept audio/wav); tts.generateSSE: POST /tts/sse; JSON with
//   `model_id` and `transcript` (the text synthesized). No usage is reported.
// - stt.transcribe: POST /stt, multipart `file` + `model` (+ `language`,
//   `timestamp_granularities[]`); `encoding` (pcm_s16le, pcm_s32le, pcm_f16le, pcm_f32le,
//   pcm_mulaw, pcm_alaw) and `sample_rate` in the query for raw audio. The answer's `duration`
//   is seconds (STTTranscribeResponse). POST /audio/transcriptions is the OpenAI-compatible
//   form of the same, also multipart `file`.
//
// Billing: TTS bills tollgate's code points of `transcript` (Cartesia reports nothing). STT
// bills tollgate's measurement of `file` (raw PCM from `encoding`/`sample_rate`, one channel);
// the answer's `duration` bills only if the file could not be measured, and is recorded always.
// Error shape: Cartesia's `{title, message, status_code}` (the SDK shows `message`), plus the code.

import { ERROR_CODES } from '../errors.js';
import { createMultipartAudioMeter, pcmFromEncoding, sttReserveMs } from '../meters/audio.js';
import { secondsToMs, sttPlan } from '../meters/audio-stt.js';
import { optionalModel, requiredText, type TtsRequest } from '../meters/tts.js';
import { headerString } from './headers.js';
import { freeRoute, setBearer } from './openai-compatible.js';
import { jsonTtsRoute } from './tts-route.js';
import type { MeterPlan, ProviderAdapter, RouteContext, RouteSpec } from './types.js';

function ttsRequest(ctx: RouteContext, obj: Record<string, unknown>): TtsRequest {
  return { text: requiredText(ctx, obj.transcript, 'transcript'), model: optionalModel(obj.model_id) };
}

function sttRoute(path: string): RouteSpec {
  return {
    method: 'POST',
    path,
    body: 'stream',
    plan(ctx, body): MeterPlan {
      const contentLength = body.kind === 'stream' ? body.contentLength : undefined;
      const ct = headerString(ctx.headers['content-type']);
      const pcm = pcmFromEncoding(ctx.query.get('encoding'), ctx.query.get('sample_rate'), '1');
      const mp = createMultipartAudioMeter(ct, { fileFields: ['file'], textFields: ['model', 'language'], ...(pcm ? { pcm } : {}) });
      return sttPlan(ctx, {
        reservedMs: sttReserveMs(ctx.limits, contentLength),
        measure: mp,
        reported: { fields: ['duration'], ms: (v) => secondsToMs(v.duration) },
      });
    },
  };
}

export const cartesia: ProviderAdapter = {
  id: 'cartesia',
  modality: 'tts',
  defaultBaseUrl: 'https://api.cartesia.ai',
  clientAuth: ['bearer', 'x-api-key'],
  setUpstreamKey: setBearer,
  errorBody(code, message) {
    return { title: code, message, status_code: ERROR_CODES[code], error_code: code };
  },
  routes: [
    jsonTtsRoute('/tts/bytes', ttsRequest),
    jsonTtsRoute('/tts/sse', ttsRequest),
    sttRoute('/stt'),
    sttRoute('/audio/transcriptions'),
    freeRoute('GET', '/'), // API status / version
    freeRoute('GET', '/voices'),
    freeRoute('GET', /^\/voices\/[^/]+$/),
  ],
};
