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
import { jsonObject, setBearer } from './openai-compatible.js';
import { count, isJsonHead, jsonReport, requiredText, ssmlText, ttsPlan } from './openai-audio.js';
import type { ProviderAdapter, RouteSpec } from './types.js';

function synthesisRoute(path: string): RouteSpec {
  return {
    method: 'POST',
    path,
    body: 'json',
    plan(ctx, body) {
      const obj = jsonObject(ctx, body);
      const data = requiredText(ctx, obj.data, 'data');
      const text = /^\s*<speak[\s>]/i.test(data) ? ssmlText(data) : data;
      const model = typeof obj.model === 'string' && obj.model !== '' ? obj.model : undefined;
      return ttsPlan(ctx, text, {
        model,
        report: (head) =>
          isJsonHead(head)
            ? jsonReport(['duration'], (f) => {
                const s = typeof f.duration === 'number' ? f.duration : undefined;
                const ms = s === undefined ? undefined : count(s * 1000);
                return ms === undefined ? undefined : { audioMs: ms };
              })
            : undefined,
      });
    },
  };
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
