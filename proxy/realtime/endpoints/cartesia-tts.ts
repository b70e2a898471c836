// Cartesia TTS `/tts/websocket`: code points of `transcript`.
// STUB owned by rt-meters: replace `open` (and add keyProtocols / keyQueryParams /
// firstMessageKey / prepareUpstream as the provider needs). Until then the handshake is
// refused with 404 unknown_route.

import type { RealtimeEndpoint, SessionMeter } from '../types.js';

export const cartesiaTts: RealtimeEndpoint = {
  provider: 'cartesia',
  path: '/tts/websocket',
  providerIdleMs: 300_000,
  open(ctx): SessionMeter {
    return ctx.fail('unknown_route', 'realtime metering of this endpoint is not implemented yet');
  },
};
