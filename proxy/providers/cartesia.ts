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
import { requiredText, ttsPlan } from '../meters/audio-tts.js';
import { freeRoute, jsonObject, setBearer } from './openai-compatible.js';
import type { MeterPlan, ProviderAdapter, RouteSpec } from './types.js';

function ttsRoute(path: string): RouteSpec {
  return {
    method: 'POST',
    path,
    body: 'json',
    plan(ctx, body): MeterPlan {
      const obj = jsonObject(ctx, body);
      const text = requiredText(ctx, obj, 'transcript');
      const model = typeof obj.model_id === 'string' && obj.model_id !== '' ? obj.model_id : undefined;
      return ttsPlan(ctx, { text, ...(model ? { model } : {}) });
    },
  };
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
    ttsRoute('/tts/bytes'),
    ttsRoute('/tts/sse'),
    sttRoute('/stt'),
    sttRoute('/audio/transcriptions'),
    freeRoute('GET', '/'), // API status / version
    freeRoute('GET', '/voices'),
    freeRoute('GET', /^\/voices\/[^/]+$/),
  ],
};

function headerString(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? '';
}
