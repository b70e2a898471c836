// Deepgram streaming TTS `/v1/speak`: JSON text frames `{"type":"Speak","text":…}` billed per
// code point of `text` at Deepgram's TTS row (the HTTP route's), cut to the code point; Flush,
// Clear and Close pass free. The server reports no count in v1. Cut notice: a `Warning` frame,
// the message type v1 has for the client.
// https://developers.deepgram.com/docs/tts-websocket

import { codePointLength, jsonFrame, jsonObject, pass, sliceCodePoints, textCounter } from '../meter-kit.js';
import type { FrameVerdict, RealtimeEndpoint, SessionMeter } from '../types.js';

/** Characters reserved per step. */
const STEP_CHARS = 500;

export const deepgramSpeak: RealtimeEndpoint = {
  provider: 'deepgram',
  path: '/v1/speak',
  keyProtocols: [{ pair: 'token' }, { pair: 'bearer' }],
  providerIdleMs: 60_000,
  open(ctx): SessionMeter {
    const model = ctx.query.get('model') || undefined;
    const rate = ctx.ttsRate(model);
    const counter = textCounter(rate);
    return {
      modality: 'tts',
      ...(model ? { model } : {}),
      stepMicro: ctx.pricing.ttsCost(rate, STEP_CHARS),
      client(frame, budget): FrameVerdict {
        const msg = jsonObject(frame);
        if (!msg || msg.type !== 'Speak' || typeof msg.text !== 'string') return pass(frame);
        const n = codePointLength(msg.text);
        const t = counter.take(n, budget);
        if (t.needMicro !== undefined) return { forward: null, microCredits: 0, needMicro: t.needMicro };
        if (!t.cut) return { forward: frame, microCredits: t.microCredits };
        const forward = t.units > 0 ? jsonFrame({ ...msg, text: sliceCodePoints(msg.text, t.units) }) : null;
        return { forward, microCredits: t.microCredits, cut: true };
      },
      provider: pass,
      totals: () => ({ microCredits: counter.microCredits, units: { chars: counter.units } }),
      cutFrame: (reason) => jsonFrame({ type: 'Warning', description: reason === 'spend_limit_reached' ? 'spend limit reached' : 'insufficient credits', code: reason }),
    };
  },
};
