// Billing-period arithmetic in UTC calendar months; ledger/scripts/lib/state.lua mirrors it line for line.
//
// A period is [start, end). Periods are counted from an anchor: period k of an account
// anchored at A with a length of m months is [addMonths(A, k·m), addMonths(A, (k+1)·m)).
// The default anchor is the Unix epoch (calendar months); a Stripe subscription re-anchors
// at its period start. Month ends clamp like Stripe's: anchored on Jan 31 → Feb 28 → Mar 31.

const DAY = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d };
}

function daysInMonth(y: number, m: number): number {
  const ny = m === 12 ? y + 1 : y;
  const nm = m === 12 ? 1 : m + 1;
  return daysFromCivil(ny, nm, 1) - daysFromCivil(y, m, 1);
}

/** `ms` moved by `n` calendar months, the day clamped to the target month's length, time of day kept. */
export function addMonths(ms: number, n: number): number {
  const days = Math.floor(ms / DAY);
  const rem = ms - days * DAY;
  const { y, m, d } = civilFromDays(days);
  const t = y * 12 + (m - 1) + n;
  const ny = Math.floor(t / 12);
  const nm = t - ny * 12 + 1;
  return daysFromCivil(ny, nm, Math.min(d, daysInMonth(ny, nm))) * DAY + rem;
}

/** Index of the calendar month containing `ms`, counted from January 1970. */
export function monthIndex(ms: number): number {
  const { y, m } = civilFromDays(Math.floor(ms / DAY));
  return (y - 1970) * 12 + (m - 1);
}

/** The UTC calendar month containing `ms`. */
export function calendarMonth(ms: number): { start: number; end: number } {
  const k = monthIndex(ms);
  return { start: addMonths(0, k), end: addMonths(0, k + 1) };
}

/** Whole calendar months from `start` to `end` (at least 1): the length of a Stripe period. */
export function monthsBetween(start: number, end: number): number {
  const a = civilFromDays(Math.floor(start / DAY));
  const b = civilFromDays(Math.floor(end / DAY));
  let n = b.y * 12 + b.m - (a.y * 12 + a.m);
  if (addMonths(start, n) > end) n -= 1;
  return Math.max(1, n);
}
