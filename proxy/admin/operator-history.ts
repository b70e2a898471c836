// GET /admin/usage/history[?from=YYYY-MM-DD&to=YYYY-MM-DD&format=json|csv] (admin token): usage
// totals by day and modality across every live account. Read from each account's daily buckets
// (ledger.historyBuckets(id, 'day', ids)): an account's day is its own calendar day in its own
// time zone (UTC unless it set one), so "2026-12-03" sums every account's 3 December, wherever it
// is. Nothing is written on the request path for this: it is a read of the buckets that settle
// already keeps, a few accounts at a time (ACCOUNT_READS), so 10,000 accounts never open 10,000
// pipelines at once. `from` is inclusive, `to` exclusive; the default is the 30 days up to today
// (UTC). Credits are decimal numbers exact to 6 places (µcr / 1e6), as in /v1/usage.

import type { Ledger } from '../../ledger/types.js';
import { MODALITIES, type Modality } from '../../pricing/types.js';
import { fmt } from '../metering/settlement.js';
import { AdminHttpError } from './router.js';

/** Days one query may cover at most (the daily buckets are kept 400 days by default). */
export const MAX_RANGE_DAYS = 400;
export const DEFAULT_RANGE_DAYS = 30;
/** Accounts whose buckets are read at the same time. */
export const ACCOUNT_READS = 16;
export const OPERATOR_HISTORY_CSV_HEADER = 'date,modality,credits,requests';

const DAY_MS = 86_400_000;
const PARAMS = ['from', 'to', 'format'];
/** CSV rows and JSON keys: modalities in name order. */
const SORTED_MODALITIES = [...MODALITIES].sort();

export interface OperatorHistoryQuery {
  /** UTC midnight of the first day (inclusive) and of the day after the last (exclusive). */
  from: number;
  to: number;
  format: 'json' | 'csv';
}

export interface DayTotals {
  /** YYYY-MM-DD */
  date: string;
  micro: number;
  requests: number;
  byokRequests: number;
  modalities: Record<Modality, { micro: number; requests: number }>;
}

const bad = (message: string): never => {
  throw new AdminHttpError(400, 'invalid_request', message);
};

/** A calendar date, YYYY-MM-DD, as UTC midnight; 400 naming `name` for anything else (2026-02-30 too). */
export function parseDate(name: string, v: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || !Number.isFinite(t) || dateOf(t) !== v) return bad(`${name}: a date YYYY-MM-DD (2026-12-01), got "${v}"`);
  return t;
}

/** YYYY-MM-DD of a UTC midnight. */
const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function parseOperatorHistoryQuery(q: URLSearchParams, now: number): OperatorHistoryQuery {
  for (const k of q.keys()) if (!PARAMS.includes(k)) bad(`unknown parameter "${k}": ${PARAMS.join(', ')}`);
  const format = (q.get('format') ?? 'json') as 'json' | 'csv';
  if (format !== 'json' && format !== 'csv') bad(`format: json or csv, got "${format}"`);
  const tomorrow = now - (now % DAY_MS) + DAY_MS;
  const to = q.has('to') ? parseDate('to', q.get('to')!) : tomorrow;
  const from = q.has('from') ? parseDate('from', q.get('from')!) : to - DEFAULT_RANGE_DAYS * DAY_MS;
  if (!(to > from)) bad(`to must be after from (to is exclusive: from=${dateOf(from)}&to=${dateOf(from + DAY_MS)} is one day)`);
  const days = (to - from) / DAY_MS;
  if (days > MAX_RANGE_DAYS) bad(`the range is ${days} days: at most ${MAX_RANGE_DAYS} days per query`);
  return { from, to, format };
}

const emptyDay = (date: string): DayTotals => ({
  date,
  micro: 0,
  requests: 0,
  byokRequests: 0,
  modalities: { tts: { micro: 0, requests: 0 }, stt: { micro: 0, requests: 0 }, llm: { micro: 0, requests: 0 }, rag: { micro: 0, requests: 0 } },
});

/** Every live account's daily buckets of [from, to) summed by day; `accounts`: how many were read. */
export async function readOperatorHistory(ledger: Ledger, q: OperatorHistoryQuery, concurrency = ACCOUNT_READS): Promise<{ accounts: number; days: DayTotals[] }> {
  const days: DayTotals[] = [];
  const ids: string[] = [];
  for (let t = q.from; t < q.to; t += DAY_MS) {
    const date = dateOf(t);
    days.push(emptyDay(date));
    ids.push(date.replace(/-/g, ''));
  }
  const accounts = (await ledger.listAccounts()).filter((a) => !a.deletedAt);
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) {
      const got = await ledger.historyBuckets(accounts[next++]!.id, 'day', ids);
      got.forEach((b, i) => {
        if (!b) return;
        const d = days[i]!;
        d.micro += b.micro;
        d.requests += b.requests;
        d.byokRequests += b.byokRequests;
        for (const m of MODALITIES) {
          d.modalities[m].micro += b.modalities[m].micro;
          d.modalities[m].requests += b.modalities[m].requests;
        }
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, worker));
  return { accounts: accounts.length, days: days.filter((d) => d.requests > 0 || d.micro > 0) };
}

const used = (m: { micro: number; requests: number }) => m.requests > 0 || m.micro > 0;
const credits = (micro: number): number => micro / 1_000_000;

export function operatorHistoryJson(q: OperatorHistoryQuery, r: { accounts: number; days: DayTotals[] }): Record<string, unknown> {
  return {
    granularity: 'day',
    from: dateOf(q.from),
    to: dateOf(q.to),
    accounts: r.accounts,
    days: r.days.map((d) => ({
      date: d.date,
      credits: credits(d.micro),
      requests: d.requests,
      byokRequests: d.byokRequests,
      modalities: Object.fromEntries(SORTED_MODALITIES.filter((m) => used(d.modalities[m])).map((m) => [m, { credits: credits(d.modalities[m].micro), requests: d.modalities[m].requests }])),
    })),
  };
}

/** One row per day and modality used that day, by date then modality; credits exact to 6 places. */
export function operatorHistoryCsv(days: DayTotals[]): string {
  const lines = [OPERATOR_HISTORY_CSV_HEADER];
  for (const d of days) {
    for (const m of SORTED_MODALITIES) if (used(d.modalities[m])) lines.push(`${d.date},${m},${fmt(d.modalities[m].micro)},${d.modalities[m].requests}`);
  }
  return `${lines.join('\n')}\n`;
}
