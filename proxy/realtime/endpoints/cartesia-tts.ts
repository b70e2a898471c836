// Cartesia TTS `/tts/websocket`: code points of every `transcript`, at Cartesia's TTS row (a
// `cartesia:<model_id>` row first: the model is per message), cut to the code point.
// https://docs.cartesia.ai/api-reference/tts/websocket
//
// Wire (@cartesia/cartesia-js 4.2 internal/lib/tts/ws.ts): JSON text frames, one generation
// request per message `{context_id, model_id, transcript, voice, output_format, continue?,
// flush?}`; `push()` sends text with `continue:true`, `flush()` and `no_more_inputs()` send an
// empty transcript; `{context_id, cancel:true}` cancels. The key: `Authorization: Bearer` (Node),
// `?api_key=` / `?access_token=` with `?cartesia_version=` (browsers). Errors are
// `{type:"error", status_code, title, message}`: the cut notice has that shape. Cartesia's exact
// character rule (whitespace, `continue` fragments) is unpublished: every code point sent bills.
// Binary frames are not part of the protocol: dropped.

import { jsonFrame, jsonObject, pass, textCounter } from '../meter-kit.js';
import { counterSet, textFieldVerdict, TTS_STEP_CHARS } from '../frame-units.js';
import type { CutReason, Frame, FrameVerdict, RealtimeEndpoint, SessionContext, SessionMeter, UpstreamOpen } from '../types.js';

/** Browsers name the API version in the query; Node clients in the header. Both reach Cartesia. */
export function cartesiaVersionHeader(up: UpstreamOpen): void {
  if (up.headers['cartesia-version']) return;
  const v = up.query.find(([k]) => k === 'cartesia_version')?.[1];
  if (v) up.headers['cartesia-version'] = v;
}

export function cartesiaCutFrame(reason: CutReason, contextId?: string): Frame {
  const spend = reason === 'spend_limit_reached';
  return jsonFrame({
    type: 'error',
    ...(contextId ? { context_id: contextId } : {}),
    status_code: 402,
    title: spend ? 'Spend limit reached' : 'Insufficient credits',
    message: spend ? 'The spend limit of this account is reached.' : 'This account has no credits left for this session.',
    error_code: reason,
    done: true,
  });
}

export const cartesiaTts: RealtimeEndpoint = {
  provider: 'cartesia',
  path: '/tts/websocket',
  providerIdleMs: 300_000,
  prepareUpstream: cartesiaVersionHeader,
  open(ctx: SessionContext): SessionMeter {
    const base = ctx.ttsRate();
    const counters = counterSet((key) => textCounter(Number(key)));
    let lastContext: string | undefined;
    return {
      modality: 'tts',
      stepMicro: ctx.pricing.ttsCost(base, TTS_STEP_CHARS),
      client(frame, budget): FrameVerdict {
        if (frame.binary) return { forward: null, microCredits: 0 };
        const msg = jsonObject(frame);
        const transcript = msg?.transcript;
        if (!msg || typeof transcript !== 'string' || transcript === '') return pass(frame);
        if (typeof msg.context_id === 'string') lastContext = msg.context_id;
        const model = typeof msg.model_id === 'string' && msg.model_id !== '' ? msg.model_id : undefined;
        const rate = (model ? ctx.pricing.ttsRate(ctx.provider, model) : undefined) ?? base;
        const counter = counters.get(String(rate));
        if (!counter) return { forward: null, microCredits: 0 };
        return textFieldVerdict(frame, transcript, counter, budget, (covered) => jsonFrame({ ...msg, transcript: covered }));
      },
      provider: pass,
      totals() {
        let chars = 0;
        for (const c of counters.all()) chars += c.units;
        return { microCredits: counters.microCredits, units: { chars } };
      },
      cutFrame: (reason) => cartesiaCutFrame(reason, lastContext),
    };
  },
};
