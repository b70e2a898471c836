// Inworld TTS: `POST /tts/v1/voice` answers JSON `{audioContent, usage}`; `POST /tts/v1/voice:stream`
// answers NDJSON, one `{"result":{"audioContent","usage"}}` per line (about one second of audio
// each). Text: JSON `text`; model `modelId` (`model_id` also parses: protobuf JSON). Auth:
// `Authorization: Basic <key>`. https://docs.inworld.ai/api-reference/ttsAPI/texttospeech/synthesize-speech
//
// Billing: code points of `text`, at the seed's Inworld rate. Inworld reports
// `usage.processedCharactersCount` (on a stream: the full count on the first line, 0 after), which
// is recorded as `reported.chars`: for plain text it equals tollgate's count, and tollgate's is
// known before forwarding (exact hard cap) and survives a stream cut before the first line.

import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { optionalModel, requiredText, type TtsReport } from '../meters/tts.js';
import { jsonTtsRoute } from './tts-route.js';
import type { ProviderAdapter, RouteSpec } from './types.js';

const USAGE = /"processedCharactersCount"\s*:\s*(\d+)\s*[,}]/g;
/** Longer than the key, its number and the spacing around them. */
const CARRY = 64;

/**
 * Finds `"processedCharactersCount": N` in the answer without holding it — the JSON of /voice and
 * the NDJSON lines of /voice:stream alike (both are sent as application/json): the rest is base64
 * audio (no quotes), so the key can only be the usage field. The last bytes of
 * each chunk are searched again with the next one, so a field split across chunks is found; a
 * field seen twice is harmless, as the largest N is kept.
 */
function usageCountReport(): TtsReport {
  let tail = '';
  let max: number | undefined;
  return {
    onChunk(chunk) {
      const text = tail + chunk.toString('latin1');
      for (const m of text.matchAll(USAGE)) max = Math.max(max ?? 0, Number(m[1]));
      tail = text.slice(-CARRY);
    },
    reported: () => (max === undefined ? undefined : { chars: max }),
  };
}

function synthesisRoute(path: string): RouteSpec {
  return jsonTtsRoute(path, (ctx, obj) => ({
    text: requiredText(ctx, obj.text, 'text'),
    model: optionalModel(obj.modelId ?? obj.model_id),
    report: usageCountReport,
    streamed: path.endsWith(':stream'),
  }));
}

// google.rpc.Code for each HTTP status tollgate answers with (grpc-gateway's mapping, reversed).
const GRPC_CODE: Readonly<Record<number, number>> = { 400: 3, 401: 16, 402: 8, 404: 5, 413: 3, 502: 14, 503: 14, 504: 4 };

export const inworld: ProviderAdapter = {
  id: 'inworld',
  modality: 'tts',
  defaultBaseUrl: 'https://api.inworld.ai',
  clientAuth: ['basic', 'bearer'],
  setUpstreamKey(headers, key) {
    // The key Inworld issues is already the base64 `id:secret` pair the Basic scheme carries.
    headers.authorization = `Basic ${key}`;
  },
  routes: [
    synthesisRoute('/tts/v1/voice'),
    synthesisRoute('/tts/v1/voice:stream'),
    // Voice listings the clients read: the TTS one (deprecated) and the Voices API.
    { method: 'GET', path: '/tts/v1/voices', free: true, body: 'none' },
    { method: 'GET', path: '/voices/v1/voices', free: true, body: 'none' },
    { method: 'GET', path: /^\/voices\/v1\/voices\/[^/:]+$/, free: true, body: 'none' },
  ],
  // grpc-gateway's error shape (`{code, message, details}`); tollgate's code is the ErrorInfo reason.
  errorBody(code: ErrorCode, message: string) {
    return {
      code: GRPC_CODE[ERROR_CODES[code]] ?? 2,
      message,
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'tollgate' }],
    };
  },
};
