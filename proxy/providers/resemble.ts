// Resemble AI synthesis server (f.cluster.resemble.ai): `POST /synthesize` answers JSON with the
// audio base64 and its `duration`; `POST /stream` answers chunked WAV. Text: JSON `data`, plain
// or SSML (`<speak>…`). https://docs.app.resemble.ai/docs/text_to_speech/
//
// Billing: code points of the spoken text (SSML tags removed), at the seed's Resemble rate.
// Resemble's own report is the audio `duration` (seconds), recorded as `reported.audioMs`: it
// measures the audio, not the text the rate is for, and /stream has none.
// Auth: `Authorization: Bearer` (the current docs, LiveKit's plugin). resemble-node ≤ 3.x sends
// `x-access-token` to this host, which tollgate's client auth does not read yet.
// Voices and projects are listed on app.resemble.ai, another host: nothing here is free.

import type { ErrorCode } from '../errors.js';
import { count, isJsonHead, jsonReport, optionalModel, requiredText, ssmlText, type TtsReport } from '../meters/tts.js';
import { setBearer } from './openai-compatible.js';
import { jsonTtsRoute } from './tts-route.js';
import type { ProviderAdapter, RouteSpec, UpstreamResponseHead } from './types.js';

/** /synthesize's JSON `duration` (seconds) as `reported.audioMs`; /stream's WAV has none. */
function durationReport(head: UpstreamResponseHead): TtsReport | undefined {
  if (!isJsonHead(head)) return undefined;
  return jsonReport(['duration'], (f) => {
    const ms = typeof f.duration === 'number' ? count(f.duration * 1000) : undefined;
    return ms === undefined ? undefined : { audioMs: ms };
  });
}

function synthesisRoute(path: string): RouteSpec {
  return jsonTtsRoute(path, (ctx, obj) => {
    const data = requiredText(ctx, obj.data, 'data');
    const text = /^\s*<speak[\s>]/i.test(data) ? ssmlText(data) : data;
    return { text, model: optionalModel(obj.model), report: durationReport, streamed: path === '/stream' };
  });
}

export const resemble: ProviderAdapter = {
  id: 'resemble',
  modality: 'tts',
  defaultBaseUrl: 'https://f.cluster.resemble.ai',
  // Bearer (API docs, current clients) or x-access-token (the older resemble-node SDK).
  clientAuth: ['bearer', 'x-access-token'],
  setUpstreamKey: setBearer,
  routes: [synthesisRoute('/synthesize'), synthesisRoute('/stream')],
  // The shape resemble-node returns on failure (DirectClipError): success false, a message.
  errorBody(code: ErrorCode, message: string) {
    return { success: false, error_name: code, message };
  },
};
