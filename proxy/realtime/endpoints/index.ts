// Every realtime endpoint tollgate meters, matched in this order (first match wins).

import { cartesiaStt } from './cartesia-stt.js';
import { cartesiaTts } from './cartesia-tts.js';
import { deepgramListen, deepgramListenV2 } from './deepgram-listen.js';
import { deepgramSpeak } from './deepgram-speak.js';
import { elevenlabsMultiStreamInput } from './elevenlabs-multi-stream-input.js';
import { elevenlabsRealtimeStt } from './elevenlabs-realtime-stt.js';
import { elevenlabsStreamInput } from './elevenlabs-stream-input.js';
import { fishaudioLive } from './fishaudio-live.js';
import { openaiRealtime } from './openai-realtime.js';
import type { RealtimeEndpoint } from '../types.js';

export const REALTIME_ENDPOINTS: readonly RealtimeEndpoint[] = [
  deepgramListen,
  deepgramListenV2,
  deepgramSpeak,
  elevenlabsStreamInput,
  elevenlabsMultiStreamInput,
  elevenlabsRealtimeStt,
  cartesiaTts,
  cartesiaStt,
  fishaudioLive,
  openaiRealtime,
];

/** The endpoint serving `path` (+ query) on `provider`, and its RegExp captures. */
export function matchEndpoint(
  endpoints: readonly RealtimeEndpoint[],
  provider: string,
  path: string,
  query: URLSearchParams,
): { endpoint: RealtimeEndpoint; params: string[] } | undefined {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  for (const e of endpoints) {
    if (e.provider !== provider) continue;
    let params: string[] = [];
    if (typeof e.path === 'string') {
      if (e.path !== p) continue;
    } else {
      const m = e.path.exec(p);
      if (!m) continue;
      params = m.slice(1).map((x) => x ?? '');
    }
    if (e.accepts && !e.accepts(query)) continue;
    return { endpoint: e, params };
  }
  return undefined;
}
