// Converts an operator's credit amount (a config number such as 166 or 0.5) to integer µcr, exactly.

import { MICRO_PER_CREDIT } from './types.js';

/**
 * The µcr in `value` credits, or a problem naming `path`. A credit has six decimal places of
 * µcr, so a seventh decimal cannot be represented and is refused rather than rounded away.
 * The check is a round trip: `value` must be exactly the double nearest to `micro / 10^6`,
 * which is what `0.1` or `166.123456` written in YAML parse to.
 */
export function creditsToMicro(value: unknown, path: string): { micro: number } | { problem: string } {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return { problem: `${path}: must be a number of credits, got ${describe(value)}` };
  }
  if (value < 0) return { problem: `${path}: must not be negative, got ${value}` };
  const micro = Math.round(value * MICRO_PER_CREDIT);
  if (!Number.isSafeInteger(micro)) return { problem: `${path}: ${value} credits is too large` };
  if (micro / MICRO_PER_CREDIT !== value) {
    return { problem: `${path}: at most 6 decimals of a credit (1 µcr), got ${value}` };
  }
  return { micro };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}
