// TTS metering shared by the voice adapters: characters are Unicode code points of the text the
// provider synthesizes, read from the request, so the cost is exact before forwarding (the Free
// hard cap reserves exactly what the request will cost). A provider's own count is recorded beside.

import type { MeterPlan, RouteContext, UpstreamResponseHead } from '../providers/types.js';

/** Unicode code points: an emoji or other astral character counts once, not as two UTF-16 units. */
export function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The request's text field, or a 400 `invalid_request` naming it. */
export function requiredText(ctx: RouteContext, obj: Record<string, unknown> | undefined, field: string): string {
  const v = obj?.[field];
  if (typeof v !== 'string') ctx.fail('invalid_request', `\`${field}\` (the text to synthesize) is required and must be a string`);
  return v;
}

export interface TtsPlanOptions {
  text: string;
  /** Model or voice model as requested: the rate's model row is looked up first. */
  model?: string;
  /** The provider's own character count from its response headers, if it reports one. */
  reportedChars?: (head: UpstreamResponseHead) => number | undefined;
  upstreamHeaders?: Record<string, string>;
}

/**
 * A plan that reserves exactly the request's cost and settles to it (source `request`). A cut
 * stream is charged in full: the provider bills the text it accepted, not the audio delivered.
 */
export function ttsPlan(ctx: RouteContext, o: TtsPlanOptions): MeterPlan {
  const chars = codePoints(o.text);
  const rate = ctx.ttsRate(o.model);
  const micro = ctx.pricing.ttsCost(rate, chars);
  const plan: MeterPlan = {
    modality: 'tts',
    estimateMicro: micro,
    response(head) {
      const reported = o.reportedChars?.(head);
      return {
        onChunk: () => undefined,
        result: () =>
          reported === undefined
            ? { microCredits: micro, units: { chars }, source: 'request' }
            : { microCredits: micro, units: { chars }, source: 'request', reported: { chars: reported } },
      };
    },
  };
  if (o.model !== undefined) plan.model = o.model;
  if (o.upstreamHeaders) plan.upstreamHeaders = o.upstreamHeaders;
  return plan;
}

/** A non-negative integer response header (`character-cost`, `dg-char-count`), else undefined. */
export function intHeader(head: UpstreamResponseHead, name: string): number | undefined {
  const raw = head.headers[name];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? Math.round(n) : undefined;
}
