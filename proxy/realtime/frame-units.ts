// Frame-level metering shared by the JSON and msgpack endpoints: a text field cut to the code
// point, base64 audio in a JSON field cut to the sample, and a bounded set of counters for
// sessions whose rate or audio format changes mid-session (Cartesia's per-message model,
// ElevenLabs' per-chunk sample rate, OpenAI's `session.update` format). Builds on meter-kit.

import { codePointLength, jsonFrame, sliceCodePoints, textCounter, type UnitCounter } from './meter-kit.js';
import type { Budget, Frame, FrameVerdict, MeterTotals, SessionContext } from './types.js';

/** Characters a TTS socket reserves per step. */
export const TTS_STEP_CHARS = 500;

/** What every TTS socket meter opens with: its model, its row's text counter, its step. */
export interface TtsTextMeter {
  model: string | undefined;
  counter: UnitCounter;
  /** `modality`, `model` (when there is one) and `stepMicro`: spread into the SessionMeter. */
  base: { modality: 'tts'; model?: string; stepMicro: number };
  totals(): MeterTotals;
}

/**
 * The TTS socket meters' common opening: the model named by `model` (a query parameter's value
 * or a header's, undefined: the provider's default row), its TTS rate (throws `unpriced_model`
 * on the platform key), a code-point counter at that rate, and a step of TTS_STEP_CHARS.
 */
export function ttsTextMeter(ctx: SessionContext, model: string | undefined): TtsTextMeter {
  const rate = ctx.ttsRate(model);
  const counter = textCounter(rate);
  const base: TtsTextMeter['base'] = { modality: 'tts', stepMicro: ctx.pricing.ttsCost(rate, TTS_STEP_CHARS) };
  if (model) base.model = model;
  return { model, counter, base, totals: () => ({ microCredits: counter.microCredits, units: { chars: counter.units } }) };
}

/**
 * Bills the code points of `text` (a field of `frame`) on `counter`. Forwards `frame` unchanged
 * when it is covered; on a cut, `cutText(covered)`: the message rebuilt with the text cut to the
 * covered code points (`null` when none is covered).
 */
export function textFieldVerdict(
  frame: Frame,
  text: string,
  counter: UnitCounter,
  budget: Budget,
  cutText: (covered: string) => Frame,
): FrameVerdict {
  const t = counter.take(codePointLength(text), budget);
  if (t.needMicro !== undefined) return { forward: null, microCredits: 0, needMicro: t.needMicro };
  if (!t.cut) return { forward: frame, microCredits: t.microCredits };
  return { forward: t.units > 0 ? cutText(sliceCodePoints(text, t.units)) : null, microCredits: t.microCredits, cut: true };
}

/** Decoded bytes of a base64 string, from its length and padding (nothing is decoded). */
export function base64Bytes(s: string): number {
  return Buffer.byteLength(s, 'base64');
}

/**
 * Bills the audio in base64 field `field` of `msg` on a byte counter (pcmCounter: cuts on whole
 * sample frames). On a cut the field is re-encoded holding the covered bytes only.
 */
export function base64AudioVerdict(frame: Frame, msg: Record<string, unknown>, field: string, counter: UnitCounter, budget: Budget): FrameVerdict {
  const b64 = msg[field] as string;
  const t = counter.take(base64Bytes(b64), budget);
  if (t.needMicro !== undefined) return { forward: null, microCredits: 0, needMicro: t.needMicro };
  if (!t.cut) return { forward: frame, microCredits: t.microCredits };
  const covered = t.units > 0 ? jsonFrame({ ...msg, [field]: Buffer.from(b64, 'base64').subarray(0, t.units).toString('base64') }) : null;
  return { forward: covered, microCredits: t.microCredits, cut: true };
}

/** Counters keyed by rate/format; a session rarely has more than one. */
export interface CounterSet<C extends UnitCounter> {
  /** The counter for `key`, made on first use; undefined once `max` keys exist (refuse the frame). */
  get(key: string): C | undefined;
  /** µcr committed on every counter. */
  readonly microCredits: number;
  /** Every counter made so far. */
  all(): Iterable<C>;
}

export function counterSet<C extends UnitCounter>(make: (key: string) => C, max = 8): CounterSet<C> {
  const counters = new Map<string, C>();
  return {
    get(key) {
      let c = counters.get(key);
      if (c === undefined && counters.size < max) counters.set(key, (c = make(key)));
      return c;
    },
    get microCredits() {
      let n = 0;
      for (const c of counters.values()) n += c.microCredits;
      return n;
    },
    all: () => counters.values(),
  };
}
