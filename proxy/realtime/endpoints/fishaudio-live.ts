// Fish Audio live TTS `/v1/tts/live`: `text` of the msgpack `start` and `text` events.
// STUB owned by rt-meters: replace `open` (and add keyProtocols / keyQueryParams /
// firstMessageKey / prepareUpstream as the provider needs). Until then the handshake is
// refused with 404 unknown_route.

import type { RealtimeEndpoint, SessionMeter } from '../types.js';

export const fishaudioLive: RealtimeEndpoint = {
  provider: 'fishaudio',
  path: '/v1/tts/live',
  providerIdleMs: 300_000,
  open(ctx): SessionMeter {
    return ctx.fail('unknown_route', 'realtime metering of this endpoint is not implemented yet');
  },
};
