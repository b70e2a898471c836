// ElevenLabs TTS `/v1/text-to-speech/{voice_id}/stream-input`: code points of every `text` but
// the opening " ", at ElevenLabs' TTS row (the HTTP route's; `model_id` row first), cut to the
// code point. https://elevenlabs.io/docs/api-reference/text-to-speech/v-1-text-to-speech-voice-id-stream-input
//
// Wire (elevenlabs-docs asyncapi.yml; the SDK has no client, customers use plain `ws`):
// - JSON text frames: `{"text":" ", voice_settings?, generation_config?, "xi-api-key"?}` opens
//   (BOS, not synthesized, not billed); `{"text":"Hello ", flush?}`; `{"text":""}` ends (EOS).
//   A later `{"text":" "}` is the documented keep-alive: ElevenLabs receives it as text, it bills.
// - The key: `xi-api-key` header, `authorization` query, or the first message's `xi-api-key` /
//   `xi_api_key` / `authorization` (which the core reads through `firstMessageKey`). Every
//   credential field is removed from every message, not only the first: none reaches ElevenLabs.
// - Errors come as `{"message","error","code"}` before the close: the cut notice has that shape.
// Binary frames carry nothing ElevenLabs reads here: dropped, so no text passes unmetered.

import { jsonFrame, jsonObject, pass } from '../meter-kit.js';
import { textFieldVerdict, ttsTextMeter } from '../frame-units.js';
import type { CutReason, Frame, FrameVerdict, RealtimeEndpoint, SessionContext, SessionMeter } from '../types.js';

const KEY_FIELDS = ['xi-api-key', 'xi_api_key', 'authorization'] as const;

/** The key a message carries (`Bearer ` removed), and the message without any credential field. */
export function stripMessageKey(msg: Record<string, unknown>): { key: string | undefined; msg: Record<string, unknown> } | undefined {
  if (!KEY_FIELDS.some((f) => f in msg)) return undefined;
  let key: string | undefined;
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg)) {
    if ((KEY_FIELDS as readonly string[]).includes(k)) {
      if (key === undefined && typeof v === 'string' && v.trim() !== '') key = v.trim().replace(/^Bearer\s+/i, '');
    } else rest[k] = v;
  }
  return { key, msg: rest };
}

/** `firstMessageKey` of both ElevenLabs TTS sockets. */
export function elevenlabsFirstMessageKey(frame: Frame): { key: string | undefined; frame: Frame } {
  const msg = jsonObject(frame);
  const stripped = msg && stripMessageKey(msg);
  return stripped ? { key: stripped.key, frame: jsonFrame(stripped.msg) } : { key: undefined, frame };
}

export function elevenlabsCutFrame(reason: CutReason): Frame {
  const message = reason === 'spend_limit_reached' ? 'The spend limit of this account is reached.' : 'This account has no credits left for this session.';
  return jsonFrame({ message, error: reason, code: 4402 });
}

/**
 * The text meter of both TTS sockets. `opening(msg)`, asked of every message with a `text`, says
 * whether it is the first of the socket (stream-input) or of its context (multi-stream-input):
 * a first `{"text":" "}` is the opening, free.
 */
export function elevenlabsTextMeter(ctx: SessionContext, opening: (msg: Record<string, unknown>) => boolean): SessionMeter {
  const m = ttsTextMeter(ctx, ctx.query.get('model_id') || undefined);
  return {
    ...m.base,
    client(frame, budget): FrameVerdict {
      if (frame.binary) return { forward: null, microCredits: 0 };
      const parsed = jsonObject(frame);
      if (!parsed) return pass(frame); // not JSON: ElevenLabs cannot read it either
      const stripped = stripMessageKey(parsed);
      const msg = stripped ? stripped.msg : parsed;
      const out = stripped ? jsonFrame(msg) : frame;
      const text = msg.text;
      if (typeof text !== 'string') return pass(out);
      const opens = opening(msg); // asked of every text message, so "first" means first
      if (text === '' || (text === ' ' && opens)) return pass(out);
      return textFieldVerdict(out, text, m.counter, budget, (covered) => jsonFrame({ ...msg, text: covered }));
    },
    provider: pass,
    totals: m.totals,
    cutFrame: elevenlabsCutFrame,
  };
}

export const elevenlabsStreamInput: RealtimeEndpoint = {
  provider: 'elevenlabs',
  path: /^\/v1\/text-to-speech\/([^/]+)\/stream-input$/,
  // `inactivity_timeout` may be raised to 180 s.
  providerIdleMs: 180_000,
  firstMessageKey: elevenlabsFirstMessageKey,
  open(ctx): SessionMeter {
    let first = true;
    return elevenlabsTextMeter(ctx, () => {
      const was = first;
      first = false;
      return was;
    });
  },
};
