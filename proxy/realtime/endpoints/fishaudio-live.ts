// Fish Audio live TTS `/v1/tts/live`: code points of `request.text` of the `start` event and of
// every `text` event, at Fish Audio's TTS row (the `model` header's row first), cut to the code
// point. https://docs.fish.audio/api-reference/endpoint/websocket/tts-live
//
// Wire (fishaudio/fish-audio-typescript src/client/websocket/*; fish-audio-python
// resources/realtime.py): every frame is binary MessagePack both ways. Client: `{event:"start",
// request:{text, format, reference_id, …}}`, `{event:"text", text}`, `{event:"flush"}`,
// `{event:"stop"}`; server: `{event:"audio", audio}`, `{event:"finish", reason, message?}`.
// The key is `Authorization: Bearer`; the backend the required `model` header (passed through).
//
// Unit: Fish's own pricing page counts "millions of UTF-8 bytes"; tollgate's price table (the
// seed's "Text-to-Speech (per 1,000 characters)", Fish Audio 10 credits) counts characters, as the
// HTTP `/v1/tts` route does: code points bill here too, so one text costs the same over HTTP and
// over the socket. Text frames are not part of the protocol (the SDK ignores them): dropped, as
// are frames that are not msgpack maps, so no text reaches Fish unmetered.

import { decode, encode } from '@msgpack/msgpack';
import { pass } from '../meter-kit.js';
import { textFieldVerdict, ttsTextMeter } from '../frame-units.js';
import type { Frame, FrameVerdict, RealtimeEndpoint, SessionMeter } from '../types.js';

const binaryFrame = (value: unknown): Frame => {
  const b = encode(value);
  return { data: Buffer.from(b.buffer, b.byteOffset, b.byteLength), binary: true };
};

function event(frame: Frame): Record<string, unknown> | undefined {
  try {
    const v = decode(frame.data) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const fishaudioLive: RealtimeEndpoint = {
  provider: 'fishaudio',
  path: '/v1/tts/live',
  // No idle rule is documented; Fish closes after `finish`.
  providerIdleMs: 300_000,
  open(ctx): SessionMeter {
    const header = ctx.headers.model;
    const m = ttsTextMeter(ctx, (typeof header === 'string' && header) || undefined);
    const counter = m.counter;
    return {
      ...m.base,
      client(frame, budget): FrameVerdict {
        const ev = frame.binary ? event(frame) : undefined;
        if (!ev) return { forward: null, microCredits: 0 };
        if (ev.event === 'text' && typeof ev.text === 'string' && ev.text !== '') {
          return textFieldVerdict(frame, ev.text, counter, budget, (covered) => binaryFrame({ ...ev, text: covered }));
        }
        const req = ev.event === 'start' ? ev.request : undefined;
        if (req && typeof req === 'object' && typeof (req as Record<string, unknown>).text === 'string') {
          const r = req as Record<string, unknown>;
          if (r.text !== '') return textFieldVerdict(frame, r.text as string, counter, budget, (covered) => binaryFrame({ ...ev, request: { ...r, text: covered } }));
        }
        return pass(frame);
      },
      provider: pass,
      totals: m.totals,
      cutFrame: (reason) =>
        binaryFrame({ event: 'finish', reason: 'error', message: reason === 'spend_limit_reached' ? 'The spend limit of this account is reached.' : 'This account has no credits left for this session.' }),
    };
  },
};
