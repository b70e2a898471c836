// OpenAI Realtime `/v1/realtime`: `response.done` usage; `intent=transcription` + whisper-1: input audio at the Whisper row.
// STUB owned by rt-meters: replace `open` (and add keyProtocols / keyQueryParams /
// firstMessageKey / prepareUpstream as the provider needs). Until then the handshake is
// refused with 404 unknown_route.

import type { RealtimeEndpoint, SessionMeter } from '../types.js';

export const openaiRealtime: RealtimeEndpoint = {
  provider: 'openai',
  path: '/v1/realtime',
  providerIdleMs: 3_600_000,
  open(ctx): SessionMeter {
    return ctx.fail('unknown_route', 'realtime metering of this endpoint is not implemented yet');
  },
};
