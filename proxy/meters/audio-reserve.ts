// How many audio milliseconds an STT request reserves before it is forwarded, from what is known
// up front (a declared duration, Content-Length) and the plan's bounds.

import type { PlanLimits } from '../providers/types.js';

/**
 * The audio milliseconds to reserve before forwarding an STT request: the duration when it is
 * known up front (raw PCM with a Content-Length, a declared duration), else Content-Length at
 * `sttReserveBytesPerSecond`, capped at `sttMaxReserveSeconds` (also the bound when the length
 * is unknown, e.g. a chunked upload).
 */
export function sttReserveMs(limits: PlanLimits, contentLength: number | undefined, knownMs?: number): number {
  if (knownMs !== undefined && Number.isFinite(knownMs) && knownMs >= 0) return Math.ceil(knownMs);
  const capMs = limits.sttMaxReserveSeconds * 1000;
  if (contentLength === undefined || !Number.isFinite(contentLength) || contentLength < 0) return capMs;
  return Math.min(Math.ceil((contentLength * 1000) / limits.sttReserveBytesPerSecond), capMs);
}
