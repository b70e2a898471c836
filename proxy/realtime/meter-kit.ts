// Building blocks for realtime meters: a cumulative unit counter priced by a monotone cost
// function, with the exact budget cut (audio to the sample, text to the code point), and the
// frame helpers most endpoints need. See proxy/realtime/types.ts for the contract.

import { sttCostFrames, ttsCost } from '../../pricing/cost.js';
import type { PcmFormat } from '../meters/audio.js';
import type { Budget, Frame, FrameVerdict } from './types.js';

export interface Take {
  /** Units committed by this call (≤ the units asked for). */
  units: number;
  /** µcr committed by this call. */
  microCredits: number;
  /** Not committed: the budget is not final and this many µcr would cover the units asked. */
  needMicro?: number;
  /** The budget was final and did not cover every unit asked. */
  cut?: boolean;
}

export interface UnitCounter {
  /** Units committed so far. */
  readonly units: number;
  /** µcr committed so far (= cost(units)). */
  readonly microCredits: number;
  /** Commit up to `n` more units within `budget` (see Budget for the three cases). */
  take(n: number, budget: Budget): Take;
  /** Commit `n` units whatever the budget (usage already spent). Returns the µcr. */
  force(n: number): number;
}

/**
 * A counter whose total cost is `cost(totalUnits)` (monotone, integer µcr), so splitting a
 * session into frames and interim settles never rounds twice. On a cut the covered count is
 * rounded down to a multiple of `align` units (bytes per sample frame for audio).
 */
export function createCounter(cost: (units: number) => number, align = 1): UnitCounter {
  let units = 0;
  let micro = 0;
  return {
    get units() {
      return units;
    },
    get microCredits() {
      return micro;
    },
    take(n, budget) {
      if (n <= 0) return { units: 0, microCredits: 0 };
      const full = cost(units + n) - micro;
      if (full <= budget.microCredits) {
        units += n;
        micro += full;
        return { units: n, microCredits: full };
      }
      if (!budget.final) return { units: 0, microCredits: 0, needMicro: full };
      // Largest k ≤ n with cost(units + k) - micro ≤ budget (cost is monotone): binary search.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (cost(units + mid) - micro <= budget.microCredits) lo = mid;
        else hi = mid - 1;
      }
      let k = lo;
      if (align > 1) k = Math.max(0, k - ((units + k) % align));
      const c = cost(units + k) - micro;
      units += k;
      micro += c;
      return { units: k, microCredits: c, cut: true };
    },
    force(n) {
      if (n <= 0) return 0;
      const c = cost(units + n) - micro;
      units += n;
      micro += c;
      return c;
    },
  };
}

/** Raw PCM priced per minute, counted in bytes, cut on whole sample frames (all channels). */
export function pcmCounter(pcm: PcmFormat, ratePerMinute: number): UnitCounter & { audioMs(): number } {
  const frameBytes = pcm.bytesPerSample * pcm.channels;
  const c = createCounter((bytes) => sttCostFrames(ratePerMinute, Math.floor(bytes / frameBytes), pcm.sampleRate), frameBytes);
  return Object.assign(c, {
    /** Whole milliseconds of the complete sample frames counted so far. */
    audioMs: () => Math.floor((Math.floor(c.units / frameBytes) * 1000) / pcm.sampleRate),
  });
}

/** Characters (code points) priced per 1,000. */
export function textCounter(ratePer1k: number): UnitCounter {
  return createCounter((chars) => ttsCost(ratePer1k, chars));
}

/** Binary audio frame through a byte counter: forwards the covered prefix. */
export function binaryAudioVerdict(frame: Frame, counter: UnitCounter, budget: Budget): FrameVerdict {
  const t = counter.take(frame.data.length, budget);
  if (t.needMicro !== undefined) return { forward: null, microCredits: 0, needMicro: t.needMicro };
  const forward = t.units === frame.data.length ? frame : t.units > 0 ? { data: frame.data.subarray(0, t.units), binary: frame.binary } : null;
  return t.cut ? { forward, microCredits: t.microCredits, cut: true } : { forward, microCredits: t.microCredits };
}

/** Code points of a string (what TTS bills; an emoji is one). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The first `k` code points of `s` (a surrogate pair is never split). */
export function sliceCodePoints(s: string, k: number): string {
  let i = 0;
  for (let n = 0; n < k && i < s.length; n++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return s.slice(0, i);
}

/** A JSON object from a text frame, or undefined (binary, not JSON, not an object). */
export function jsonObject(frame: Frame): Record<string, unknown> | undefined {
  if (frame.binary) return undefined;
  try {
    const v: unknown = JSON.parse(frame.data.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A text frame holding `value` as JSON. */
export function jsonFrame(value: unknown): Frame {
  return { data: Buffer.from(JSON.stringify(value), 'utf8'), binary: false };
}

/** The frame as it is, costing nothing. */
export const pass = (frame: Frame): FrameVerdict => ({ forward: frame, microCredits: 0 });
