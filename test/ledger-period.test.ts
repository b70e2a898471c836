// Period arithmetic (ledger/period.ts, mirrored in scripts/lib/state.lua): calendar months in
// UTC, month-end clamping from the anchor, whole months between Stripe period bounds.

import t from 'tap';
import { addMonths, calendarMonth, civilFromDays, daysFromCivil, monthsBetween } from '../ledger/period.js';
import { utc } from './helpers/ledger-clock.js';

t.test('addMonths keeps the time of day and clamps to the month end', async (t) => {
  const cases: [number, number, number][] = [
    [utc(2026, 1, 31), 1, utc(2026, 2, 28)],
    [utc(2026, 1, 31), 2, utc(2026, 3, 31)],
    [utc(2028, 1, 31, 9, 30), 1, utc(2028, 2, 29, 9, 30)],
    [utc(2026, 12, 15, 23, 59, 59), 1, utc(2027, 1, 15, 23, 59, 59)],
    [utc(2026, 3, 31), -1, utc(2026, 2, 28)],
    [utc(2026, 5, 31), 12, utc(2027, 5, 31)],
    [0, 675, utc(2026, 4, 1)],
    [utc(1999, 12, 31), 2, utc(2000, 2, 29)],
    [utc(2100, 1, 31), 1, utc(2100, 2, 28)],
  ];
  for (const [from, n, want] of cases) {
    t.equal(addMonths(from, n), want, `${new Date(from).toISOString()} + ${n} months`);
  }
});

t.test('civil dates round-trip for every day of four centuries', async (t) => {
  let bad = 0;
  for (let d = daysFromCivil(1970, 1, 1); d < daysFromCivil(2370, 1, 1); d++) {
    const { y, m, d: day } = civilFromDays(d);
    const js = new Date(d * 86_400_000);
    if (y !== js.getUTCFullYear() || m !== js.getUTCMonth() + 1 || day !== js.getUTCDate() || daysFromCivil(y, m, day) !== d) bad++;
  }
  t.equal(bad, 0);
});

t.test('calendarMonth and monthsBetween', async (t) => {
  t.same(calendarMonth(utc(2026, 2, 28, 23, 59, 59) + 999), { start: utc(2026, 2, 1), end: utc(2026, 3, 1) });
  t.same(calendarMonth(utc(2026, 3, 1)), { start: utc(2026, 3, 1), end: utc(2026, 4, 1) });
  t.equal(monthsBetween(utc(2026, 1, 31), utc(2026, 2, 28)), 1);
  t.equal(monthsBetween(utc(2026, 1, 15, 9), utc(2026, 2, 15, 9)), 1);
  t.equal(monthsBetween(utc(2026, 1, 15), utc(2027, 1, 15)), 12);
  t.equal(monthsBetween(utc(2026, 1, 15), utc(2026, 1, 29)), 1, 'shorter than a month counts as one');
});
