// ElevenLabs realtime STT `/v1/speech-to-text/realtime`: base64 `audio_base_64` at its `sample_rate`.
// STUB owned by rt-meters: replace `open` (and add keyProtocols / keyQueryParams /
// firstMessageKey / prepareUpstream as the provider needs). Until then the handshake is
// refused with 404 unknown_route.

import type { RealtimeEndpoint, SessionMeter } from '../types.js';

export const elevenlabsRealtimeStt: RealtimeEndpoint = {
  provider: 'elevenlabs',
  path: '/v1/speech-to-text/realtime',
  providerIdleMs: 20_000,
  open(ctx): SessionMeter {
    return ctx.fail('unknown_route', 'realtime metering of this endpoint is not implemented yet');
  },
};
