// Deepgram: Aura text-to-speech (`/v1/speak`) and pre-recorded speech-to-text (`/v1/listen`).
// https://developers.deepgram.com/reference/text-to-speech-api/speak
// https://developers.deepgram.com/reference/speech-to-text-api/listen
//
// Verified against @deepgram/sdk 5.13 (dist/cjs/api/resources/{speak,listen}/…/Client.js,
// CustomClient.js, auth/HeaderAuthProvider.js):
// - the key goes in `Authorization: Token KEY` (access tokens: `Bearer`); `baseUrl` replaces
//   https://api.deepgram.com, so clients use `baseUrl: http://PROXY/deepgram`.
// - speak.v1.audio.generate: POST v1/speak, JSON body `{text}`, model/encoding/container/
//   sample_rate in the query. The answer is audio; the API reports its count in the
//   `dg-char-count` header (not read by the SDK; seen in public client code and Deepgram's docs).
// - listen.v1.media.transcribeFile: POST v1/listen with the raw file as the body
//   (application/octet-stream or the client's type); transcribeUrl: JSON `{"url"}`. Raw
//   headerless audio is described by `encoding` (linear16, mulaw, …), `sample_rate`, `channels`.
//   The answer's `metadata.duration` is seconds (ListenV1ResponseMetadata); with `callback`
//   the answer is `{request_id}` only.
//
// Billing: TTS bills tollgate's code points of `text`; `dg-char-count` is recorded as
// `reported.chars`. STT bills tollgate's measurement of the body (container headers, or bytes ÷
// byte rate for raw PCM); `metadata.duration` bills when the audio came by URL or could not be
// measured, and is recorded either way. A URL request is reserved at `sttMaxReserveSeconds`, as
// nothing bounds its length before the answer.
// Error shape: Deepgram's legacy `{err_code, err_msg, request_id}`.

import { createAudioDuration, pcmFromEncoding, pcmMs, sttReserveMs } from '../meters/audio.js';
import { rawUploadMeter, secondsToMs, sttPlan } from '../meters/audio-stt.js';
import { headerCharsReport, optionalModel, requiredText } from '../meters/tts.js';
import { headerString } from './headers.js';
import { freeRoute } from './openai-compatible.js';
import { jsonTtsRoute } from './tts-route.js';
import type { MeterPlan, ProviderAdapter } from './types.js';

export const deepgram: ProviderAdapter = {
  id: 'deepgram',
  modality: 'stt',
  defaultBaseUrl: 'https://api.deepgram.com',
  clientAuth: ['token', 'bearer'],
  // API keys are 40 hex characters.
  byokKeyLength: { min: 32, max: 128 },
  setUpstreamKey(headers, key) {
    headers.authorization = `Token ${key}`;
  },
  errorBody(code, message) {
    return { err_code: code, err_msg: message, request_id: null };
  },
  routes: [
    jsonTtsRoute('/v1/speak', (ctx, obj) => ({
      text: requiredText(ctx, obj.text, 'text'),
      model: optionalModel(ctx.query.get('model')),
      report: headerCharsReport('dg-char-count'),
    })),
    {
      method: 'POST',
      path: '/v1/listen',
      body: 'stream',
      plan(ctx, body): MeterPlan {
        const contentLength = body.kind === 'stream' ? body.contentLength : undefined;
        const ct = headerString(ctx.headers['content-type']).toLowerCase();
        const model = ctx.query.get('model') || undefined;
        const reported = { fields: ['metadata'], ms: (v: Record<string, unknown>) => secondsToMs((v.metadata as { duration?: unknown } | undefined)?.duration) };
        if (ct.includes('json')) {
          // `{"url": …}`: only Deepgram's answer knows the length.
          return sttPlan(ctx, { ...(model ? { model } : {}), reservedMs: ctx.limits.sttMaxReserveSeconds * 1000, reported });
        }
        const q = ctx.query;
        const pcm = pcmFromEncoding(q.get('encoding'), q.get('sample_rate'), q.get('channels'));
        const d = createAudioDuration(pcm ? { pcm } : { contentType: ct });
        const known = pcm && contentLength !== undefined ? pcmMs(pcm, contentLength) : undefined;
        return sttPlan(ctx, { ...(model ? { model } : {}), reservedMs: sttReserveMs(ctx.limits, contentLength, known), measure: rawUploadMeter(d), reported });
      },
    },
    freeRoute('GET', '/v1/models'),
    freeRoute('GET', /^\/v1\/models\/[^/]+$/),
  ],
};
