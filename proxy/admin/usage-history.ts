// The usage history query (GET /v1/usage/history, GET /admin/accounts/:id/usage/history): parses
// and checks the query, picks the buckets that answer it (ledger/usage-history.ts), sums them
// into the asked granularity and zone, and renders JSON or CSV.
//
// Sources: `hour` reads the hourly buckets (UTC hours; in any zone a bucket is one hour, which
// starts on the local hour in every whole-hour zone and at :30/:45 in the others). `day` and
// `month` read the daily buckets when `tz` is the account's zone; in another zone with
// whole-hour offsets they are summed from hourly buckets (so only within their retention); in
// a zone with a :30/:45 offset that is not the account's they are refused (400): no bucket has
// those day boundaries.

import type { HistoryBucket } from '../../ledger/usage-history.js';
import { DAY_MS, HOUR_MS, dayId, hourId, isTimeZone, tzOffset, wallClock, zonedTime } from '../../ledger/usage-history.js';
import type { Ledger, UsageUnits } from '../../ledger/types.js';
import { MODALITIES, type Modality } from '../../pricing/types.js';
import { fmt } from '../metering/settlement.js';
import { AdminHttpError } from './router.js';

export type Granularity = 'hour' | 'day' | 'month';
export interface HistoryQuery {
  granularity: Granularity;
  tz: string;
  from: number;
  to: number;
  byModality: boolean;
  byModel: boolean;
  format: 'json' | 'csv';
}

/** Buckets read for one query at most (each is a small hash; a year of days is 366). */
export const MAX_SOURCE_BUCKETS = 10_000;
const UNIT_COLUMNS = ['chars', 'audioMs', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'queries'] as const;

const bad = (message: string): never => {
  throw new AdminHttpError(400, 'invalid_request', message);
};

/** A date (YYYY-MM-DD: midnight in `tz`), a local time (YYYY-MM-DDTHH:MM[:SS] in `tz`), or an ISO time with Z or an offset. */
export function parseInstant(name: string, v: string, tz: string): number {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (d) {
    const [y, mo, dd] = [Number(d[1]), Number(d[2]), Number(d[3])];
    if (mo < 1 || mo > 12 || dd < 1 || dd > 31) bad(`${name}: not a date: "${v}"`);
    return zonedTime(tz, y, mo, dd);
  }
  const local = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v);
  if (local) return zonedTime(tz, Number(local[1]), Number(local[2]), Number(local[3]), Number(local[4]), Number(local[5])) + Number(local[6] ?? 0) * 1000;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  return bad(`${name}: a date (2026-12-01), a local time (2026-12-01T09:00) or an ISO time with an offset (2026-12-01T09:00:00Z), got "${v}"`);
}

export function parseHistoryQuery(q: URLSearchParams, accountZone: string, period: { start: number; end: number }): HistoryQuery {
  for (const k of q.keys()) if (!['from', 'to', 'granularity', 'groupBy', 'tz', 'format'].includes(k)) bad(`unknown parameter "${k}": from, to, granularity, groupBy, tz, format`);
  const granularity = (q.get('granularity') ?? 'day') as Granularity;
  if (!['hour', 'day', 'month'].includes(granularity)) bad(`granularity: hour, day or month, got "${granularity}"`);
  const tz = q.get('tz') ?? accountZone;
  if (!isTimeZone(tz)) bad(`tz: an IANA time zone such as Europe/Paris or UTC, got "${tz}"`);
  const format = (q.get('format') ?? 'json') as 'json' | 'csv';
  if (format !== 'json' && format !== 'csv') bad(`format: json or csv, got "${format}"`);
  const groups = (q.get('groupBy') ?? '').split(',').filter(Boolean);
  for (const g of groups) if (g !== 'modality' && g !== 'model') bad(`groupBy: modality, model or modality,model, got "${g}"`);
  const from = q.has('from') ? parseInstant('from', q.get('from')!, tz) : period.start;
  const to = q.has('to') ? parseInstant('to', q.get('to')!, tz) : period.end;
  if (!(to > from)) bad('to must be after from');
  return { granularity, tz, from, to, byModality: groups.includes('modality'), byModel: groups.includes('model'), format };
}

/** The start of the bucket `t` falls in, and the next one's start. */
function bucketAt(t: number, g: Granularity, tz: string): [number, number] {
  if (g === 'hour') {
    const s = t - (((t % HOUR_MS) + HOUR_MS) % HOUR_MS);
    return [s, s + HOUR_MS];
  }
  const w = wallClock(t, tz);
  if (g === 'day') {
    const n = new Date(Date.UTC(w.y, w.mo - 1, w.d + 1));
    return [zonedTime(tz, w.y, w.mo, w.d), zonedTime(tz, n.getUTCFullYear(), n.getUTCMonth() + 1, n.getUTCDate())];
  }
  const n = new Date(Date.UTC(w.y, w.mo, 1));
  return [zonedTime(tz, w.y, w.mo, 1), zonedTime(tz, n.getUTCFullYear(), n.getUTCMonth() + 1, 1)];
}

/** Whether every offset of `tz` in [from, to) is whole hours (checked at each hour boundary's day). */
function wholeHours(tz: string, from: number, to: number): boolean {
  for (let t = from; t < to + DAY_MS; t += DAY_MS) if (tzOffset(Math.min(t, to), tz) % HOUR_MS !== 0) return false;
  return true;
}

export interface HistoryResult {
  query: HistoryQuery;
  buckets: Array<{ start: number; end: number; sum: HistoryBucket }>;
}

/** Reads and sums the buckets answering `q` (from and to snapped to the granularity's bucket bounds). */
export async function readHistory(ledger: Ledger, accountId: string, accountZone: string, q: HistoryQuery, opts: { now: number; hourlyRetentionDays: number }): Promise<HistoryResult> {
  const from = bucketAt(q.from, q.granularity, q.tz)[0];
  const lastEnd = bucketAt(q.to - 1, q.granularity, q.tz)[1];
  q.from = from;
  q.to = lastEnd;
  const out: Array<{ start: number; end: number; ids: string[] }> = [];
  const daily = q.granularity !== 'hour' && q.tz === accountZone;
  if (q.granularity !== 'hour' && !daily) {
    if (!wholeHours(q.tz, from, lastEnd)) bad(`tz: ${q.tz} has an offset that is not whole hours; days and months are kept in the account's zone (${accountZone}) only: ask with tz=${accountZone}, or granularity=hour`);
    const oldest = opts.now - opts.hourlyRetentionDays * DAY_MS;
    if (from < oldest - HOUR_MS) {
      bad(`days and months in a zone other than the account's (${accountZone}) are summed from hourly buckets, kept ${opts.hourlyRetentionDays} days: ask from ${new Date(oldest).toISOString()} or later, or with tz=${accountZone}`);
    }
  }
  let count = 0;
  for (let s = from; s < lastEnd; ) {
    const e = bucketAt(s, q.granularity, q.tz)[1];
    const ids: string[] = [];
    if (daily) {
      for (let d = s; d < e; d = bucketAt(d, 'day', q.tz)[1]) ids.push(dayId(d, q.tz));
    } else {
      for (let h = s; h < e; h += HOUR_MS) ids.push(hourId(h));
    }
    count += ids.length;
    if (count > MAX_SOURCE_BUCKETS) bad(`the range is too long for granularity=${q.granularity}: at most ${MAX_SOURCE_BUCKETS} ${daily ? 'days' : 'hours'} of buckets per query`);
    out.push({ start: s, end: e, ids });
    s = e;
  }
  const all = out.flatMap((b) => b.ids);
  const got = await ledger.historyBuckets(accountId, daily ? 'day' : 'hour', all);
  let i = 0;
  return {
    query: q,
    buckets: out.map((b) => {
      const parts: HistoryBucket[] = [];
      for (let k = 0; k < b.ids.length; k++, i++) if (got[i]) parts.push(got[i]!);
      return { start: b.start, end: b.end, sum: sumBuckets(parts) };
    }),
  };
}

export function sumBuckets(parts: HistoryBucket[]): HistoryBucket {
  const sum: HistoryBucket = { micro: 0, requests: 0, byokRequests: 0, modalities: { tts: { micro: 0, requests: 0 }, stt: { micro: 0, requests: 0 }, llm: { micro: 0, requests: 0 }, rag: { micro: 0, requests: 0 } }, groups: [] };
  const groups = new Map<string, HistoryBucket['groups'][number]>();
  for (const p of parts) {
    sum.micro += p.micro;
    sum.requests += p.requests;
    sum.byokRequests += p.byokRequests;
    for (const m of MODALITIES) {
      sum.modalities[m].micro += p.modalities[m].micro;
      sum.modalities[m].requests += p.modalities[m].requests;
    }
    for (const g of p.groups) {
      const k = `${g.modality}|${g.model}`;
      const s = groups.get(k);
      if (!s) groups.set(k, { ...g, units: { ...g.units } });
      else {
        s.micro += g.micro;
        s.requests += g.requests;
        addUnits(s.units, g.units);
      }
    }
  }
  sum.groups = [...groups.values()].sort((x, y) => x.modality.localeCompare(y.modality) || x.model.localeCompare(y.model));
  return sum;
}

function addUnits(to: UsageUnits, from: UsageUnits): void {
  for (const u of UNIT_COLUMNS) if (from[u]) to[u] = (to[u] ?? 0) + from[u]!;
}

/** `ms` as an ISO time in `tz` with its offset: 2026-12-03T00:00:00+01:00. */
export function isoIn(ms: number, tz: string): string {
  const off = tzOffset(ms, tz);
  const local = new Date(ms + off).toISOString().slice(0, 19);
  const a = Math.abs(off) / 60_000;
  return `${local}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

const credits = (micro: number): number => micro / 1_000_000;

interface Row {
  modality?: Modality;
  model?: string;
  micro: number;
  requests: number;
  units: UsageUnits;
}

/** A bucket's groups as asked: by modality, by model, by both, or none (one row: the bucket). */
function rows(b: HistoryBucket, q: HistoryQuery): Row[] {
  if (!q.byModality && !q.byModel) {
    const units: UsageUnits = {};
    for (const g of b.groups) addUnits(units, g.units);
    return [{ micro: b.micro, requests: b.requests, units }];
  }
  const m = new Map<string, Row>();
  for (const g of b.groups) {
    const k = `${q.byModality ? g.modality : ''}|${q.byModel ? g.model : ''}`;
    let r = m.get(k);
    if (!r) {
      r = { micro: 0, requests: 0, units: {} };
      if (q.byModality) r.modality = g.modality;
      if (q.byModel) r.model = g.model;
      m.set(k, r);
    }
    r.micro += g.micro;
    r.requests += g.requests;
    addUnits(r.units, g.units);
  }
  return [...m.values()];
}

export function historyJson(r: HistoryResult, now: number): Record<string, unknown> {
  const q = r.query;
  return {
    granularity: q.granularity,
    tz: q.tz,
    from: isoIn(q.from, q.tz),
    to: isoIn(q.to, q.tz),
    dataRefreshedAt: new Date(now).toISOString(),
    buckets: r.buckets
      .filter((b) => b.sum.requests > 0 || b.sum.micro > 0)
      .map((b) => {
        const out: Record<string, unknown> = {
          start: isoIn(b.start, q.tz),
          end: isoIn(b.end, q.tz),
          credits: credits(b.sum.micro),
          requests: b.sum.requests,
          byokRequests: b.sum.byokRequests,
        };
        const rs = rows(b.sum, q);
        if (q.byModality || q.byModel) {
          out.groups = rs.map((g) => ({ ...(g.modality ? { modality: g.modality } : {}), ...(g.model !== undefined ? { model: g.model } : {}), credits: credits(g.micro), requests: g.requests, units: g.units }));
        } else out.units = rs[0]!.units;
        return out;
      }),
  };
}

export const HISTORY_CSV_HEADER = `start,modality,model,credits,requests,${UNIT_COLUMNS.join(',')}`;

/** One row per bucket and group; credits exact to 6 places; empty buckets left out (as in JSON). */
export function historyCsv(r: HistoryResult): string {
  const lines = [HISTORY_CSV_HEADER];
  for (const b of r.buckets) {
    if (b.sum.requests === 0 && b.sum.micro === 0) continue;
    for (const g of rows(b.sum, r.query)) {
      const model = g.model ?? '';
      const m = /[",\n]/.test(model) ? `"${model.replace(/"/g, '""')}"` : model;
      lines.push([isoIn(b.start, r.query.tz), g.modality ?? '', m, fmt(g.micro), String(g.requests), ...UNIT_COLUMNS.map((u) => String(g.units[u] ?? 0))].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** µcr per day over the last 7 days (the 168 hourly buckets up to now's), and when the credits left run out at that rate. */
export async function burn(ledger: Ledger, accountId: string, now: number, u: { remainingMicro: number; period: { end: number } }): Promise<{ burnRateMicro: number; exhaustsAt: number | null }> {
  const ids: string[] = [];
  const current = now - (now % HOUR_MS);
  for (let h = current - 167 * HOUR_MS; h <= current; h += HOUR_MS) ids.push(hourId(h));
  const got = await ledger.historyBuckets(accountId, 'hour', ids);
  let total = 0;
  for (const b of got) if (b) total += b.micro;
  const perDay = Math.round(total / 7);
  let at: number | null = null;
  if (u.remainingMicro <= 0) at = total > 0 ? now : null;
  else if (perDay > 0) {
    const t = now + Math.ceil((u.remainingMicro / perDay) * DAY_MS);
    // Past the period's end the included credits renew: they do not run out this period.
    at = t < u.period.end ? t : null;
  }
  return { burnRateMicro: perDay, exhaustsAt: at };
}
