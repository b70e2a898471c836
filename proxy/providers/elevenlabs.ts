// ElevenLabs: text-to-speech (plain, streamed, with timestamps) and Scribe speech-to-text.
// https://elevenlabs.io/docs/api-reference/text-to-speech/convert
//
// Verified against @elevenlabs/elevenlabs-js 2.73 (api/resources/{textToSpeech,speechToText}):
// - every call sends the key as `xi-api-key`; `baseUrl` (or `environment`) replaces
//   https://api.elevenlabs.io, so clients use `baseUrl: http://PROXY/elevenlabs`.
// - TTS: POST v1/text-to-speech/{voice_id}, /stream, /with-timestamps, /stream/with-timestamps;
//   JSON body with `text`, `model_id`, plus `previous_text`/`next_text` (context only, not
//   synthesized: not counted); `output_format` etc. in the query.
// - STT: POST v1/speech-to-text, multipart: `model_id`, `file` (or `cloud_storage_url` /
//   `source_url`), `file_format` ("pcm_s16le_16": raw 16 kHz mono 16-bit PCM), `webhook`...
//   The answer's `audio_duration_secs` (seconds; also in the multichannel shape) is the
//   provider's duration.
// - The SDK does not read `character-cost`; the API sends it on TTS responses (seen in public
//   client code): ElevenLabs credits for the request, weighted by model (0.5 a character on
//   Flash/Turbo), so it is not a character count.
//
// Billing: TTS bills tollgate's count of code points of `text` (the metering rule; known before
// forwarding so the reservation is exact); `character-cost` is recorded as `reported.chars`.
// STT bills tollgate's measurement of the uploaded file; the provider's `audio_duration_secs`
// bills only when the audio came by URL or could not be parsed, and is recorded either way.
// The provider's error shape: {"detail": {"status", "message"}}.

import { createMultipartAudioMeter, pcmMs, sttReserveMs, type PcmFormat } from '../meters/audio.js';
import { secondsToMs, sttPlan } from '../meters/audio-stt.js';
import { headerCharsReport, optionalModel, requiredText } from '../meters/tts.js';
import { headerString } from './headers.js';
import { freeRoute } from './openai-compatible.js';
import { jsonTtsRoute } from './tts-route.js';
import type { MeterPlan, ProviderAdapter } from './types.js';

/** `file_format=pcm_s16le_16`: the file is headerless PCM. */
const SCRIBE_PCM: PcmFormat = { sampleRate: 16_000, channels: 1, bytesPerSample: 2 };

export const elevenlabs: ProviderAdapter = {
  id: 'elevenlabs',
  modality: 'tts',
  defaultBaseUrl: 'https://api.elevenlabs.io',
  clientAuth: ['xi-api-key'],
  setUpstreamKey(headers, key) {
    headers['xi-api-key'] = key;
  },
  errorBody(code, message) {
    return { detail: { status: code, message } };
  },
  routes: [
    jsonTtsRoute(/^\/v1\/text-to-speech\/([^/]+)(?:\/stream)?(?:\/with-timestamps)?$/, (ctx, obj) => ({
      text: requiredText(ctx, obj.text, 'text'),
      model: optionalModel(obj.model_id),
      report: headerCharsReport('character-cost'),
      streamed: ctx.path.includes('/stream'),
    })),
    {
      method: 'POST',
      path: '/v1/speech-to-text',
      body: 'stream',
      plan(ctx, body): MeterPlan {
        const contentLength = body.kind === 'stream' ? body.contentLength : undefined;
        const ct = headerString(ctx.headers['content-type']);
        const mp = createMultipartAudioMeter(ct, {
          fileFields: ['file'],
          textFields: ['model_id', 'file_format', 'cloud_storage_url', 'source_url', 'webhook'],
        });
        return sttPlan(ctx, {
          reservedMs: sttReserveMs(ctx.limits, contentLength),
          measure: {
            upload: mp.upload,
            async result() {
              const m = await mp.result();
              // file_format may follow the file in the form: raw PCM is decided at the end.
              if (mp.fields().file_format === 'pcm_s16le_16' && m.hasFile && m.bytes !== undefined) {
                return { ms: pcmMs(SCRIBE_PCM, m.bytes), format: 'pcm' };
              }
              return m;
            },
          },
          reported: { fields: ['audio_duration_secs'], ms: (v) => secondsToMs(v.audio_duration_secs) },
        });
      },
    },
    // Listings the SDK and apps call: free.
    freeRoute('GET', '/v1/models'),
    freeRoute('GET', '/v1/voices'),
    freeRoute('GET', '/v2/voices'),
    freeRoute('GET', '/v1/voices/settings/default'),
    freeRoute('GET', /^\/v1\/voices\/[^/]+$/),
    freeRoute('GET', /^\/v1\/voices\/[^/]+\/settings$/),
    freeRoute('GET', '/v1/shared-voices'),
  ],
};
