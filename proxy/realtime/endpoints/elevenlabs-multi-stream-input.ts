// ElevenLabs TTS `/v1/text-to-speech/{voice_id}/multi-stream-input`: code points of `text` per context.
// STUB owned by rt-meters: replace `open` (and add keyProtocols / keyQueryParams /
// firstMessageKey / prepareUpstream as the provider needs). Until then the handshake is
// refused with 404 unknown_route.

import type { RealtimeEndpoint, SessionMeter } from '../types.js';

export const elevenlabsMultiStreamInput: RealtimeEndpoint = {
  provider: 'elevenlabs',
  path: /^\/v1\/text-to-speech\/([^/]+)\/multi-stream-input$/,
  providerIdleMs: 20_000,
  open(ctx): SessionMeter {
    return ctx.fail('unknown_route', 'realtime metering of this endpoint is not implemented yet');
  },
};
