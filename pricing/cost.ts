// Exact cost arithmetic in integer µcr: units × rate ÷ divisor, rounded half up once at the end.
//
// Seed rates are whole credits, so TTS and LLM costs divide exactly (1,000,000 µcr ÷ 1,000);
// only STT (÷ 60,000 ms) and operator rates with sub-credit decimals ever round. Products that
// leave the safe-integer range are computed in BigInt, so a huge duration or token count is
// never silently approximated; a result that itself is not a safe integer is a RangeError.

import type { LlmRate, LlmUsage } from './types.js';

const CHARS_PER_RATE = 1_000;
const TOKENS_PER_RATE = 1_000;
const MS_PER_MINUTE = 60_000;

/** µcr for `chars` characters at `ratePer1k` µcr per 1,000 characters. */
export function ttsCost(ratePer1k: number, chars: number): number {
  checkInteger('ratePer1k', ratePer1k);
  checkInteger('chars', chars);
  return sumOfProductsOver([[chars, ratePer1k]], CHARS_PER_RATE);
}

/** µcr for `ms` milliseconds of audio at `ratePerMinute` µcr per minute, rounded half up. */
export function sttCost(ratePerMinute: number, ms: number): number {
  checkInteger('ratePerMinute', ratePerMinute);
  checkInteger('ms', ms);
  return sumOfProductsOver([[ms, ratePerMinute]], MS_PER_MINUTE);
}

/**
 * µcr for `frames` sample frames at `sampleRate` Hz (realtime sessions meter audio to the
 * sample): the same rate as sttCost, rounded half up once; equal to it on whole milliseconds.
 */
export function sttCostFrames(ratePerMinute: number, frames: number, sampleRate: number): number {
  checkInteger('ratePerMinute', ratePerMinute);
  checkInteger('frames', frames);
  checkInteger('sampleRate', sampleRate);
  // A realtime session prices every frame with this: one product needs no term array.
  const product = frames * ratePerMinute;
  const divisor = 60 * sampleRate;
  if (Number.isSafeInteger(product)) return roundHalfUp(product, divisor);
  return sumOfProductsOver([[frames, ratePerMinute]], divisor);
}

/**
 * µcr for one LLM call. Cache and audio tokens are billed at their own rate when one is
 * configured, else as input (output, for audio output); the sum is rounded once so parts never
 * round twice.
 */
export function llmCost(rate: LlmRate, usage: LlmUsage): number {
  checkInteger('inputPer1k', rate.inputPer1k);
  checkInteger('outputPer1k', rate.outputPer1k);
  const cacheReadRate = rate.cacheReadPer1k ?? rate.inputPer1k;
  const cacheWriteRate = rate.cacheWritePer1k ?? rate.inputPer1k;
  const audioInputRate = rate.audioInputPer1k ?? rate.inputPer1k;
  const audioOutputRate = rate.audioOutputPer1k ?? rate.outputPer1k;
  checkInteger('cacheReadPer1k', cacheReadRate);
  checkInteger('cacheWritePer1k', cacheWriteRate);
  checkInteger('audioInputPer1k', audioInputRate);
  checkInteger('audioOutputPer1k', audioOutputRate);

  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const audioInput = usage.audioInputTokens ?? 0;
  const audioOutput = usage.audioOutputTokens ?? 0;
  checkInteger('inputTokens', usage.inputTokens);
  checkInteger('outputTokens', usage.outputTokens);
  checkInteger('cacheReadTokens', cacheRead);
  checkInteger('cacheWriteTokens', cacheWrite);
  checkInteger('audioInputTokens', audioInput);
  checkInteger('audioOutputTokens', audioOutput);

  return sumOfProductsOver(
    [
      [usage.inputTokens, rate.inputPer1k],
      [usage.outputTokens, rate.outputPer1k],
      [cacheRead, cacheReadRate],
      [cacheWrite, cacheWriteRate],
      [audioInput, audioInputRate],
      [audioOutput, audioOutputRate],
    ],
    TOKENS_PER_RATE,
  );
}

/** Units and rates are counts: a negative, fractional or non-finite one is a caller's bug. */
function checkInteger(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
}

/** round_half_up(Σ a×b ÷ divisor), exact for any safe-integer inputs. */
/** sum ÷ divisor rounded half up, for a safe non-negative integer sum. */
function roundHalfUp(sum: number, divisor: number): number {
  const rest = sum % divisor;
  const quotient = (sum - rest) / divisor;
  return 2 * rest >= divisor ? quotient + 1 : quotient;
}

function sumOfProductsOver(terms: ReadonlyArray<readonly [number, number]>, divisor: number): number {
  let sum = 0;
  let safe = true;
  for (const [a, b] of terms) {
    sum += a * b;
    // A float product or sum past 2^53 - 1 may already be rounded: redo it in BigInt.
    if (!Number.isSafeInteger(sum)) {
      safe = false;
      break;
    }
  }
  if (safe) return roundHalfUp(sum, divisor);

  let big = 0n;
  for (const [a, b] of terms) big += BigInt(a) * BigInt(b);
  const d = BigInt(divisor);
  const rounded = (2n * big + d) / (2n * d);
  if (rounded > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`cost ${rounded} µcr exceeds the safe integer range`);
  }
  return Number(rounded);
}
