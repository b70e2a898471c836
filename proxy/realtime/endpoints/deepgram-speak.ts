// Deepgram streaming TTS `/v1/speak`: JSON text frames `{"type":"Speak","text":…}` billed per
// code point of `text` at Deepgram's TTS row (the HTTP route's), cut to the code point; Flush,
// Clear and Close pass free. The server reports no count in v1. Cut notice: a `Warning` frame,
// the message type v1 has for the client.
// https://developers.deepgram.com/docs/tts-websocket

import { jsonFrame, jsonObject, pass } from '../meter-kit.js';
import { deepgramSessionId } from './deepgram-listen.js';
import { textFieldVerdict, ttsTextMeter } from '../frame-units.js';
import type { FrameVerdict, RealtimeEndpoint, SessionMeter } from '../types.js';

export const deepgramSpeak: RealtimeEndpoint = {
  provider: 'deepgram',
  path: '/v1/speak',
  keyProtocols: [{ pair: 'token' }, { pair: 'bearer' }],
  providerIdleMs: 60_000,
  prepareUpstream: deepgramSessionId,
  open(ctx): SessionMeter {
    const m = ttsTextMeter(ctx, ctx.query.get('model') || undefined);
    return {
      ...m.base,
      client(frame, budget): FrameVerdict {
        const msg = jsonObject(frame);
        if (!msg || msg.type !== 'Speak' || typeof msg.text !== 'string') return pass(frame);
        return textFieldVerdict(frame, msg.text, m.counter, budget, (covered) => jsonFrame({ ...msg, text: covered }));
      },
      provider: pass,
      totals: m.totals,
      cutFrame: (reason) => jsonFrame({ type: 'Warning', description: reason === 'spend_limit_reached' ? 'spend limit reached' : 'insufficient credits', code: reason }),
    };
  },
};
