// Fish Audio: text-to-speech (`/v1/tts`, JSON or msgpack) and speech-to-text (`/v1/asr`).
// https://docs.fish.audio/api-reference/endpoint/openapi-v1/text-to-speech
//
// Verified against fishaudio/fish-audio-python 1.3 (src/fishaudio/resources/{tts,asr}.py,
// types/asr.py) and fishaudio/fish-audio-go (tts.go, asr.go):
// - the key goes in `Authorization: Bearer`; the TTS model in a `model` header (default s1 /
//   s2-pro), the body is msgpack (`Content-Type: application/msgpack`, Python) or JSON, with
//   `text`, `reference_id`, `references` (reference audio bytes for instant cloning: these are
//   inside the body, so it is read whole, bounded by proxy.maxJsonBodyBytes), `format`, ….
// - ASR: POST /v1/asr, msgpack `{audio: bin, language?, ignore_timestamps}` (Python) or
//   multipart with the file in `audio` (Go). The answer: `{text, duration, segments[{start,end}]}`.
//   Segment times are seconds everywhere; `duration` is milliseconds per both SDKs' types
//   (and the Python unit tests: duration 1500.0 with a segment ending at 1500.0), seconds per
//   the current API docs. tollgate reads it by the segments when there are any, else by the
//   upload's size (see reportedAsrMs), and bills it only when its own measurement failed.
// - Listings: GET /model, GET /model/{id} (voices).
//
// Billing: TTS bills tollgate's code points of `text` (Fish reports nothing). ASR bills
// tollgate's measurement of `audio`; the answer's duration is recorded, and bills if the audio
// could not be measured. Error shape: `{status, message}` (the SDK reads `message` or `detail`).

import { decode } from '@msgpack/msgpack';
import { ERROR_CODES } from '../errors.js';
import { createMultipartAudioMeter, sttReserveMs } from '../meters/audio.js';
import { createMsgpackAudioMeter } from '../meters/audio-msgpack.js';
import { sttPlan } from '../meters/audio-stt.js';
import { optionalModel, requiredText, ttsPlan } from '../meters/tts.js';
import { headerString } from './headers.js';
import { freeRoute, setBearer } from './openai-compatible.js';
import type { MeterPlan, ProviderAdapter, RequestBody, RouteContext } from './types.js';

function ttsBody(ctx: RouteContext, body: RequestBody): Record<string, unknown> {
  if (body.kind !== 'buffer') ctx.fail('invalid_request', 'the request body is required');
  const ct = headerString(ctx.headers['content-type']).toLowerCase();
  let value: unknown;
  try {
    value = ct.includes('msgpack') ? decode(body.raw) : JSON.parse(body.raw.toString('utf8'));
  } catch {
    ctx.fail('invalid_request', ct.includes('msgpack') ? 'the request body is not valid msgpack' : 'the request body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) ctx.fail('invalid_request', 'the request body must be an object');
  return value as Record<string, unknown>;
}

/**
 * The answer's `duration` in ms, whichever unit it is in. Candidates: seconds or ms. With
 * segments (seconds), the reading that is closer to the last segment's end wins; without, the
 * one whose implied byte rate is plausible for audio (500 B/s … 400 kB/s) for the upload's
 * size; else seconds, per the API docs.
 */
export function reportedAsrMs(v: Record<string, unknown>, uploadBytes: number | undefined): number | undefined {
  const d = v.duration;
  if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) return undefined;
  const asSeconds = Math.round(d * 1000);
  const asMs = Math.round(d);
  const segs = Array.isArray(v.segments) ? v.segments : [];
  let lastEnd = 0;
  for (const s of segs) {
    const e = (s as { end?: unknown } | null)?.end;
    if (typeof e === 'number' && Number.isFinite(e) && e > lastEnd) lastEnd = e;
  }
  if (lastEnd > 0) {
    const endMs = lastEnd * 1000;
    return Math.abs(asMs - endMs) < Math.abs(asSeconds - endMs) ? asMs : asSeconds;
  }
  if (uploadBytes !== undefined && uploadBytes > 0 && d > 0) {
    const plausible = (ms: number) => {
      const rate = (uploadBytes * 1000) / ms;
      return rate >= 500 && rate <= 400_000;
    };
    if (!plausible(asSeconds) && plausible(asMs)) return asMs;
  }
  return asSeconds;
}

export const fishaudio: ProviderAdapter = {
  id: 'fishaudio',
  modality: 'tts',
  defaultBaseUrl: 'https://api.fish.audio',
  clientAuth: ['bearer'],
  setUpstreamKey: setBearer,
  errorBody(code, message) {
    return { status: ERROR_CODES[code], message, code };
  },
  routes: [
    {
      method: 'POST',
      path: '/v1/tts',
      body: 'buffer',
      plan(ctx, body): MeterPlan {
        const text = requiredText(ctx, ttsBody(ctx, body).text, 'text');
        return ttsPlan(ctx, { text, model: optionalModel(headerString(ctx.headers.model)) });
      },
    },
    {
      method: 'POST',
      path: '/v1/asr',
      body: 'stream',
      plan(ctx, body): MeterPlan {
        const contentLength = body.kind === 'stream' ? body.contentLength : undefined;
        const ct = headerString(ctx.headers['content-type']);
        const meter = ct.toLowerCase().includes('msgpack')
          ? createMsgpackAudioMeter('audio')
          : createMultipartAudioMeter(ct, { fileFields: ['audio'], textFields: ['language', 'ignore_timestamps'] });
        let bytes: number | undefined;
        return sttPlan(ctx, {
          reservedMs: sttReserveMs(ctx.limits, contentLength),
          measure: {
            upload: meter.upload,
            async result() {
              const m = await meter.result();
              bytes = m.bytes;
              return m;
            },
          },
          reported: { fields: ['duration', 'segments'], ms: (v) => reportedAsrMs(v, bytes ?? contentLength) },
        });
      },
    },
    freeRoute('GET', '/model'),
    freeRoute('GET', /^\/model\/[^/]+$/),
  ],
};
