// Test helper: a clock the test moves by hand, and UTC dates without the noise.

import type { Clock } from '../../ledger/types.js';

export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start: number): ManualClock {
  let now = start;
  return {
    now: () => now,
    set(ms) {
      now = ms;
    },
    advance(ms) {
      now += ms;
    },
  };
}

/** Milliseconds of a UTC date: utc(2026, 1, 15) is 15 January 2026, 00:00 UTC. */
export function utc(year: number, month: number, day = 1, hour = 0, minute = 0, second = 0): number {
  return Date.UTC(year, month - 1, day, hour, minute, second);
}
